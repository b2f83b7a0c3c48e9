import { z } from 'zod';

/** One signature scheme per endpoint. The HMAC key is the secret's UTF-8 bytes unless stated. */
export const signatureConfigSchema = z.discriminatedUnion('scheme', [
  // Webex Connect: `x-hub-signature: <hex>`; prefix gives `sha256=<hex>` (WebSub, GitHub form).
  z
    .object({
      scheme: z.literal('x-hub-signature'),
      algorithm: z.enum(['sha256', 'sha512', 'sha1']).default('sha256'),
      prefix: z.boolean().default(false),
    })
    .strict(),
  // Zenduty: `X-SIGNATURE: base64(HMAC-SHA256)` over Python json.dumps of the payload.
  z.object({ scheme: z.literal('x-signature') }).strict(),
  // standardwebhooks.com: webhook-id, webhook-timestamp, webhook-signature (v1,<base64>).
  z.object({ scheme: z.literal('standard-webhooks') }).strict(),
  z.object({ scheme: z.literal('none') }).strict(),
]);

export type SignatureConfig = z.infer<typeof signatureConfigSchema>;
export type SignatureScheme = SignatureConfig['scheme'];

export const DEFAULT_SIGNATURE: SignatureConfig = Object.freeze({
  scheme: 'x-hub-signature',
  algorithm: 'sha256',
  prefix: false,
});
