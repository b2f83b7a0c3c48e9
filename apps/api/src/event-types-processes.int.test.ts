import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { callApi, freePort, requireRedisUrl, uniquePrefix, type ApiCallResult } from '@hookrelay/testing';

// Issue 17: a change to the catalog made through one API process is enforced by every other API
// process on the same Redis within one second. Two real `npm run start:api` processes.

const ROOT = join(__dirname, '..', '..', '..');
const ADMIN_KEY = 'catalog-processes-admin-key-0123456789';

interface ApiProcess {
  child: ChildProcess;
  call(method: string, path: string, body?: unknown): Promise<ApiCallResult>;
}

async function startApi(env: Record<string, string>): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', HOOKRELAY_ADMIN_KEY: ADMIN_KEY, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const api = { child, call: (method: string, path: string, body?: unknown) => callApi(base, ADMIN_KEY, method, path, { body }) };
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return api;
    if (Date.now() > until) throw new Error('the API was not ready within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(api: ApiProcess | undefined): Promise<void> {
  if (!api || api.child.exitCode !== null) return;
  const exited = new Promise((resolve) => api.child.once('exit', resolve));
  api.child.kill('SIGTERM');
  await exited;
}

/**
 * Publishes until `refused` says the answer is the new rule's; returns how long after `since` the
 * first refused publish was sent (not answered: on a loaded machine the answer itself can take a
 * while), or Infinity when none sent within 1.5 s was refused.
 */
async function msUntilRefused(
  api: ApiProcess,
  path: string,
  body: unknown,
  refused: (res: ApiCallResult) => boolean,
  since: number,
): Promise<number> {
  for (;;) {
    const sent = Date.now();
    if (sent - since > 1500) return Number.POSITIVE_INFINITY;
    if (refused(await api.call('POST', path, body))) return sent - since;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('two API processes against one Redis', () => {
  const prefix = uniquePrefix('catalog2');
  let first: ApiProcess | undefined;
  let second: ApiProcess | undefined;

  beforeAll(async () => {
    const env = { REDIS_URL: requireRedisUrl(), QUEUE_PREFIX: prefix };
    [first, second] = await Promise.all([startApi(env), startApi(env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stop(first), stop(second)]);
    const redis = new Redis(requireRedisUrl());
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('enforces a type created through one, and a PATCH adding a required property, in the other within one second', async () => {
    const a = first!;
    const b = second!;
    const sid = (await a.call('POST', '/v1/subscribers', { name: 'two processes' })).body.id as string;
    const events = `/v1/subscribers/${sid}/events`;
    const invalid = { type: 'invoice.paid', payload: { invoiceId: 'inv_1', amount: 'twelve' } };
    const valid = { type: 'invoice.paid', payload: { invoiceId: 'inv_1', amount: 1200 } };

    // The second process has read the catalog (the type is unknown to it) before the first changes it.
    const before = await b.call('POST', events, invalid);
    expect([before.status, before.body.error.details]).toEqual([
      400,
      [{ path: 'type', message: expect.stringContaining('unknown event type') }],
    ]);

    const schema = {
      type: 'object',
      required: ['invoiceId', 'amount'],
      properties: { invoiceId: { type: 'string' }, amount: { type: 'integer' }, currency: { type: 'string' } },
    };
    expect((await a.call('POST', '/v1/event-types', { type: 'invoice.paid', schema, examples: [valid.payload] })).status).toBe(201);
    const created = Date.now();
    const bySchema = (res: ApiCallResult) => res.status === 400 && res.body.error.details?.[0]?.path === 'payload.amount';
    expect(await msUntilRefused(b, events, invalid, bySchema, created)).toBeLessThan(1000);
    expect((await b.call('POST', events, valid)).status).toBe(202);

    const patch = {
      schema: { ...schema, required: ['invoiceId', 'amount', 'currency'] },
      examples: [{ ...valid.payload, currency: 'EUR' }],
    };
    expect((await a.call('PATCH', '/v1/event-types/invoice.paid', patch)).status).toBe(200);
    const patched = Date.now();
    const noCurrency = (res: ApiCallResult) => res.status === 400 && res.body.error.details?.[0]?.path === 'payload.currency';
    // The process that made the change enforces it at once; the other within a second.
    expect(noCurrency(await a.call('POST', events, valid))).toBe(true);
    expect(await msUntilRefused(b, events, valid, noCurrency, patched)).toBeLessThan(1000);
    expect((await b.call('POST', events, { ...valid, payload: { ...valid.payload, currency: 'EUR' } })).status).toBe(202);

    expect((await a.call('DELETE', '/v1/event-types/invoice.paid')).status).toBe(200);
    const archived = Date.now();
    expect(await msUntilRefused(b, events, valid, (res) => res.body?.error?.code === 'event_type_archived', archived)).toBeLessThan(1000);
  }, 30_000);
});
