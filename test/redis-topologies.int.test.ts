import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDeliveryWorker } from '@hookrelay/delivery';
import { Publisher } from '@hookrelay/publishing';
import { createLogger, createMetrics } from '@hookrelay/observability';
import { checkRedisReachable, createDeliveryQueue, createRedis, parseRedisUrl, safeRedisUrl } from '@hookrelay/queue';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '@hookrelay/secrets';
import { createKeys, createStore, moveDueSetsBack, rekeyStoredSecrets } from '@hookrelay/store';
import { buildEndpoint, buildEvent, freePort, startRedisServer, TestReceiver, type RedisServerHandle } from '@hookrelay/testing';
import { createWorkerResources } from '@hookrelay/worker';

/** Runs the engine end to end over a REDIS_URL: records, queue, worker, one delivery. */
async function deliverOnce(redisUrl: string, keyPrefix: string): Promise<void> {
  const receiver = await TestReceiver.start();
  const redis = createRedis(redisUrl, 'store');
  const queueRedis = createRedis(redisUrl, 'queue');
  const store = createStore({ redis, prefix: keyPrefix });
  const queue = createDeliveryQueue({ connection: queueRedis, keyPrefix });
  const resources = createWorkerResources({ redisUrl, allowPrivateTargets: true });
  const worker = await startDeliveryWorker(resources, {
    keyPrefix,
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics({ processMetrics: false }),
    metricsSampleIntervalMs: 0,
  });
  try {
    const endpoint = buildEndpoint({ url: receiver.url });
    await store.endpoints.save(endpoint);
    const event = buildEvent();
    const [[delivery] = []] = await new Publisher({ store }).enqueue([{ event, endpoints: [endpoint] }]);
    await receiver.waitForRequests(1, 15_000);
    expect(receiver.requests[0]?.headers['x-hookrelay-event-id']).toBe(event.id);
    const until = Date.now() + 5000;
    while ((await store.deliveries.get(delivery!.id))?.state !== 'delivered' && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect((await store.deliveries.get(delivery!.id))?.state).toBe('delivered');
  } finally {
    await worker.close();
    await resources.close();
    await queue.close();
    redis.disconnect();
    queueRedis.disconnect();
    await receiver.close();
  }
}

describe('REDIS_URL forms', () => {
  it('reads sentinel and cluster URLs, and never prints a password', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(parseRedisUrl('redis-sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2/mymaster?db=2')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'mymaster',
      options: { password: 's@cret', db: 2 },
    });
    expect(parseRedisUrl('redis-cluster+tls://a:7000,b:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      options: { tls: {} },
    });
    expect(() => parseRedisUrl('redis-sentinel://10.0.0.1:26379')).toThrow(/master name/);
    expect(safeRedisUrl('redis-sentinel://:hunter2@h:26379/m')).toBe('redis-sentinel://:***@h:26379/m');
    expect(safeRedisUrl('redis://user:hunter2@h:6379')).toBe('redis://user:***@h:6379');
  });
});

describe('through Redis Sentinel', () => {
  let master: RedisServerHandle;
  let sentinel: ChildProcess;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    master = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'hookrelay-sentinel-'));
    const port = await freePort();
    writeFileSync(join(dir, 'sentinel.conf'), `port ${port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\n`);
    sentinel = spawn('redis-server', [join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
    url = `redis-sentinel://127.0.0.1:${port}/mymaster`;
    await checkRedisReachable(url, 10_000).catch(async () => {
      await new Promise((r) => setTimeout(r, 500));
      await checkRedisReachable(url, 10_000);
    });
  });

  afterAll(async () => {
    sentinel?.kill('SIGKILL');
    await master?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the master through the sentinel and delivers', async () => {
    await deliverOnce(url, 'hookrelay');
  });
});

describe('on Redis Cluster', () => {
  const nodes: ChildProcess[] = [];
  const dirs: string[] = [];
  let url: string;

  beforeAll(async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    for (const port of ports) {
      const dir = mkdtempSync(join(tmpdir(), 'hookrelay-cluster-'));
      dirs.push(dir);
      nodes.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--dir',
            dir,
            '--save',
            '',
            '--appendonly',
            'no',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, 'nodes.conf'),
          ],
          {
            stdio: 'ignore',
          },
        ),
      );
    }
    const until = Date.now() + 10_000;
    while (
      ports.some(
        (p) =>
          spawnSync('redis-cli', ['-p', String(p), 'ping'])
            .stdout?.toString()
            .trim() !== 'PONG',
      )
    ) {
      if (Date.now() > until) throw new Error('cluster nodes did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: 20_000 },
    );
    expect(created.status).toBe(0);
    while (
      !spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'])
        .stdout?.toString()
        .includes('cluster_state:ok')
    ) {
      if (Date.now() > until + 10_000) throw new Error('cluster did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    url = `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }, 40_000);

  afterAll(() => {
    for (const node of nodes) node.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers with a {hash tag} prefix, every key of the deployment in one slot', async () => {
    await deliverOnce(url, '{hookrelay}');
  });

  it('passes the start-up check every main.ts runs (checkRedisReachable) on a cluster URL', async () => {
    // Found failing with "Redis is already connecting/connected": the cluster client connected
    // at once although the check asked for a lazy connection.
    await expect(checkRedisReachable(url)).resolves.toBeUndefined();
  });

  it('re-encrypts stored secrets (rekey) whichever master holds them: SCAN sees one server at a time', async () => {
    const k1 = { id: 'k1', key: randomBytes(32) };
    const k2 = { id: 'k2', key: randomBytes(32) };
    const redis = createRedis(url, 'store');
    try {
      const prefix = '{rekey}';
      const endpoints = Array.from({ length: 5 }, () =>
        buildEndpoint({ url: 'https://receiver.example/hook', secret: `s-${randomBytes(8).toString('hex')}` }),
      );
      for (const e of endpoints) await createStore({ redis, prefix, secrets: new SecretBox([k1]) }).endpoints.save(e);
      const report = await rekeyStoredSecrets({ redis, prefix, secrets: new SecretBox([k2, k1]) });
      expect(report).toMatchObject({ read: 5, changed: 5, unreadable: [] });
      const k2Only = createStore({ redis, prefix, secrets: new SecretBox([k2]) });
      for (const e of endpoints) expect((await k2Only.endpoints.get(e.id))?.secret).toBe(e.secret);
    } finally {
      redis.disconnect();
    }
  });

  it('moves due retries back for a rollback (npm run due-retries:back) on a cluster client asked at once', async () => {
    const keys = createKeys('{back}');
    const sched = keys.sched();
    const seed = createRedis(url, 'store');
    await seed.zadd(`${sched}:due:s:sub_a`, 1000, 'dlv_a-2', 2000, 'dlv_b-2');
    await seed.zadd(`${sched}:dueq`, 1000, 'sub_a');
    seed.disconnect();
    // Asked while still connecting: a cluster client lists no masters until it is ready.
    const redis = createRedis(url, 'store');
    try {
      expect(await moveDueSetsBack(redis, keys)).toEqual({ subscribers: 1, retries: 2 });
      expect(await redis.zrange(`${sched}:due`, 0, -1)).toEqual(['dlv_a-2', 'dlv_b-2']);
      expect(await redis.exists(`${sched}:dueq`)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
