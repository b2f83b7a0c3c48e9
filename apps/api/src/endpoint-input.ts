import { z } from 'zod';
import {
  customHeadersSchema,
  DEFAULT_SIGNATURE,
  endpointAuthSchema,
  EVENT_TYPE_PATTERN_RE,
  MAX_RATE_LIMIT_PER_SECOND,
  retryPolicyPatchSchema,
  retryPolicySchema,
  signatureConfigSchema,
  timeoutMsSchema,
} from '@hookrelay/contracts';

/**
 * Segments a pattern may have. Every publish matches its type against each distinct pattern of
 * the subscriber's endpoints of its length (TypeRouter), and 100 endpoints' 100 patterns of 100
 * segments cost ~6 ms a type; real types have a handful (`message.create.contact.chat`).
 */
export const MAX_PATTERN_SEGMENTS = 16;

export const eventTypePatternsSchema = z
  .array(
    z
      .string()
      .max(200)
      .regex(EVENT_TYPE_PATTERN_RE, 'must be dot-separated words or *, e.g. incident.* or receipt.sms.delivered')
      .refine((pattern) => pattern.split('.').length <= MAX_PATTERN_SEGMENTS, `must have at most ${MAX_PATTERN_SEGMENTS} segments`),
  )
  .min(1)
  .max(100);

export const verifyModeSchema = z.enum(['none', 'post', 'get', 'challenge']);

export const rateLimitSchema = z
  .object({
    perSecond: z
      .number()
      .min(0.01, 'must be at least 0.01 (one delivery every 100 seconds)')
      .max(MAX_RATE_LIMIT_PER_SECOND, `must be at most ${MAX_RATE_LIMIT_PER_SECOND}`),
  })
  .strict();

const common = {
  url: z.string().min(1).max(2048),
  description: z.string().max(500),
  eventTypes: eventTypePatternsSchema,
  signature: signatureConfigSchema,
  secret: z.string().min(1).max(256),
  headers: customHeadersSchema,
  /** Write-only secrets inside; see publicAuthView for what is shown. */
  auth: endpointAuthSchema,
  retry: retryPolicySchema,
  timeoutMs: timeoutMsSchema,
  verify: verifyModeSchema,
};

export const createEndpointSchema = z
  .object({
    url: common.url,
    description: common.description.default(''),
    eventTypes: common.eventTypes.default(['*']),
    signature: common.signature.default({ ...DEFAULT_SIGNATURE }),
    secret: common.secret.optional(),
    // prefault, not default: zod's JSON Schema drops a default set on a preprocess (atMostEntries).
    headers: common.headers.prefault({}),
    auth: common.auth.default({ type: 'none' }),
    retry: common.retry.default({ maxRetries: 3, intervalMs: 60_000, backoff: 'fixed' }),
    timeoutMs: common.timeoutMs,
    rateLimit: rateLimitSchema.optional(),
    verify: common.verify.default('none'),
  })
  .strict();

export const patchEndpointSchema = z
  .object({
    url: common.url.optional(),
    description: common.description.optional(),
    eventTypes: common.eventTypes.optional(),
    signature: common.signature.optional(),
    headers: common.headers.optional(),
    /** Replaces the whole auth config: secrets are write-only, so a change sends them again. */
    auth: common.auth.optional(),
    retry: retryPolicyPatchSchema.optional(),
    timeoutMs: z.number().int().min(1).max(60_000).optional(),
    /** null removes the limit. */
    rateLimit: rateLimitSchema.nullable().optional(),
    status: z.enum(['active', 'disabled']).optional(),
    verify: common.verify.optional(),
  })
  .strict();

export const rotateSecretSchema = z
  .object({
    /** How long the old secret keeps signing beside the new one. */
    graceMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600 * 1000)
      .default(24 * 3600 * 1000),
    secret: common.secret.optional(),
  })
  .strict();

export type CreateEndpointInput = z.infer<typeof createEndpointSchema>;
export type PatchEndpointInput = z.infer<typeof patchEndpointSchema>;
