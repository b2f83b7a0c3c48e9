// The SSRF guard: checkTargetUrl at registration (API), createGuardedAgent at delivery (worker).
export { blockedAddressReason } from './blocked-address';
export { checkTargetUrl, type CheckTargetUrlOptions, type CheckTargetUrlResult } from './check-target-url';
export { createGuardedAgent, type GuardedAgentOptions } from './guarded-agent';
export { createGuardedLookup, systemResolve, type GuardedLookup } from './guarded-lookup';
export { HostResolver, type HostResolverOptions } from './host-resolver';
export { SsrfBlockedError } from './ssrf-blocked-error';
export {
  DEFAULT_TLS_HANDSHAKE_BUDGET,
  handshakeFailureOf,
  markHandshakeFailed,
  TlsHandshakeBudget,
  tlsOrigin,
  urlsConnectedTo,
  type TlsHandshakeBudgetOptions,
  type TlsHandshakeLimits,
  type TlsPass,
  type TlsSendOutcome,
} from './tls-handshake-budget';
export type { LookupFn, ResolvedAddress, SsrfPolicy } from './types';
