export {
  verifyWebhook,
  verifySignature,
  WebhookVerificationError,
  type HookrelayWebhook,
  type VerifyWebhookOptions,
  type WebhookScheme,
  type WebhookVerificationErrorCode,
} from './verify-webhook';
export { hookrelayWebhook, type HookrelayWebhookOptions, type HookrelayRequest, type NextFunction } from './middleware';
export {
  verifyHubSignature,
  hubSignature,
  HUB_SIGNATURE_HEADER,
  type HubSignatureOptions,
  type VerifyHubSignatureOptions,
} from './x-hub-signature';
export { verifyZenduty, zendutySignature, ZENDUTY_SIGNATURE_HEADER, type VerifyZendutyOptions } from './x-signature';
export {
  verifyStandardWebhook,
  checkStandardWebhook,
  standardWebhooksSignature,
  standardWebhooksKey,
  STANDARD_WEBHOOKS_SECRET_PREFIX,
  STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
  type VerifyStandardWebhookOptions,
} from './standard-webhooks';
export { readHeader, type HeaderSource } from './headers';
export { hmac, safeEqualText, type Bytes, type HmacAlgorithm, type Secrets } from './hmac';
