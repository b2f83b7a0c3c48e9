import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { atMostEntries } from '@hookrelay/contracts';
import { checkSecretForScheme } from '@hookrelay/signing';
import { isCursor, type SourceBase } from '@hookrelay/store';
import { eventTypeProblem } from './event-type-template';
import { countJsonNodes, matchPathProblem } from './match';

/** An HTTP header name (RFC 9110 token), kept lower case because Node hands headers over lower-cased. */
const headerName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name')
  .transform((name) => name.toLowerCase());

/** Secrets come from the sender (GitHub, Stripe, Slack choose them), so only their size is bounded. */
const senderSecret = z.string().min(1).max(512);

/** Slack and Stripe both reject timestamps older than five minutes by default; so do Zendesk's and SendGrid's recipes. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const toleranceSeconds = z.number().int().min(1).max(86_400).default(DEFAULT_TOLERANCE_SECONDS);

/**
 * Why a SendGrid verification key cannot be used, or null: it must be what SendGrid's settings
 * show, the base64 of a DER (SubjectPublicKeyInfo) ECDSA P-256 public key.
 */
export function sendgridKeyProblem(publicKey: string): string | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(publicKey)) return 'must be the base64 text SendGrid shows (a DER public key)';
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return 'must be an ECDSA P-256 public key';
    return null;
  } catch {
    return 'is not a DER public key';
  }
}

