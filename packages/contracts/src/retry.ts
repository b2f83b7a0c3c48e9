import { z } from 'zod';

/** Webex Connect's contract: 3 retries, 60 s apart, 10 s per attempt. */
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_RETRY_INTERVAL_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Exponential backoff and Retry-After never wait longer than this. */
export const MAX_RETRY_DELAY_MS = 3_600_000;
/**
 * The shortest wait between two automatic attempts of one delivery, whatever its endpoint's policy
 * says, unless the operator lowers it (HOOKRELAY_MIN_RETRY_INTERVAL_MS): a policy of 50 retries 1 ms
 * apart made 51 attempts in ~50 ms, each a request to the receiver, a record and a log line.
 */
export const DEFAULT_MIN_RETRY_INTERVAL_MS = 1_000;

/**
 * HOOKRELAY_MIN_RETRY_INTERVAL_MS, read alike by the API (which refuses policies under it) and the
 * worker (which waits at least it). At most the default interval: a floor over it would refuse
 * every endpoint created without a `retry.intervalMs` of its own.
 */
export const minRetryIntervalEnv = () =>
  z.coerce.number().int().min(1).max(DEFAULT_RETRY_INTERVAL_MS).default(DEFAULT_MIN_RETRY_INTERVAL_MS);

export const retryPolicySchema = z
  .object({
    maxRetries: z.number().int().min(0).max(50).default(DEFAULT_MAX_RETRIES),
    intervalMs: z.number().int().min(1).max(MAX_RETRY_DELAY_MS).default(DEFAULT_RETRY_INTERVAL_MS),
    backoff: z.enum(['fixed', 'exponential']).default('fixed'),
  })
  .strict();

export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/** A change to a policy: only the fields given change (no defaults fill the others in). */
export const retryPolicyPatchSchema = z
  .object({
    maxRetries: z.number().int().min(0).max(50),
    intervalMs: z.number().int().min(1).max(MAX_RETRY_DELAY_MS),
    backoff: z.enum(['fixed', 'exponential']),
  })
  .partial()
  .strict();

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxRetries: DEFAULT_MAX_RETRIES,
  intervalMs: DEFAULT_RETRY_INTERVAL_MS,
  backoff: 'fixed',
});

export const timeoutMsSchema = z.number().int().min(1).max(60_000).default(DEFAULT_TIMEOUT_MS);
