// Outbound authentication on deliveries: what the receiver asks of us before it accepts a webhook.
export { applyPreparedAuth } from './request-auth';
export { authSecretHeaderNames, basicAuthorization, staticAuthHeaders } from './static-auth';
export { amzDate, signAwsSigV4 } from './aws-sigv4';
export { AuthFailure } from './auth-failure';
export { AuthenticatedSender, type AuthenticatedSend, type AuthenticatedSenderOptions } from './authenticated-send';
export { OAuthTokenCache, type OAuthTokenCacheOptions } from './oauth-token-cache';
export { requestClientCredentialsToken, type AccessToken, type ClientCredentialsAuth } from './oauth-token-request';
export { DigestSessions } from './digest-sessions';
export {
  digestAuthorization,
  digestResponse,
  formatNc,
  pickDigestChallenge,
  type DigestAlgorithm,
  type DigestChallenge,
} from './digest-response';
export { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate';
