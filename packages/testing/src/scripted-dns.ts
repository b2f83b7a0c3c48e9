import type { PoolDnsAddress } from './thread-pool-dns';

/**
 * A resolver whose answers the test gives: every call waits until the test answers or fails its
 * name (all the calls waiting for that name at once). `calls` lists every call, in order.
 */
export function scriptedDns(address = '198.51.100.7'): {
  calls: string[];
  resolve: (host: string) => Promise<PoolDnsAddress[]>;
  answer(host: string, addresses?: PoolDnsAddress[]): void;
  fail(host: string, code?: string): void;
} {
  const calls: string[] = [];
  const waiting = new Map<string, Array<{ answer: (a: PoolDnsAddress[]) => void; fail: (e: Error) => void }>>();
  return {
    calls,
    resolve: (host) =>
      new Promise((answer, fail) => {
        calls.push(host);
        waiting.set(host, [...(waiting.get(host) ?? []), { answer, fail }]);
      }),
    answer(host, addresses = [{ address, family: address.includes(':') ? 6 : 4 }]) {
      for (const w of waiting.get(host) ?? []) w.answer(addresses);
      waiting.delete(host);
    },
    fail(host, code = 'ENOTFOUND') {
      for (const w of waiting.get(host) ?? []) w.fail(Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code }));
      waiting.delete(host);
    },
  };
}
