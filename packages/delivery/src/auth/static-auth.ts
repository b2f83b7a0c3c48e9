import type { EndpointAuth } from '@hookrelay/contracts';

/** RFC 7617: `Basic base64(user-id ":" password)`, the pair as UTF-8. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * The headers of the schemes that need nothing but the endpoint's own config: basic, api-key and
 * bearer. The others (OAuth, Digest, SigV4) are added later, when the request is final or a token
 * or challenge is at hand.
 */
export function staticAuthHeaders(auth: EndpointAuth | undefined): Record<string, string> {
  switch (auth?.type) {
    case 'basic':
      return { authorization: basicAuthorization(auth.username, auth.password) };
    case 'api-key':
      return { [auth.header.toLowerCase()]: auth.value };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    default:
      return {};
  }
}

/**
 * Header names beyond the usual credential headers (authorization, x-amz-security-token ...)
 * whose values are secret for this endpoint: the API key's header, whatever it is called.
 */
export function authSecretHeaderNames(auth: EndpointAuth | undefined): string[] {
  return auth?.type === 'api-key' ? [auth.header.toLowerCase()] : [];
}
