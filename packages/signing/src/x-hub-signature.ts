import { HUB_SIGNATURE_HEADER, hubSignature, type Bytes, type HubSignatureOptions } from '@hookrelay/verify';

/**
 * Headers for the x-hub-signature scheme (the signature itself is @hookrelay/verify's
 * `hubSignature`). The header carries a single value, so during rotation only the current secret
 * (the first) signs; receivers that still hold the old secret fail until they update, which is why
 * rotation for this scheme should be coordinated with the receiver.
 */
export function hubSignatureHeaders(secrets: readonly string[], body: Bytes, options: HubSignatureOptions): Record<string, string> {
  const current = secrets[0];
  if (current === undefined) throw new Error('x-hub-signature needs at least one secret');
  return { [HUB_SIGNATURE_HEADER]: hubSignature(current, body, options) };
}
