import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { LogHandOver } from '@hookrelay/observability';
import { DEFAULT_METRICS_TIMEOUT_MS, DeliveryThread } from './delivery-thread-host';

/**
 * A stand-in for the delivery thread: it answers a metrics request after `delayMs` (never, when
 * null), with one counter, as delivery-thread.ts answers with its registry.
 */
function fakeThread(delayMs: number | null): Worker {
  const code = `
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (m) => {
      if (m.type !== 'metrics' || ${delayMs === null}) return;
      setTimeout(() => parentPort.postMessage({ type: 'metrics', id: m.id, json: [
        { name: 'hookrelay_deliveries_total', help: 'd', type: 'counter', aggregator: 'sum', values: [{ labels: { outcome: 'delivered' }, value: 7 }] },
      ] }), ${delayMs ?? 0});
    });`;
  return new Worker(code, { eval: true });
}

describe("DeliveryThread's metrics", () => {
  const threads: Worker[] = [];
  afterEach(async () => {
    for (const thread of threads.splice(0)) await thread.terminate();
  });
  const attach = (delayMs: number | null, metricsTimeoutMs: number) => {
    const thread = fakeThread(delayMs);
    threads.push(thread);
    return DeliveryThread.attach(thread, { onUnexpectedExit: () => undefined, metricsTimeoutMs });
  };

  it("answers the thread's series when it answers in time", async () => {
    const json = await attach(0, 5000).metrics();
    expect(json).toEqual([
      expect.objectContaining({ name: 'hookrelay_deliveries_total', values: [{ labels: { outcome: 'delivered' }, value: 7 }] }),
    ]);
  });

  it('answers null after metricsTimeoutMs when the thread does not answer, so /metrics is not held with it', async () => {
    const host = attach(null, 50);
    const started = Date.now();
    expect(await host.metrics()).toBeNull();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("drops an answer that comes after the timeout, rather than take it for the next request's", async () => {
    const host = attach(150, 100);
    expect(await host.metrics()).toBeNull();
    // Sent at ~100 ms: the first request's late answer arrives at ~150 ms, this one's own at ~250 ms,
    // after its timeout at ~200 ms. Taking the late answer would make this an array.
    expect(await host.metrics()).toBeNull();
  });

  it('waits 2 s by default, well under the 10 s Prometheus gives a scrape', () => {
    expect(DEFAULT_METRICS_TIMEOUT_MS).toBe(2000);
  });
});

/** Resolves once `done()` holds, checked every 5 ms; fails after 5 s. */
async function waitFor(done: () => boolean): Promise<void> {
  const until = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > until) throw new Error('waited 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A stand-in thread running `code` (with `parentPort` in scope), as delivery-thread.ts runs after it started. */
function scriptedThread(code: string, workerData?: unknown): Worker {
  return new Worker(`const { parentPort, workerData } = require('node:worker_threads');\n${code}`, { eval: true, workerData });
}

describe("DeliveryThread's lifecycle", () => {
  const threads: Worker[] = [];
  afterEach(async () => {
    for (const thread of threads.splice(0)) await thread.terminate();
  });
  const attach = (code: string) => {
    const thread = scriptedThread(code);
    threads.push(thread);
    const exits: Error[] = [];
    const host = DeliveryThread.attach(thread, { onUnexpectedExit: (err) => exits.push(err), metricsTimeoutMs: 10_000 });
    const exited = new Promise<number>((resolve) => thread.once('exit', resolve));
    return { host, exits, exited };
  };

  it('reports a thread that exits on its own once, and answers a metrics request waiting on it with null at once', async () => {
    // Exits when asked for metrics, without answering.
    const { host, exits, exited } = attach(`parentPort.on('message', (m) => { if (m.type === 'metrics') process.exit(3); });`);
    const started = Date.now();
    expect(await host.metrics()).toBeNull();
    expect(Date.now() - started).toBeLessThan(5000); // not the 10 s metrics timeout
    await exited;
    expect(exits.map((e) => e.message)).toEqual(['the delivery worker thread exited with code 3']);
    expect(await host.metrics()).toBeNull();
  });

  it("reports a thread's uncaught error once (not again for the exit that follows it)", async () => {
    const { exits, exited } = attach(`setTimeout(() => { throw new Error('boom in the worker'); }, 10);`);
    await exited;
    // 'exit' follows 'error' in the same turn or the next: wait one more turn before counting.
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits.map((e) => e.message)).toEqual(['boom in the worker']);
  });

  it('closes without reporting an unexpected exit when the thread answers closed', async () => {
    const { host, exits } = attach(
      `parentPort.on('message', (m) => { if (m.type === 'close') parentPort.postMessage({ type: 'closed' }); });`,
    );
    await expect(host.close(1000)).resolves.toBeUndefined();
    expect(exits).toEqual([]);
  });

  it("rejects close() with the thread's reason when the worker failed while stopping, so npm start does not exit 0", async () => {
    const { host, exits } = attach(
      `parentPort.on('message', (m) => { if (m.type === 'close') parentPort.postMessage({ type: 'closed', error: 'Error: redis went away' }); });`,
    );
    await expect(host.close(1000)).rejects.toThrow('the delivery worker did not stop cleanly: Error: redis went away');
    expect(exits).toEqual([]);
  });

  it('rejects close() when the thread throws while stopping', async () => {
    const { host, exits } = attach(`parentPort.on('message', (m) => { if (m.type === 'close') throw new Error('stuck on close'); });`);
    await expect(host.close(1000)).rejects.toThrow('stuck on close');
    expect(exits).toEqual([]);
  });

  it('writes the lines a thread logs before it has started (a Redis not reachable yet), and the rest after', async () => {
    const written: string[] = [];
    const thread = scriptedThread(`
      parentPort.postMessage({ type: 'log', lines: '{"msg":"redis.error"}\\n' });
      setTimeout(() => {
        parentPort.postMessage({ type: 'started' });
        parentPort.postMessage({ type: 'log', lines: '{"msg":"worker.started"}\\n' });
      }, 20);`);
    threads.push(thread);
    const host = await DeliveryThread.startOn(thread, {
      onUnexpectedExit: () => undefined,
      logDestination: { write: (line: string) => written.push(line) },
    });
    await waitFor(() => written.length === 2);
    expect(written.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['redis.error', 'worker.started']);
    await host.close(1000).catch(() => undefined);
  });

  it('rejects a start the thread ends before saying started, with its lines written, and reports no unexpected exit', async () => {
    const written: string[] = [];
    const exits: Error[] = [];
    const exiting = scriptedThread(
      `parentPort.postMessage({ type: 'log', lines: '{"msg":"redis.unreachable"}\\n' }); setTimeout(() => process.exit(1), 20);`,
    );
    const throwing = scriptedThread(`setTimeout(() => { throw new Error('bad config'); }, 20);`);
    threads.push(exiting, throwing);
    const throwingExited = new Promise((resolve) => throwing.once('exit', resolve));
    const options = { onUnexpectedExit: (err: Error) => exits.push(err), logDestination: { write: (line: string) => written.push(line) } };
    const [exited, threw] = await Promise.allSettled([DeliveryThread.startOn(exiting, options), DeliveryThread.startOn(throwing, options)]);
    expect(exited).toEqual({ status: 'rejected', reason: new Error('the delivery worker thread exited with code 1 before it started') });
    expect(threw).toEqual({ status: 'rejected', reason: new Error('bad config') });
    await throwingExited; // the 'exit' after the error is not reported either
    expect(written).toEqual(['{"msg":"redis.unreachable"}\n']);
    expect(exits).toEqual([]);
  });

  it('gets the lines a thread logged in the turn it crashed in (forwardingLogDestination flushes on exit)', async () => {
    const written: string[] = [];
    const logger = JSON.stringify(join(__dirname, '..', '..', '..', 'packages', 'observability', 'src', 'logger.ts'));
    const thread = scriptedThread(`
      require('tsx/cjs/api').register();
      const { forwardingLogDestination } = require(${logger});
      const destination = forwardingLogDestination((lines) => parentPort.postMessage({ type: 'log', lines }));
      parentPort.postMessage({ type: 'started' });
      setTimeout(() => {
        destination.write('{"msg":"the last words"}\\n');
        throw new Error('crashed');
      }, 20);`);
    threads.push(thread);
    const exits: Error[] = [];
    await DeliveryThread.startOn(thread, {
      onUnexpectedExit: (err) => exits.push(err),
      logDestination: { write: (line: string) => written.push(line) },
    });
    await waitFor(() => exits.length === 1);
    await waitFor(() => written.length === 1);
    expect(JSON.parse(written[0]!)).toEqual({ msg: 'the last words' });
  });

  it("writes the thread's log lines to its log destination, whole and in order, before it answers close()", async () => {
    const written: string[] = [];
    const thread = scriptedThread(`
      const long = 'x'.repeat(20000);
      for (let i = 0; i < 3; i++) parentPort.postMessage({ type: 'log', lines: JSON.stringify({ msg: 'line', i, long }) + '\\n' });
      parentPort.on('message', (m) => {
        if (m.type !== 'close') return;
        parentPort.postMessage({ type: 'log', lines: '{"msg":"last"}\\n' });
        parentPort.postMessage({ type: 'closed' });
      });`);
    threads.push(thread);
    const host = DeliveryThread.attach(thread, {
      onUnexpectedExit: () => undefined,
      logDestination: { write: (line: string) => written.push(line) },
    });
    await host.close(1000);
    expect(written.map((line) => (JSON.parse(line) as { msg: string; i?: number }).i ?? 'last')).toEqual([0, 1, 2, 'last']);
    expect(written[0]).toHaveLength(20_031);
  });

  it('bounds the lines a thread hands over while the host is busy, and takes lines again once the host has written them', async () => {
    const written: string[] = [];
    const logger = JSON.stringify(join(__dirname, '..', '..', '..', 'packages', 'observability', 'src', 'logger.ts'));
    const handOver = new LogHandOver();
    // [0]: the lines the thread has logged, [1]: 1 once it has logged them all.
    const progress = new Int32Array(new SharedArrayBuffer(8));
    const thread = scriptedThread(
      `
      require('tsx/cjs/api').register();
      const { forwardingLogDestination, LogHandOver, droppedLogLines } = require(${logger});
      const progress = new Int32Array(workerData.progress);
      // 10,000 characters may wait: 100 lines of 100.
      const destination = forwardingLogDestination((lines) => parentPort.postMessage({ type: 'log', lines }), new LogHandOver(workerData.handOver, 10000));
      const line = (msg) => JSON.stringify({ msg, pad: 'x'.repeat(100 - 20 - msg.length) }) + '\\n';
      parentPort.postMessage({ type: 'started' });
      // 1,000 lines, one per turn, each turn's sent on its own, while the host is busy.
      let i = 0;
      const next = () => {
        if (i === 1000) {
          Atomics.store(progress, 1, 1);
          parentPort.postMessage({ type: 'log', lines: JSON.stringify({ msg: 'dropped', n: droppedLogLines() }) + '\\n' });
          return;
        }
        destination.write(line('busy ' + i++));
        Atomics.store(progress, 0, i);
        setImmediate(next);
      };
      parentPort.once('message', (m) => {
        if (m.type !== 'log more') return;
        destination.write(line('after'));
      });
      next();`,
      { handOver: handOver.buffer, progress: progress.buffer },
    );
    threads.push(thread);
    await DeliveryThread.startOn(thread, {
      onUnexpectedExit: () => undefined,
      logDestination: { write: (lines: string) => written.push(lines) },
      logHandOver: handOver,
    });
    // The host's event loop held (a long synchronous stretch) until the thread has logged everything.
    const until = Date.now() + 10_000;
    while (Atomics.load(progress, 1) === 0 && Date.now() < until);
    expect(Atomics.load(progress, 0)).toBe(1000);

    await waitFor(() => written.some((lines) => lines.includes('"msg":"dropped"')));
    const lines = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; n?: number });
    const busy = lines.filter((l) => l.msg.startsWith('busy'));
    expect(busy).toHaveLength(100);
    expect(lines.find((l) => l.msg === 'dropped')?.n).toBe(900);
    // Written, so given back: the thread's next line goes through.
    thread.postMessage({ type: 'log more' });
    await waitFor(() => written.some((lines) => lines.includes('"msg":"after"')));
  });
});
