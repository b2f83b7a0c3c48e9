/**
 * A receiver's answer went past a bound the worker holds every response to (interim responses,
 * bytes read). It has no code of its own in the classifier: an attempt it ends is a `network`
 * failure, like undici's own refusals of a response (HeadersOverflowError, HTTPParserError), and
 * retried by the endpoint's policy.
 */
export class ResponseLimitError extends Error {
  override readonly name = 'ResponseLimitError';
  readonly code = 'ERESPONSELIMIT';
}