export const verificationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('header'),
      headers: atMostEntries(
        10,
        'headers',
        z.record(headerName, z.string().min(1).max(1024)).refine((h) => Object.keys(h).length >= 1, 'name 1 to 10 headers'),
      ),
    })
    .strict(),
  z
    .object({
      type: z.literal('hmac'),
      header: headerName,
      algorithm: z.enum(['sha256', 'sha512', 'sha1']).default('sha256'),
      encoding: z.enum(['hex', 'base64']).default('hex'),
      /** Text before the MAC in the header, e.g. `sha256=` for GitHub's X-Hub-Signature-256. */
      prefix: z.string().max(32).optional(),
      secret: senderSecret,
    })
    .strict(),
  z
    .object({
      type: z.literal('stripe'),
      secret: senderSecret,
      toleranceSeconds,
    })
    .strict(),
  z
    .object({
      type: z.literal('standard-webhooks'),
      secret: z
        .string()
        .max(200)
        .superRefine((secret, ctx) => {
          const problem = checkSecretForScheme('standard-webhooks', secret);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      toleranceSeconds,
    })
    .strict(),
  z.object({ type: z.literal('slack'), signingSecret: senderSecret }).strict(),
  z
    .object({
      type: z.literal('basic'),
      // RFC 7617: the user-id cannot contain a colon.
      username: z
        .string()
        .min(1)
        .max(200)
        .regex(/^[^:]*$/, 'must not contain ":"'),
      password: z.string().min(1).max(512),
    })
    .strict(),
  // The vendor presets (see providers.ts for their defaults and vendor-verifiers.ts for each check).
  z.object({ type: z.literal('github'), secret: senderSecret }).strict(),
  z.object({ type: z.literal('twilio'), authToken: senderSecret }).strict(),
  z.object({ type: z.literal('pagerduty'), secret: senderSecret }).strict(),
  z.object({ type: z.literal('zendesk'), secret: senderSecret, toleranceSeconds }).strict(),
  z
    .object({
      type: z.literal('sendgrid'),
      publicKey: z
        .string()
        .min(1)
        .max(1000)
        .superRefine((key, ctx) => {
          const problem = sendgridKeyProblem(key);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      toleranceSeconds,
      /** SendGrid posts a JSON array of events: publish each element as its own event (true) or the array as one. */
      splitEvents: z.boolean().default(true),
    })
    .strict(),
  z.object({ type: z.literal('facebook'), appSecret: senderSecret, verifyToken: senderSecret }).strict(),
  z.object({ type: z.literal('twitter'), consumerSecret: senderSecret }).strict(),
  z.object({ type: z.literal('shopify'), secret: senderSecret }).strict(),
]);

export type SourceVerification = z.infer<typeof verificationSchema>;

const eventTypeSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((value, ctx) => {
    const problem = eventTypeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * An expected value is a few fields of a webhook (a type, an id, a list of states): bounded, as the
 * source record holding them is read and parsed on every request to its URL, and listed whole.
 *
 * The total counts the path names too (each may be 500 characters, 10 KB for 20), and the expected
 * values are held to MAX_MATCH_NODES JSON values together: 20 paths of ~480 characters, each
 * expecting 270 empty objects (811 B, within the byte limits as they were), made a 26 KB record of
 * 5,400 objects that cost ~1.6-1.9 ms of the event loop to read on every request to its URL, before
 * the rate limit could refuse it, against ~30-45 µs for an ordinary source.
 */
export const MAX_MATCH_VALUE_BYTES = 4096;
export const MAX_MATCHES_BYTES = 16_384;
/** JSON values (each object, array and scalar counts one) in all of a source's expected values together. */
export const MAX_MATCH_NODES = 500;

const matchesSchema = atMostEntries(
  20,
  'matches',
  z.record(z.string().min(1).max(500), z.unknown()).superRefine((matches, ctx) => {
    const paths = Object.keys(matches);
    let total = 0;
    let nodes = 0;
    for (const path of paths) {
      total += Buffer.byteLength(path);
      const problem = matchPathProblem(path);
      if (problem) ctx.addIssue({ code: 'custom', path: [path], message: problem });
      if (matches[path] === undefined) {
        ctx.addIssue({ code: 'custom', path: [path], message: 'needs an expected JSON value' });
        continue;
      }
      const bytes = Buffer.byteLength(JSON.stringify(matches[path]));
      total += bytes;
      if (bytes > MAX_MATCH_VALUE_BYTES)
        ctx.addIssue({
          code: 'custom',
          path: [path],
          message: `expected value is ${bytes} bytes of JSON; at most ${MAX_MATCH_VALUE_BYTES}`,
        });
      // Counted without recursion, and no further than one past the limit.
      if (nodes <= MAX_MATCH_NODES) nodes += countJsonNodes(matches[path], MAX_MATCH_NODES + 1 - nodes);
    }
    if (total > MAX_MATCHES_BYTES)
      ctx.addIssue({
        code: 'custom',
        message: `paths and expected values are ${total} bytes together; at most ${MAX_MATCHES_BYTES}`,
      });
    if (nodes > MAX_MATCH_NODES)
      ctx.addIssue({
        code: 'custom',
        message: `expected values hold more than ${MAX_MATCH_NODES} JSON values together (each object, array, string, number, boolean and null counts one); match a few fields, not a whole document`,
      });
  }),
);

/**
 * Per-source request limits, counted in fixed windows. The defaults allow Slack's and GitHub's
 * bursts (tens per second) while stopping a runaway or hostile sender from filling the queue.
 */
export const DEFAULT_RATE_LIMIT = Object.freeze({ perSecond: 50, perMinute: 1200 });

const rateLimitSchema = z
  .object({
    perSecond: z.number().int().min(1).max(10_000).default(DEFAULT_RATE_LIMIT.perSecond),
    perMinute: z.number().int().min(1).max(600_000).default(DEFAULT_RATE_LIMIT.perMinute),
  })
  .strict();

/** A day: GitHub and Shopify redeliver a delivery with its id for longer than a few minutes. */
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 86_400;
/** A week at most: a dedupe entry is kept for its window, so the window bounds the storage. */
export const MAX_DEDUPE_WINDOW_SECONDS = 7 * 86_400;

/**
 * Duplicate suppression by a header the sender sets once per delivery and repeats on retries
 * (`X-GitHub-Delivery`, `X-Shopify-Webhook-Id`): a value seen on a published request within the
 * window is answered `duplicate` and not published again. Any source may set it; provider presets
 * default it.
 */
export const dedupeSchema = z
  .object({
    header: headerName,
    windowSeconds: z.number().int().min(1).max(MAX_DEDUPE_WINDOW_SECONDS).default(DEFAULT_DEDUPE_WINDOW_SECONDS),
  })
  .strict();

export type SourceDedupe = z.infer<typeof dedupeSchema>;

export const sourceFormatSchema = z.enum(['json', 'form', 'text']);
export type SourceFormat = z.infer<typeof sourceFormatSchema>;

/**
 * `eventType`, `format` and `dedupe` may be left out when the verification type has a default for
 * them (providers.ts): the defaults are stored with the source, so its views show them. `dedupe:
 * null` asks for no deduplication by header where the type would have one.
 */
export const createSourceSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    eventType: eventTypeSchema.optional(),
    verification: verificationSchema,
    // prefault, not default: zod's JSON Schema drops a default set on a preprocess (atMostEntries).
    matches: matchesSchema.prefault({}),
    format: sourceFormatSchema.optional(),
    rateLimit: rateLimitSchema.default({ ...DEFAULT_RATE_LIMIT }),
    dedupe: dedupeSchema.nullable().optional(),
  })
  .strict();

export const patchSourceSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    eventType: eventTypeSchema.optional(),
    /** Replaces the whole verification: its secrets are write-only, so a change sends them again. */
    verification: verificationSchema.optional(),
    matches: matchesSchema.optional(),
    format: sourceFormatSchema.optional(),
    /** Merged into the current limits: name only the window you change. */
    rateLimit: z
      .object({
        perSecond: rateLimitSchema.shape.perSecond.unwrap().optional(),
        perMinute: rateLimitSchema.shape.perMinute.unwrap().optional(),
      })
      .strict()
      .optional(),
    /** Replaces the dedupe settings; null turns deduplication by header off. */
    dedupe: dedupeSchema.nullable().optional(),
  })
  .strict();

export const listRequestsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).refine(isCursor, 'not a cursor from a previous page (omit it for the first page)').optional(),
  outcome: z.enum(['published', 'ignored', 'rejected', 'duplicate']).optional(),
});

/** A source as stored. Its verified state lives beside it (see SourceStore.markVerified). */
export interface Source extends SourceBase {
  name: string;
  eventType: string;
  verification: SourceVerification;
  matches: Record<string, unknown>;
  format: SourceFormat;
  rateLimit: { perSecond: number; perMinute: number };
  /** Absent: no deduplication by header (timestamped signatures are still refused when replayed). */
  dedupe?: SourceDedupe;
  updatedAt: number;
}
