import { ZENDUTY_SIGNATURE_HEADER, zendutySignature, type Bytes } from '@hookrelay/verify';
import { pythonJsonDumpsOfJson } from './python-json';

/** Headers for x-signature: one value, so only the current secret signs (same rotation caveat as x-hub-signature). */
export function zendutySignatureHeaders(secrets: readonly string[], body: Bytes): Record<string, string> {
  const current = secrets[0];
  if (current === undefined) throw new Error('x-signature needs at least one secret');
  return { [ZENDUTY_SIGNATURE_HEADER]: zendutySignature(current, body) };
}

/**
 * Zenduty's receiver snippet signs `json.dumps(data)` of the *parsed* body, not the raw bytes. Sending exactly
 * that text makes the raw bytes and the re-serialised text identical, so both kinds of receiver verify.
 */
export function zendutyBody(payloadJson: string): string {
  return pythonJsonDumpsOfJson(payloadJson);
}
