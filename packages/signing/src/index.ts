export { signatureHeaders, bodyForScheme, type SigningInput } from './signature-headers';
export { pythonJsonDumps } from './python-json';
export { newSigningSecret, checkSecretForScheme } from './secrets';
export { verifyHubSignature, hubSignature, HUB_SIGNATURE_HEADER, type VerifyHubSignatureOptions } from './x-hub-signature';
export { verifyZenduty, zendutySignature, ZENDUTY_SIGNATURE_HEADER, type VerifyZendutyOptions } from './x-signature';
export {
  verifyStandardWebhook,
  standardWebhooksSignature,
  STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
  type VerifyStandardWebhookOptions,
} from './standard-webhooks';
export type { HmacAlgorithm } from './constant-time';
