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
