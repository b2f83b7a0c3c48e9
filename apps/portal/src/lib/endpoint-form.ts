import type { AuthType, Endpoint, RetryPolicy, SignatureConfig, SignatureScheme, VerifyMode } from './api-types';

/** Every field any auth scheme has; the form shows those of the chosen type. */
export interface AuthFields {
  type: AuthType;
  username: string;
  password: string;
  header: string;
  value: string;
  token: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  audience: string;
  clientAuth: 'body' | 'basic';
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
  sessionToken: string;
}

/** The endpoint form as typed: strings where the person types numbers, so nothing is lost. */
export interface EndpointFormState {
  url: string;
  description: string;
  eventTypes: string[];
  scheme: SignatureScheme;
  algorithm: 'sha256' | 'sha512' | 'sha1';
  prefix: boolean;
  /** Create only; empty lets the server generate one. */
  secret: string;
  headers: Array<{ name: string; value: string }>;
  auth: AuthFields;
  /** Auth secrets are write-only: an edit sends `auth` only when the person changed it. */
  authChanged: boolean;
  maxRetries: string;
  /** Typed in seconds (people think in seconds); the API takes milliseconds. */
  intervalSeconds: string;
  backoff: RetryPolicy['backoff'];
  /** Typed in seconds, like the interval. */
  timeoutSeconds: string;
  /** Deliveries a second at most; empty for no limit. */
  ratePerSecond: string;
  verify: VerifyMode;
}

export const EMPTY_AUTH: AuthFields = {
  type: 'none',
  username: '',
  password: '',
  header: '',
  value: '',
  token: '',
  tokenUrl: '',
  clientId: '',
  clientSecret: '',
  scope: '',
  audience: '',
  clientAuth: 'body',
  accessKeyId: '',
  secretAccessKey: '',
  region: '',
  service: '',
  sessionToken: '',
};

/** A new endpoint's form, with the server's own defaults filled in so they are visible. */
export function newEndpointForm(): EndpointFormState {
  return {
    url: '',
    description: '',
    eventTypes: [],
    scheme: 'x-hub-signature',
    algorithm: 'sha256',
    prefix: false,
    secret: '',
    headers: [],
    auth: { ...EMPTY_AUTH },
    authChanged: false,
    maxRetries: '3',
    intervalSeconds: '60',
    backoff: 'fixed',
    timeoutSeconds: '10',
    ratePerSecond: '',
    verify: 'none',
  };
}

export function formFromEndpoint(endpoint: Endpoint): EndpointFormState {
  const a = endpoint.auth;
  const sig = endpoint.signature;
  return {
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: [...endpoint.eventTypes],
    scheme: sig.scheme,
    algorithm: sig.scheme === 'x-hub-signature' ? sig.algorithm : 'sha256',
    prefix: sig.scheme === 'x-hub-signature' ? sig.prefix : false,
    secret: '',
    headers: Object.entries(endpoint.headers).map(([name, value]) => ({ name, value })),
    auth: {
      ...EMPTY_AUTH,
      type: a.type,
      username: a.username ?? '',
      header: a.header ?? '',
      tokenUrl: a.tokenUrl ?? '',
      clientId: a.clientId ?? '',
      scope: a.scope ?? '',
      audience: a.audience ?? '',
      clientAuth: a.clientAuth ?? 'body',
      accessKeyId: a.accessKeyId ?? '',
      region: a.region ?? '',
      service: a.service ?? '',
    },
    authChanged: false,
    maxRetries: String(endpoint.retry.maxRetries),
    intervalSeconds: String(endpoint.retry.intervalMs / 1000),
    backoff: endpoint.retry.backoff,
    timeoutSeconds: String(endpoint.timeoutMs / 1000),
    ratePerSecond: endpoint.rateLimit ? String(endpoint.rateLimit.perSecond) : '',
    verify: endpoint.verify,
  };
}

