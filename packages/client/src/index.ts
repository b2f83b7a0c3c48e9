export { createHookrelayClient, type HookrelayClient, type HookrelayClientOptions } from './client';
export { HookrelayError, parseRetryAfter, type ErrorDetail } from './errors';
export type { RetryOptions } from './retrying-fetch';
export type * from './types';
