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

export interface OpenLoopCalls {
  /** Each answered call's key (what the sink will see) and the epoch ms it started at. */
  starts: Array<[string, number]>;
  /** Call start to its answer (event accepted), ms, sorted. */
  answered: number[];
}

export interface OpenLoopResult extends OpenLoopCalls {
  /** The calls of the first `rampSeconds`, sent at the same rate and kept apart from the rest. */
  ramp: OpenLoopCalls;
  sent: number;
  errors: number;
  firstError?: string;
  achievedRatePerS: number;
}

/**
 * Sends at a steady rate whatever the answers' speed (an open loop: a slow server does not slow the
 * sender down and hide its own latency). The clock is checked every millisecond and every call
 * that is due is started, stamped with the time it actually started. The first `rampSeconds` of
 * calls go at the same rate, without a pause, and are reported apart (`ramp`): what a rate
 * costs once it holds, and what the step up to it costs, are two figures.
 */
export async function openLoop(
  ratePerS: number,
  seconds: number,
  send: (index: number) => Promise<string>,
  rampSeconds = 0,
): Promise<OpenLoopResult> {
  const rampCalls = Math.round(ratePerS * rampSeconds);
  const total = rampCalls + Math.round(ratePerS * seconds);
  const ramp: OpenLoopCalls = { starts: [], answered: [] };
  const held: OpenLoopCalls = { starts: [], answered: [] };
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
              const calls = index < rampCalls ? ramp : held;
              calls.starts.push([key, t0]);
              calls.answered.push(epochMs() - t0);
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
  ramp.answered.sort((a, b) => a - b);
  held.answered.sort((a, b) => a - b);
  return { ...held, ramp, sent, errors, firstError, achievedRatePerS: (sent / Math.max(sendingMs, 1)) * 1000 };
}
