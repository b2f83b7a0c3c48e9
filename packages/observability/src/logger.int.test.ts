import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { captureLogLines, requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import { createLogger } from './logger';

describe("a logged Redis error's command", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(requireRedisUrl(), { maxRetriesPerRequest: 1 });
  });
  afterAll(() => redis.quit());

  it('is logged by name only, never with its arguments', async () => {
    const key = `${uniquePrefix('log-err')}:k`;
    // A real reply error carrying its command: SET with an option Redis refuses.
    const err = await redis
      .set(key, 'PAYLOAD-SECRET-0123456789', 'PX', 'not-a-number' as unknown as number)
      .catch((e: unknown) => e as Error);
    expect((err as { command?: { args?: unknown[] } }).command?.args).toContain('PAYLOAD-SECRET-0123456789');
    const { lines, destination } = captureLogLines();
    const logger = createLogger({ destination });
    logger.error({ err, jobId: 'j1' }, 'delivery.job_failed');
    logger.error(new Error('outer', { cause: err }), 'request.failed');
    expect(JSON.stringify(lines)).not.toContain('PAYLOAD-SECRET');
    expect(lines[0]).toMatchObject({
      level: 'error',
      jobId: 'j1',
      err: { type: 'ReplyError', message: expect.stringMatching(/^ERR/), command: 'set', stack: expect.any(String) },
    });
    expect(Object.keys(lines[0]!.err as object).sort()).toEqual(['command', 'message', 'stack', 'type']);
    expect(lines[1]).toMatchObject({ err: { type: 'Error', message: 'outer', cause: { type: 'ReplyError', command: 'set' } } });
  });

  it('keeps the code of a system error and cuts a long message', () => {
    const { lines, destination } = captureLogLines();
    const err = Object.assign(new Error(`connect ECONNREFUSED ${'x'.repeat(5000)}`), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    });
    createLogger({ destination }).warn({ err }, 'm');
    const logged = lines[0]!.err as Record<string, unknown>;
    expect(logged).toMatchObject({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
    expect((logged.message as string).length).toBeLessThan(2100);
    expect(logged.message).toMatch(/\[\+\d+ chars\]$/);
  });
});

/**
 * A process whose stdout is a pipe nobody reads while it logs `count` lines of `size` bytes; it
 * reports on stderr how many were dropped (and what its metric says), then exits, flushing.
 */
function loggingProcess(count: number, size: number): Promise<{ report: { dropped: number; metric: string }; stdout: string }> {
  const src = join(__dirname, 'index.ts');
  const script = `
    require('tsx/cjs/api').register();
    const o = require(${JSON.stringify(src)});
    const logger = o.createLogger();
    const metrics = o.createMetrics({ processMetrics: false });
    const pad = 'x'.repeat(${size});
    for (let i = 0; i < ${count}; i++) logger.info({ i, pad }, 'line');
    metrics.registry.getSingleMetricAsString('hookrelay_log_lines_dropped_total').then((metric) => {
      process.stderr.write(JSON.stringify({ dropped: o.droppedLogLines(), metric }) + '\\n', () => process.exit(0));
    });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const chunks: Buffer[] = [];
    child.stdout.pause();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Read stdout only once the child has logged everything and reported.
      if (stderr.includes('\n')) child.stdout.on('data', (c: Buffer) => chunks.push(c)).resume();
    });
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve({
          report: JSON.parse(stderr.split('\n')[0]!) as { dropped: number; metric: string },
          stdout: Buffer.concat(chunks).toString(),
        });
      } catch {
        reject(new Error(`the logging process failed: ${stderr}`));
      }
    });
  });
}

describe('the stdout writer, when stdout is not read', () => {
  it('drops lines past 16 MiB waiting, counts them in hookrelay_log_lines_dropped_total, and writes the rest whole', async () => {
    // 40,000 lines of ~1 KB: ~40 MB logged while nothing is read.
    const { report, stdout } = await loggingProcess(40_000, 1000);
    const written = stdout.split('\n').filter(Boolean);
    expect(report.dropped).toBeGreaterThan(20_000);
    expect(report.metric).toContain(`hookrelay_log_lines_dropped_total ${report.dropped}`);
    // Every line that was kept is whole, and kept or dropped, every line is accounted for.
    for (const line of written) expect(JSON.parse(line)).toMatchObject({ msg: 'line' });
    expect(written.length + report.dropped).toBe(40_000);
    expect(stdout.length).toBeLessThanOrEqual(16 * 1024 * 1024 + 64 * 1024 + 2000);
  }, 60_000);
});