/** A typed number, or the text itself so the API can say what is wrong with it. */
function numberOrText(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

/** Seconds as typed -> the API's milliseconds (whole ones); text that is not a number goes on for the API to name. */
function millisOrText(seconds: string): number | string | undefined {
  const value = numberOrText(seconds);
  return typeof value === 'number' ? Math.round(value * 1000) : value;
}

function optional<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

export function signatureOf(form: EndpointFormState): SignatureConfig {
  return form.scheme === 'x-hub-signature'
    ? { scheme: form.scheme, algorithm: form.algorithm, prefix: form.prefix }
    : { scheme: form.scheme };
}

/** The auth object the API takes for the chosen type (only that type's fields). */
export function authOf(fields: AuthFields): Record<string, unknown> {
  const f = fields;
  switch (f.type) {
    case 'none':
      return { type: 'none' };
    case 'basic':
    case 'digest':
      return { type: f.type, username: f.username, password: f.password };
    case 'api-key':
      return { type: f.type, header: f.header, value: f.value };
    case 'bearer':
      return { type: f.type, token: f.token };
    case 'oauth2-client-credentials':
      return {
        type: f.type,
        tokenUrl: f.tokenUrl,
        clientId: f.clientId,
        clientSecret: f.clientSecret,
        clientAuth: f.clientAuth,
        ...optional({ scope: f.scope, audience: f.audience }),
      };
    case 'aws-sigv4':
      return {
        type: f.type,
        accessKeyId: f.accessKeyId,
        secretAccessKey: f.secretAccessKey,
        region: f.region,
        service: f.service,
        ...optional({ sessionToken: f.sessionToken }),
      };
  }
}

export function headersOf(form: EndpointFormState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of form.headers) if (h.name.trim() !== '' || h.value !== '') out[h.name.trim()] = h.value;
  return out;
}

/** POST .../endpoints body. Empty optional fields are left out so the server's defaults apply. */
export function createBody(form: EndpointFormState): Record<string, unknown> {
  return {
    url: form.url.trim(),
    ...optional({ description: form.description }),
    ...(form.eventTypes.length ? { eventTypes: form.eventTypes } : {}),
    signature: signatureOf(form),
    ...optional({ secret: form.secret }),
    headers: headersOf(form),
    auth: authOf(form.auth),
    retry: optional({ maxRetries: numberOrText(form.maxRetries), intervalMs: millisOrText(form.intervalSeconds), backoff: form.backoff }),
    ...optional({ timeoutMs: millisOrText(form.timeoutSeconds) }),
    ...(form.ratePerSecond.trim() !== '' ? { rateLimit: { perSecond: numberOrText(form.ratePerSecond) } } : {}),
    verify: form.verify,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const sortedEntries = (o: Record<string, string>) => Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));

/** PATCH .../endpoints/:eid body: only what differs from the endpoint as loaded. */
export function patchBody(form: EndpointFormState, original: Endpoint): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (form.url.trim() !== original.url) body.url = form.url.trim();
  if (form.description !== original.description) body.description = form.description;
  if (!same(form.eventTypes, original.eventTypes)) body.eventTypes = form.eventTypes;
  if (!same(signatureOf(form), original.signature)) body.signature = signatureOf(form);
  const headers = headersOf(form);
  if (!same(sortedEntries(headers), sortedEntries(original.headers))) body.headers = headers;
  if (form.authChanged) body.auth = authOf(form.auth);
  const retry: Record<string, unknown> = {};
  const maxRetries = numberOrText(form.maxRetries);
  const intervalMs = millisOrText(form.intervalSeconds);
  if (maxRetries !== original.retry.maxRetries) retry.maxRetries = maxRetries ?? null;
  if (intervalMs !== original.retry.intervalMs) retry.intervalMs = intervalMs ?? null;
  if (form.backoff !== original.retry.backoff) retry.backoff = form.backoff;
  if (Object.keys(retry).length) body.retry = retry;
  const timeoutMs = millisOrText(form.timeoutSeconds);
  if (timeoutMs !== original.timeoutMs) body.timeoutMs = timeoutMs ?? null;
  const perSecond = numberOrText(form.ratePerSecond);
  if (perSecond !== (original.rateLimit?.perSecond ?? undefined)) body.rateLimit = perSecond === undefined ? null : { perSecond };
  if (form.verify !== original.verify) body.verify = form.verify;
  return body;
}

/** Which form section an API error detail path (`retry.intervalMs`, `headers.X-Team`) belongs to. */
export function sectionOfPath(path: string): string {
  return path.split('.')[0] ?? '';
}
