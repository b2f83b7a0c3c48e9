/** One answer of a resolver, as `dns.promises.lookup(host, { all: true })` gives it. */
export interface PoolDnsAddress {
  address: string;
  family: 4 | 6;
}

export interface ThreadPoolDnsOptions {
  /** Names that resolve, and to what. Others are ENOTFOUND, except the silent ones. */
  zone: Record<string, string>;
  /** Names ending in `.silent.test` get no answer: EAI_AGAIN after this long, their thread held throughout. */
  silentMs: number;
  /** @defaultValue 4, libuv's pool */
  threads?: number;
}

/**
 * A fake system resolver that behaves as getaddrinfo does under Node: it runs on libuv's pool of 4
 * threads, a call waits for a free thread and holds it until it answers, and a name whose
 * nameserver never answers holds its thread for the resolver's whole timeout. For tests of what
 * one subscriber's hostnames can do to everyone else's lookups. `asked` lists every call, in order.
 */
export function threadPoolDns(options: ThreadPoolDnsOptions): {
  resolve: (host: string) => Promise<PoolDnsAddress[]>;
  asked: string[];
} {
  const threads = options.threads ?? 4;
  let busy = 0;
  const waiting: Array<() => void> = [];
  const asked: string[] = [];
  const resolve = async (host: string): Promise<PoolDnsAddress[]> => {
    asked.push(host);
    if (busy < threads) busy++;
    else await new Promise<void>((handOver) => waiting.push(handOver));
    try {
      if (host.endsWith('.silent.test')) {
        await new Promise((r) => setTimeout(r, options.silentMs));
        throw Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: 'EAI_AGAIN' });
      }
      const address = options.zone[host];
      if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return [{ address, family: address.includes(':') ? 6 : 4 }];
    } finally {
      // The thread goes straight to the next call waiting for one, else back to the pool.
      const next = waiting.shift();
      if (next) next();
      else busy--;
    }
  };
  return { resolve, asked };
}
