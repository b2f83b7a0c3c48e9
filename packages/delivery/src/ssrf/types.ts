/** How strict the guard is. One value is shared by the API (registration) and the worker (delivery). */
export type SsrfPolicy = {
  /**
   * Let targets resolve to loopback, private, link-local and other non-public addresses.
   * Only for tests and the local demo, whose receivers listen on 127.0.0.1.
   * @defaultValue false (callers pass it explicitly)
   */
  allowPrivate: boolean;
};

/** One resolved address, as `dns.promises.lookup(host, { all: true })` returns it. */
export type ResolvedAddress = { address: string; family: 4 | 6 };

/**
 * Resolves a hostname to every address it may connect to. The promise form of `dns.lookup`
 * (all: true) so a test can inject `{ 'evil.test': '127.0.0.1' }` in one line; rejecting with
 * `code: 'ENOTFOUND'` means "no such host".
 */
export type LookupFn = (hostname: string) => Promise<ResolvedAddress[]>;
