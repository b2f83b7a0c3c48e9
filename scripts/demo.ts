// `npm run demo`: Hookrelay end to end on this machine, in about ten seconds.
//
// Starts the real service (API and worker) on a free port with its own Redis key prefix, a local
// receiver that checks signatures, registers three endpoints (Webex, Zenduty and Standard Webhooks
// style), publishes a Zenduty incident and a Webex SMS receipt, and shows what arrived. Everything
// stays on loopback; the demo's Redis keys are removed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { checkRedisReachable, createRedis, RedisUnreachableError, safeRedisUrl } from '@hookrelay/queue';
import { startDemoReceiver, type DemoReceiver, type DemoScheme, type ReceivedDelivery } from './demo-receiver';
import { ZENDUTY_SAMPLE_JSON } from '../packages/signing/src/zenduty-sample.fixture';

const ROOT = join(__dirname, '..');
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const READY_WITHIN_MS = 30_000;
const DELIVERED_WITHIN_MS = 15_000;

/** Zenduty's sample from its Outgoing Webhooks guide (reference/zenduty-outgoing-webhooks.txt), None -> null. */
const ZENDUTY_INCIDENT = JSON.parse(ZENDUTY_SAMPLE_JSON) as Record<string, unknown>;

/** A Webex Connect SMS delivery receipt (deliveryInfoNotification, CONTRACTS.md). */
const WEBEX_SMS_RECEIPT = {
  deliveryInfoNotification: {
    deliveryInfo: {
      timeStamp: new Date().toISOString(),
      Description: 'Delivered',
      code: '7500',
      messageCount: 1,
      deliveryChannel: 'SMS',
      additionalInfo: '',
      destination: '14155550123',
      destinationType: 'msisdn',
      deliveryStatus: 'Delivered',
    },
    carrier: 'T-Mobile US',
    subtid: '40201',
    transid: '9f4b0c52-3d1e-4c6a-8b77-2e5a1d0c9e13',
    callbackData: 'order-84213',
    correlationid: 'c0rr-5521',
  },
};

interface DemoEndpoint {
  receiver: string;
  scheme: DemoScheme;
  eventTypes: string[];
  signature: Record<string, unknown>;
  label: string;
  /** Webex Connect needs a 2xx to a signed test call before it saves a webhook; so does this endpoint. */
  verify?: 'post';
}

const ENDPOINTS: DemoEndpoint[] = [
  {
    receiver: 'webex',
    scheme: 'x-hub-signature',
    eventTypes: ['receipt.sms.*'],
    signature: { scheme: 'x-hub-signature', algorithm: 'sha256' },
    label: 'x-hub-signature sha256',
    verify: 'post',
  },
  { receiver: 'zenduty', scheme: 'x-signature', eventTypes: ['incident.*'], signature: { scheme: 'x-signature' }, label: 'x-signature' },
  {
    receiver: 'standard',
    scheme: 'standard-webhooks',
    eventTypes: ['*'],
    signature: { scheme: 'standard-webhooks' },
    label: 'standard-webhooks',
  },
];

const EVENTS = [
  { type: 'incident.triggered', payload: ZENDUTY_INCIDENT },
  { type: 'receipt.sms.delivered', payload: WEBEX_SMS_RECEIPT },
];

const say = (line = '') => process.stdout.write(`${line}\n`);

class DemoError extends Error {}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The service as `npm start` runs it, but on loopback, a free port and a private key prefix. */
function startService(port: number, adminKey: string, prefix: string): { child: ChildProcess; output: string[] } {
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', join('apps', 'api', 'src', 'main.ts'), '--with-worker'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      HOOKRELAY_ADMIN_KEY: adminKey,
      HOOKRELAY_ALLOW_HTTP: 'true',
      HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 40));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output };
}

