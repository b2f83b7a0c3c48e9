import type { SignatureConfig } from '@hookrelay/contracts';
import type { Bytes } from '@hookrelay/verify';
import { standardWebhooksHeaders } from './standard-webhooks';
import { hubSignatureHeaders } from './x-hub-signature';
import { zendutyBody, zendutySignatureHeaders } from './x-signature';

export interface SigningInput {
  /** Stable across retries; standard-webhooks sends it as webhook-id so receivers can de-duplicate. */
  eventId: string;
  /** Unix seconds, injected by the caller: signing never reads the clock, so retries and tests are reproducible. */
  timestampSeconds: number;
  /**
   * The exact body that will be sent: its text (signed as UTF-8) or those bytes; for x-signature,
   * the output of `bodyForScheme`. Bytes save the encoding per signature of a large body.
   */
  body: Bytes;
  /** Current secret first, then secrets still in rotation grace. */
  secrets: readonly string[];
}

/** Headers to add to the request for the endpoint's scheme. Throws when a signing scheme has no secret. */
export function signatureHeaders(config: SignatureConfig, input: SigningInput): Record<string, string> {
  switch (config.scheme) {
    case 'x-hub-signature':
      return hubSignatureHeaders(input.secrets, input.body, { algorithm: config.algorithm, prefix: config.prefix });
    case 'x-signature':
      return zendutySignatureHeaders(input.secrets, input.body);
    case 'standard-webhooks':
      return standardWebhooksHeaders(input.secrets, input.eventId, input.timestampSeconds, input.body);
    case 'none':
      return {};
    default:
      return assertNever(config);
  }
}

/**
 * The body text to send for a payload stored as JSON text. Only x-signature rewrites it (into Python's
 * json.dumps form, see x-signature.ts); every other scheme signs and sends the stored bytes untouched.
 */
export function bodyForScheme(config: SignatureConfig, payloadJson: string): string {
  return config.scheme === 'x-signature' ? zendutyBody(payloadJson) : payloadJson;
}

function assertNever(config: never): never {
  throw new Error(`unknown signature scheme: ${JSON.stringify(config)}`);
}
