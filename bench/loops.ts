import { epochMs } from './clock';

/** Runs `total` calls of `send` from `clients` concurrent loops; resolves with the elapsed ms. */
export async function closedLoop(total: number, clients: number, send: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(clients, total) }, async () => {
      for (let i = next++; i < total; i = next++) await send(i);
    }),
  );
  return performance.now() - started;
}

/** Chunks [0, total) into ranges of `size`. */
export function chunks(total: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < total; start += size) out.push([start, Math.min(total, start + size)]);
  return out;
}

export interface OpenLoopResult {
  /** Each answered call's key (what the sink will see) and the epoch ms it started at. */
  starts: Array<[string, number]>;
  /** Call start to its answer (event accepted), ms, sorted. */
  answered: number[];
  sent: number;
  errors: number;
  firstError?: string;
  achievedRatePerS: number;
}

/**
 * Sends at a steady rate whatever the answers' speed (an open loop: a slow server does not slow the
 * sender down and hide its own latency). The clock is checked every millisecond and every call
 * that is due is started, stamped with the time it actually started.
 */
export async function openLoop(ratePerS: number, seconds: number, send: (index: number) => Promise<string>): Promise<OpenLoopResult> {
  const total = Math.round(ratePerS * seconds);
  const starts: Array<[string, number]> = [];
  const answered: number[] = [];
  const inflight: Promise<void>[] = [];
  let sent = 0;
  let errors = 0;
  let firstError: string | undefined;
  const began = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - began) * ratePerS) / 1000) + 1);
      while (sent < due) {
        const index = sent++;
        const t0 = epochMs();
        inflight.push(
          send(index).then(
            (key) => {
              starts.push([key, t0]);
              answered.push(epochMs() - t0);
            },
            (err: unknown) => {
              errors++;
              firstError ??= (err as Error).message;
            },
          ),
        );
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  const sendingMs = performance.now() - began;
  await Promise.all(inflight);
  answered.sort((a, b) => a - b);
  return { starts, answered, sent, errors, firstError, achievedRatePerS: (sent / Math.max(sendingMs, 1)) * 1000 };
}