async function waitForReady(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new DemoError(`the service exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new DemoError(`the service was not ready within ${READY_WITHIN_MS / 1000} s`);
}

async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function removeKeys(prefix: string): Promise<number> {
  const redis = createRedis(REDIS_URL, 'store');
  try {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) removed += await redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  } finally {
    redis.disconnect();
  }
}

/** JSON over fetch with a key; any answer other than `expected` stops the demo with what the API said. */
function apiClient(baseUrl: string) {
  return async <T>(method: string, path: string, key: string, body: unknown, expected: number): Promise<T> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== expected) throw new DemoError(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  };
}

interface Expected {
  eventType: string;
  deliveryId: string;
  endpoint: DemoEndpoint;
}

function row(cells: string[]): string {
  const widths = [23, 10, 19, 9, 7];
  return `  ${cells
    .map((c, i) => c.padEnd(widths[i] ?? 0))
    .join(' ')
    .trimEnd()}`;
}

/** Receivers get exactly the published payload (x-signature endpoints in Python's json.dumps spacing). */
function sameJson(text: string, value: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(value);
  } catch {
    return false;
  }
}

/** One line per expected delivery: its first verified arrival, else the last arrival, else "missing". */
function report(expected: Expected[], received: ReceivedDelivery[]): string[] {
  const problems: string[] = [];
  say(row(['Event', 'Endpoint', 'Scheme', 'Verified', 'Attempt']));
  for (const want of expected) {
    const arrivals = received.filter((r) => r.deliveryId === want.deliveryId);
    const shown = arrivals.find((r) => r.verified) ?? arrivals.at(-1);
    const bodyOk = shown !== undefined && sameJson(shown.body, EVENTS.find((e) => e.type === want.eventType)?.payload);
    say(
      row([
        want.eventType,
        want.endpoint.receiver,
        want.endpoint.scheme,
        shown ? (shown.verified && bodyOk ? 'yes' : 'NO') : '-',
        shown ? String(shown.attempt) : 'missing',
      ]),
    );
    if (!shown) problems.push(`${want.eventType} never reached the ${want.endpoint.receiver} receiver`);
    else if (!shown.verified) problems.push(`${want.eventType} at ${want.endpoint.receiver}: ${shown.problem}`);
    else if (!bodyOk) problems.push(`${want.eventType} at ${want.endpoint.receiver}: the body is not the published payload`);
  }
  return problems;
}

async function runDemo(receiver: DemoReceiver, baseUrl: string, adminKey: string): Promise<string[]> {
  const api = apiClient(baseUrl);

  // The admin creates a subscriber (which gets its own key) and a publisher key for the platform.
  const subscriber = await api<{ id: string; apiKey: string }>('POST', '/v1/subscribers', adminKey, { name: 'Demo subscriber' }, 201);
  const publisher = await api<{ apiKey: string }>('POST', '/v1/api-keys', adminKey, { role: 'publisher' }, 201);

  // The subscriber registers its endpoints with its own key.
  say(`  Subscriber ${subscriber.id} registered 3 endpoints:`);
  const endpointIds = new Map<string, DemoEndpoint>();
  for (const endpoint of ENDPOINTS) {
    // The test call arrives before the API answers, so the receiver must know this secret already.
    const secret = endpoint.verify ? randomBytes(32).toString('base64url') : undefined;
    if (secret) receiver.expect(endpoint.receiver, endpoint.scheme, secret);
    const created = await api<{ id: string; secret: string }>(
      'POST',
      `/v1/subscribers/${subscriber.id}/endpoints`,
      subscriber.apiKey,
      {
        url: `${receiver.url}/${endpoint.receiver}`,
        eventTypes: endpoint.eventTypes,
        signature: endpoint.signature,
        secret,
        verify: endpoint.verify,
      },
      201,
    );
    receiver.expect(endpoint.receiver, endpoint.scheme, created.secret);
    endpointIds.set(created.id, endpoint);
    const note = endpoint.verify ? '(passed a signed test call)' : '';
    say(`    ${endpoint.receiver.padEnd(9)} ${endpoint.label.padEnd(23)} ${endpoint.eventTypes.join(',').padEnd(14)} ${note}`.trimEnd());
  }

  // The platform publishes with the publisher key.
  const started = Date.now();
  const expected: Expected[] = [];
  const published: string[] = [];
  for (const event of EVENTS) {
    const accepted = await api<{ deliveries: Array<{ id: string; endpointId: string }> }>(
      'POST',
      `/v1/subscribers/${subscriber.id}/events`,
      publisher.apiKey,
      event,
      202,
    );
    for (const d of accepted.deliveries) {
      const endpoint = endpointIds.get(d.endpointId);
      if (endpoint) expected.push({ eventType: event.type, deliveryId: d.id, endpoint });
    }
    published.push(`${event.type} (${accepted.deliveries.length} deliveries)`);
  }
  say(`  Published ${published.join(' and ')}`);
  say();

  // Fan-out is the point of the demo: the API must have matched exactly these receivers.
  const wanted = [
    'incident.triggered>zenduty',
    'incident.triggered>standard',
    'receipt.sms.delivered>webex',
    'receipt.sms.delivered>standard',
  ];
  const got = expected.map((e) => `${e.eventType}>${e.endpoint.receiver}`).sort();
  const fanOutProblems =
    wanted.sort().join() === got.join() ? [] : [`fan-out went to [${got.join(', ')}], expected [${wanted.join(', ')}]`];

  const arrivedAndVerified = () => expected.every((e) => receiver.received.some((r) => r.deliveryId === e.deliveryId && r.verified));
  await receiver.waitUntil(arrivedAndVerified, DELIVERED_WITHIN_MS);
  const problems = [...fanOutProblems, ...report(expected, receiver.received)];
  say();
  if (problems.length === 0)
    say(`  All ${expected.length} deliveries arrived and every signature verified, ${Date.now() - started} ms after publishing.`);
  return problems;
}

async function main(): Promise<number> {
  try {
    await checkRedisReachable(REDIS_URL);
  } catch (err) {
    if (err instanceof RedisUnreachableError) {
      process.stderr.write(`\n${err.message}\n\n`);
      return 1;
    }
    throw err;
  }

  const prefix = `hookrelay-demo-${randomBytes(4).toString('hex')}`;
  const adminKey = `hr_admin_demo_${randomBytes(24).toString('base64url')}`;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  say('Hookrelay demo');
  say(`  Redis     ${safeRedisUrl(REDIS_URL)} (demo keys under ${prefix}, removed at the end)`);

  const receiver = await startDemoReceiver();
  const service = startService(port, adminKey, prefix);
  // Once, whichever comes first: the end of the run or Ctrl-C.
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      await stopService(service.child);
      await receiver.close();
      await removeKeys(prefix);
    })());
  const interrupted = () =>
    void cleanUp().finally(() => {
      say('\n  Interrupted: stopped the service and removed the demo keys.');
      process.exit(130);
    });
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  let problems: string[];
  try {
    await waitForReady(baseUrl, service.child);
    say(`  Service   ${baseUrl} (API and worker, started for this demo)`);
    say(`  Receiver  ${receiver.url} (checks every signature)`);
    say();
    problems = await runDemo(receiver, baseUrl, adminKey);
  } catch (err) {
    problems = [err instanceof DemoError ? err.message : ((err as Error).stack ?? String(err))];
    if (service.output.length) problems.push(`service output:\n    ${service.output.slice(-15).join('\n    ')}`);
  } finally {
    await cleanUp();
  }
  say('  Stopped the service and removed the demo keys.');

  if (problems.length) {
    process.stderr.write(`\nThe demo did not complete:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  say('\nNext: `npm start` runs the service against your Redis; .env.example lists every setting.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
