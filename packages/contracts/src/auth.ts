import { z } from 'zod';
import { isReservedHeader } from './headers';

/** RFC 9110 token: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header field value: visible characters, spaces and tabs; never CR, LF or NUL (header injection). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** AWS region and service names: lower-case words joined by dashes (us-east-1, execute-api). */
const AWS_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const fieldValue = (max: number) => z.string().max(max).regex(FIELD_VALUE, 'must not contain CR, LF or control characters');
const secret = (max: number) => fieldValue(max).min(1);

/** RFC 7617: the user-id of Basic may not contain a colon (the password follows the first one). */
const username = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^:\r\n\0]*$/, 'must not contain a colon or line breaks');
const password = z
  .string()
  .max(1024)
  .regex(/^[^\r\n\0]*$/, 'must not contain line breaks');

const apiKeyHeader = z
  .string()
  .min(1)
  .max(256)
  .regex(TOKEN, 'header name must be an HTTP token (no spaces or separators)')
  .refine((name) => !isReservedHeader(name), 'header is set by Hookrelay and cannot carry an API key');

const schemes = [
  z.object({ type: z.literal('none') }).strict(),
  // Zenduty, Webex Connect; also what a Web1on1 URL with user:pass@ becomes.
  z.object({ type: z.literal('basic'), username, password }).strict(),
  z.object({ type: z.literal('api-key'), header: apiKeyHeader, value: secret(8192) }).strict(),
  z.object({ type: z.literal('bearer'), token: secret(8192) }).strict(),
  // RFC 6749 section 4.4. clientAuth: client_secret_post (body) or client_secret_basic (basic).
  z
    .object({
      type: z.literal('oauth2-client-credentials'),
      tokenUrl: z.string().min(1).max(2048),
      clientId: z.string().min(1).max(512),
      clientSecret: z.string().min(1).max(2048),
      scope: z.string().min(1).max(1024).optional(),
      audience: z.string().min(1).max(1024).optional(),
      clientAuth: z.enum(['body', 'basic']).default('body'),
    })
    .strict(),
  // RFC 7616, qop=auth, MD5 or SHA-256 as the receiver's challenge asks.
  z.object({ type: z.literal('digest'), username, password }).strict(),
  z
    .object({
      type: z.literal('aws-sigv4'),
      accessKeyId: z
        .string()
        .min(1)
        .max(128)
        .regex(/^[A-Za-z0-9]+$/, 'must be letters and digits'),
      secretAccessKey: secret(256),
      region: z.string().min(1).max(64).regex(AWS_NAME, 'must be an AWS region name such as eu-west-1'),
      service: z.string().min(1).max(64).regex(AWS_NAME, 'must be an AWS service name such as execute-api'),
      sessionToken: secret(4096).optional(),
    })
    .strict(),
] as const;

const AUTH_TYPES = schemes.map((s) => s.shape.type.value);

export const AUTHORIZATION_CODE_REFUSAL =
  'the OAuth 2.0 authorization-code grant is not supported: it needs a person to sign in through a browser, ' +
  'and a webhook dispatcher has no user to send there; use oauth2-client-credentials';

function asksForAuthorizationCode(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const grant = v.grantType ?? v.grant_type;
  const named = (x: unknown) => typeof x === 'string' && /authori[sz]ation[-_ ]?code/i.test(x);
  return named(v.type) || named(grant);
}

/**
 * How the worker authenticates to the receiver. Secrets here (password, value, token,
 * clientSecret, secretAccessKey, sessionToken) are write-only: the API never shows them,
 * logs never carry them, attempt history redacts the headers they end up in.
 *
 * One error map instead of refinements, so the JSON Schema (OpenAPI) stays a plain oneOf: an
 * unknown type is told the list of schemes, the authorization-code grant why it is refused.
 */
export const endpointAuthSchema = z.discriminatedUnion('type', schemes, {
  error: (issue) => {
    if (issue.code !== 'invalid_union') return undefined;
    return asksForAuthorizationCode(issue.input) ? AUTHORIZATION_CODE_REFUSAL : `must be one of ${AUTH_TYPES.join(', ')}`;
  },
});

export type EndpointAuth = z.output<typeof endpointAuthSchema>;
export type EndpointAuthType = EndpointAuth['type'];

export const NO_AUTH: EndpointAuth = Object.freeze({ type: 'none' });

/**
 * What may be shown of an auth config: the scheme and its non-secret fields, with
 * `configured: true` where a secret is held. Built from an allow-list, so a field added later
 * stays hidden until someone decides it is safe to show.
 */
export function publicAuthView(auth: EndpointAuth | undefined) {
  const a = auth ?? NO_AUTH;
  switch (a.type) {
    case 'none':
      return { type: a.type };
    case 'basic':
    case 'digest':
      return { type: a.type, username: a.username, configured: true };
    case 'api-key':
      return { type: a.type, header: a.header, configured: true };
    case 'bearer':
      return { type: a.type, configured: true };
    case 'oauth2-client-credentials':
      return {
        type: a.type,
        tokenUrl: a.tokenUrl,
        clientId: a.clientId,
        ...(a.scope !== undefined ? { scope: a.scope } : {}),
        ...(a.audience !== undefined ? { audience: a.audience } : {}),
        clientAuth: a.clientAuth,
        configured: true,
      };
    case 'aws-sigv4':
      return {
        type: a.type,
        accessKeyId: a.accessKeyId,
        region: a.region,
        service: a.service,
        hasSessionToken: a.sessionToken !== undefined,
        configured: true,
      };
  }
}

export type PublicAuthView = ReturnType<typeof publicAuthView>;
