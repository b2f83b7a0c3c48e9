export { signatureHeaders, bodyForScheme, type SigningInput } from './signature-headers';
export { pythonJsonDumps, pythonJsonDumpsOfJson } from './python-json';
export { newSigningSecret, checkSecretForScheme } from './secrets';
// Each scheme's signature and its check are written once, in @hookrelay/verify (the package receivers
// install); the server's own checks use them from there, re-exported here for its callers.
export {
  verifyHubSignature,
  hubSignature,
  HUB_SIGNATURE_HEADER,
  verifyZenduty,
  zendutySignature,
  ZENDUTY_SIGNATURE_HEADER,
  verifyStandardWebhook,
  standardWebhooksSignature,
  STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
  type HmacAlgorithm,
  type VerifyHubSignatureOptions,
  type VerifyZendutyOptions,
  type VerifyStandardWebhookOptions,
} from '@hookrelay/verify';
