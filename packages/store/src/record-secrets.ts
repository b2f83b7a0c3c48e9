import { SecretUnreadableError, type SecretBox, type SecretContext } from '@hookrelay/secrets';

/** The records that hold secrets. Everything else the store writes holds none (API keys are hashes). */
export type SecretRecordKind = SecretContext['record'];

/** Which record a secret belongs to: bound to its ciphertext, so it cannot be moved to another. */
export interface RecordIdentity {
  recordId: string;
  subscriberId: string;
}

/** One secret in a record: the object holding it, the property, and its name in the AAD. */
interface SecretSlot {
  holder: Record<string, unknown>;
  key: string;
  field: string;
}

/** Outbound auth (contracts `endpointAuthSchema`): basic/digest password, api-key value, bearer token, OAuth client secret, AWS keys. */
const AUTH_SECRETS = ['password', 'value', 'token', 'clientSecret', 'secretAccessKey', 'sessionToken'] as const;
/**
 * Source verification (apps/api `verificationSchema`): the hmac, stripe, standard-webhooks, github,
 * pagerduty, zendesk and shopify `secret`, the slack signing secret, the basic password, the Twilio
 * auth token, the Meta app secret and verify token, the Twitter consumer secret. (SendGrid's
 * `publicKey` is public: it only verifies.)
 */
const VERIFICATION_SECRETS = ['secret', 'signingSecret', 'password', 'authToken', 'appSecret', 'verifyToken', 'consumerSecret'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function slotsOf(holder: unknown, names: readonly string[], fieldPrefix: string): SecretSlot[] {
  if (!isObject(holder)) return [];
  return names.filter((key) => holder[key] !== undefined).map((key) => ({ holder, key, field: `${fieldPrefix}${key}` }));
}

/** An endpoint's secrets: the signing secret, the retiring ones, and every auth secret. */
function endpointSlots(record: Record<string, unknown>): SecretSlot[] {
  const retiring = Array.isArray(record.previousSecrets) ? record.previousSecrets : [];
  return [
    ...slotsOf(record, ['secret'], ''),
    ...retiring.flatMap((entry) => slotsOf(entry, ['secret'], 'previousSecrets.')),
    ...slotsOf(record.auth, AUTH_SECRETS, 'auth.'),
  ];
}

/** A source's secrets: the ingest token, and every verification secret, header values included. */
function sourceSlots(record: Record<string, unknown>): SecretSlot[] {
  const verification = record.verification;
  const headers = isObject(verification) ? verification.headers : undefined;
  return [
    ...slotsOf(record, ['token'], ''),
    ...slotsOf(verification, VERIFICATION_SECRETS, 'verification.'),
    ...(isObject(headers) ? slotsOf(headers, Object.keys(headers), 'verification.headers.') : []),
  ];
}

const SLOTS: Record<SecretRecordKind, (record: Record<string, unknown>) => SecretSlot[]> = { endpoint: endpointSlots, source: sourceSlots };

function contextOf(kind: SecretRecordKind, identity: RecordIdentity, field: string): SecretContext {
  return { record: kind, recordId: identity.recordId, subscriberId: identity.subscriberId, field };
}

/**
 * A copy of `record` with every secret sealed. Values already sealed (a stored record's untouched
 * fields) are kept as they are.
 */
export function sealSecrets<T extends object>(
  box: SecretBox,
  kind: SecretRecordKind,
  identity: RecordIdentity,
  record: T,
): Record<string, unknown> {
  const copy = structuredClone(record) as Record<string, unknown>;
  for (const slot of SLOTS[kind](copy)) {
    const value = slot.holder[slot.key];
    if (typeof value === 'string') slot.holder[slot.key] = box.seal(value, contextOf(kind, identity, slot.field));
  }
  return copy;
}

/** How the caller holds the stored record it asks to open. */
export interface OpenSecretsOptions {
  /**
   * True when `stored` is the caller's alone: parsed from Redis for this call and handed to nobody
   * else. Its secrets are then opened in place, with no copy. A source record is read on every
   * request to its URL, before the rate limit; copying one with 5,400 small objects in its
   * `matches` (a record saved before the limits on them) took 1.4-2.3 ms of the event loop, where
   * parsing it took ~0.2 ms. Leave it false for a record anything else may hold (a cache, a list
   * another caller reads): opened secrets must never land in a shared copy.
   * @defaultValue false: a copy is opened and `stored` is left as it was.
   */
  owned?: boolean;
}

/** A stored record with every secret opened (a copy unless `owned`); SecretUnreadableError for the first that cannot be. */
export function openSecrets<T>(
  box: SecretBox,
  kind: SecretRecordKind,
  identity: RecordIdentity,
  stored: Record<string, unknown>,
  options: OpenSecretsOptions = {},
): T {
  const { record, unreadable } = openReadableSecrets(box, kind, identity, stored, options);
  if (unreadable) throw unreadable;
  return record as T;
}

/**
 * For views, which show a record whatever its secrets: a stored record (a copy unless `owned`) with
 * every secret that opens opened and every one that does not set to null, and the first such
 * failure (null when all opened). A caller that needs a secret uses openSecrets, which throws instead.
 */
export function openReadableSecrets(
  box: SecretBox,
  kind: SecretRecordKind,
  identity: RecordIdentity,
  stored: Record<string, unknown>,
  options: OpenSecretsOptions = {},
): { record: Record<string, unknown>; unreadable: SecretUnreadableError | null } {
  const record = options.owned ? stored : structuredClone(stored);
  let unreadable: SecretUnreadableError | null = null;
  for (const slot of SLOTS[kind](record)) {
    try {
      slot.holder[slot.key] = box.open(slot.holder[slot.key], contextOf(kind, identity, slot.field));
    } catch (err) {
      if (!(err instanceof SecretUnreadableError)) throw err;
      unreadable ??= err;
      slot.holder[slot.key] = null;
    }
  }
  return { record, unreadable };
}

/**
 * A stored record with every secret sealed under the first key (`npm run rekey`): secrets sealed
 * under another key, or stored as plain text, are opened and sealed again; the rest are kept.
 * `changed` is false when there was nothing to do. Throws SecretUnreadableError like openSecrets.
 */
export function resealSecrets(
  box: SecretBox,
  kind: SecretRecordKind,
  identity: RecordIdentity,
  stored: Record<string, unknown>,
): { record: Record<string, unknown>; changed: boolean } {
  const copy = structuredClone(stored);
  let changed = false;
  for (const slot of SLOTS[kind](copy)) {
    const value = slot.holder[slot.key];
    if (box.isCurrent(value)) continue;
    const context = contextOf(kind, identity, slot.field);
    slot.holder[slot.key] = box.seal(box.open(value, context), context);
    changed = true;
  }
  return { record: copy, changed };
}
