import ipaddr from 'ipaddr.js';
import { unbracket } from '../ssrf/check-target-url';
import type { HostResolver } from '../ssrf/host-resolver';
import { InFlightCap, type ReleaseSlot } from './in-flight-cap';

export type { ReleaseSlot } from './in-flight-cap';

export interface AddressSlotsOptions {
  /** Attempts in flight to one receiver address at once. */
  perAddress: number;
  /** Called with sleepers to wake when a slot frees (at most one per freed slot). */
  wake: (sleepers: string[]) => void;
  /** The worker's DNS, shared with its dispatcher so the cap is keyed by the address connected to. */
  resolver: HostResolver;
}

/**
 * Caps the attempts one worker has in flight to one receiver address, after DNS: `127.0.0.1:P`,
 * `localhost:P` and `[::1]:P` are one receiver, and so are a thousand wildcard-DNS hostnames that
 * resolve to one machine. Found by issue 15: a cap keyed by the URL's origin let one hanging host
 * hold every slot under three spellings of its name.
 *
 * An attempt over the cap does not wait: the caller parks its delivery (back to the head of its
 * lane, its endpoint asleep) and then names the endpoint's sleeper here (`parked`); each slot that
 * frees wakes one parked sleeper, so the endpoints sharing a full address take turns without
 * cycling through the queue, and their subscribers take turns too (InFlightCap's groups).
 */
export class AddressSlots {
  private readonly slots: InFlightCap;

  constructor(private readonly options: AddressSlotsOptions) {
    this.slots = new InFlightCap({ limit: options.perAddress, wake: options.wake, groupOf: subscriberOfSleeper });
  }

  /**
   * The receiver a URL reaches: its address as the worker will connect to it (loopback folded into
   * one), and port. A hostname that does not resolve (or not in time) is keyed by its name, and
   * the DNS failure comes with it: the caller fails its attempt with it rather than connect, which
   * would wait on DNS again. `caller` is whose turn and share the lookup takes (HostResolver): the
   * subscriber the delivery is for.
   */
  async lookUpReceiver(url: URL, caller?: string): Promise<{ receiver: string; dnsError?: Error }> {
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const host = unbracket(url.hostname);
    try {
      const address = (await this.options.resolver.lookup(host, caller))[0]?.address;
      if (address !== undefined) return { receiver: `${normalize(address)}:${port}` };
      return {
        receiver: `name:${host.toLowerCase()}:${port}`,
        dnsError: Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }),
      };
    } catch (err) {
      return { receiver: `name:${host.toLowerCase()}:${port}`, dnsError: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  /**
   * A slot for `receiver`, or null when it is full, or when `subscriber` holds its share of it while
   * other subscribers want it (InFlightCap's groups).
   */
  tryAcquire(receiver: string, subscriber: string): ReleaseSlot | null {
    return this.slots.tryTake(receiver, 1, subscriber);
  }

  /**
   * The slot an attempt gave back a moment ago (to fetch a fresh token after a 401), taken again if
   * the address has room: its share is not looked at, it is the same attempt.
   */
  retake(receiver: string, subscriber: string): ReleaseSlot | null {
    return this.slots.tryTake(receiver, 1, subscriber, { ignoreShare: true });
  }

  /**
   * `sleeper` was parked because `receiver` was full: it is woken when a slot frees, or at once if
   * one freed while it was being parked (that release found nobody to wake).
   */
  parked(receiver: string, sleeper: string): void {
    this.slots.parked(receiver, sleeper);
  }

  /** Attempts in flight to `receiver` (tests, metrics). */
  inFlight(receiver: string): number {
    return this.slots.inFlight(receiver);
  }

  /** Every parked sleeper, for a worker that stops: they must not wait for slots it will never free. */
  drainSleepers(): string[] {
    return this.slots.drainSleepers();
  }
}

/** One spelling per machine: IPv4-mapped IPv6 as IPv4, every loopback and unspecified address as one. */
function normalize(address: string): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return address.toLowerCase();
  }
  const range = parsed.range();
  if (range === 'loopback' || range === 'unspecified') return 'loopback';
  return parsed.toNormalizedString();
}

/** The subscriber of an endpoint's sleeper (`e|<subscriberId>|<endpointId>`, endpointSleeper); the whole name otherwise. */
function subscriberOfSleeper(sleeper: string): string {
  const parts = sleeper.split('|');
  return parts.length === 3 && parts[0] === 'e' ? (parts[1] as string) : sleeper;
}
