import { randomBytes } from 'node:crypto';
import { ConfigError } from '@hookrelay/contracts';
import { loadApiConfig } from './config';
import { deliveryWorkerOptions, loadWorkerConfig } from '../../worker/src/config';
import { deliveryWorkerSettings } from '../../worker/src/worker-settings';

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    expect(loadApiConfig({})).toMatchObject({
      PORT: 3000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'hookrelay',
      HOOKRELAY_ALLOW_HTTP: false,
      HOOKRELAY_ALLOW_PRIVATE_TARGETS: false,
      HOOKRELAY_ALLOW_SHA1: false,
      HOOKRELAY_ALLOW_UNAUTHENTICATED_SOURCES: false,
      HOOKRELAY_RETENTION_DAYS: 30,
      HOOKRELAY_DISABLE_AFTER_FAILURES: 50,
      HOOKRELAY_DISABLE_AFTER_HOURS: 24,
      // Two automatic attempts of one delivery at least 1 s apart, whatever a policy asks.
      HOOKRELAY_MIN_RETRY_INTERVAL_MS: 1000,
      HOOKRELAY_MAX_ENDPOINTS_PER_SUBSCRIBER: 100,
      HOOKRELAY_MAX_SOURCES_PER_SUBSCRIBER: 50,
      HOOKRELAY_EVENTS_PER_SECOND: 0,
      HOOKRELAY_MAX_DELETED_ENDPOINTS_PER_SUBSCRIBER: 1000,
      HOOKRELAY_MAX_BATCH_DELIVERIES: 5000,
      // Sixteen whole 1 MiB bodies to one subscriber's sources arriving at once, per API process.
      HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT: 16_777_216,
      // The same for one subscriber's own /v1 calls (its keys and portal sessions).
      HOOKRELAY_API_BODY_BYTES_IN_FLIGHT: 16_777_216,
      // Four sources' worth of the default burst, five of the default minute (DEFAULT_SUBSCRIBER_LIMITS).
      HOOKRELAY_SOURCE_REQUESTS_PER_SECOND: 200,
      HOOKRELAY_SOURCE_REQUESTS_PER_MINUTE: 6000,
      // ~5% of Redis per subscriber at most (a unit is about one record read, ~10 us): a portal user
      // watching a filtered listing of a long history reads ~2,500 a second; 50 s of it in hand.
      HOOKRELAY_WORK_UNITS_PER_SECOND: 5000,
      HOOKRELAY_WORK_UNITS_BURST: 250_000,
      // 1 GiB written within the retention period (events, deliveries, attempts) per subscriber.
      HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER: 1_073_741_824,
      // A whole endpoint verification, token fetch and connecting included: Webex Connect's 10 s for a call.
      HOOKRELAY_VERIFICATION_TIMEOUT_MS: 10_000,
      HOOKRELAY_BUILTIN_CATALOG: true,
      // How long a client may take to send a request, and its headers: Node's defaults are 300 s and 60 s.
      HOOKRELAY_REQUEST_TIMEOUT_MS: 30_000,
      HOOKRELAY_HEADERS_TIMEOUT_MS: 10_000,
    });
    expect(loadApiConfig({ HOOKRELAY_BUILTIN_CATALOG: 'false' }).HOOKRELAY_BUILTIN_CATALOG).toBe(false);
    expect(deliveryWorkerOptions(loadWorkerConfig({})).minRetryIntervalMs).toBe(1000);
    expect(deliveryWorkerOptions(loadWorkerConfig({ HOOKRELAY_MIN_RETRY_INTERVAL_MS: '5' })).minRetryIntervalMs).toBe(5);
    expect(() => loadWorkerConfig({ HOOKRELAY_MIN_RETRY_INTERVAL_MS: '0' })).toThrow(/HOOKRELAY_MIN_RETRY_INTERVAL_MS/);
    // Over the default interval (60 s) every endpoint created without an interval of its own would be refused.
    expect(() => loadApiConfig({ HOOKRELAY_MIN_RETRY_INTERVAL_MS: '60001' })).toThrow(/HOOKRELAY_MIN_RETRY_INTERVAL_MS/);
    expect(loadApiConfig({ HOOKRELAY_MIN_RETRY_INTERVAL_MS: '60000' }).HOOKRELAY_MIN_RETRY_INTERVAL_MS).toBe(60_000);
    expect(loadWorkerConfig({})).toMatchObject({
      WORKER_CONCURRENCY: 100,
      METRICS_PORT: 9464,
      SHUTDOWN_TIMEOUT_MS: 30_000,
      // Isolation between subscribers (docs/delivery-scheduling.md): with 100 slots, one endpoint
      // holds at most 25, one receiver address 25 per worker, one subscriber 40; slow endpoints
      // get a lane of 20 of their own.
      WORKER_SLOW_LANE_CONCURRENCY: 20,
      WORKER_ENDPOINT_SHARE: 0.25,
      WORKER_ADDRESS_SHARE: 0.25,
      WORKER_SUBSCRIBER_SHARE: 0.4,
      // 8 MiB: eight 1 MiB deliveries of one subscriber sending at once, ~24 ms of the worker's
      // event loop, against ~120 ms for the 40 its share lets it hold (docs/performance.md).
      WORKER_SUBSCRIBER_BYTES_IN_FLIGHT: 8_388_608,
      WORKER_SLOW_ATTEMPT_MS: 3000,
      WORKER_SLOW_AFTER: 2,
      WORKER_FAST_AFTER: 3,
    });
  });

  it.each([
    [{ WORKER_ENDPOINT_SHARE: '0' }, 'WORKER_ENDPOINT_SHARE'],
    [{ WORKER_SUBSCRIBER_SHARE: '1.5' }, 'WORKER_SUBSCRIBER_SHARE'],
    [{ WORKER_ADDRESS_SHARE: 'half' }, 'WORKER_ADDRESS_SHARE'],
    [{ WORKER_SUBSCRIBER_BYTES_IN_FLIGHT: '0' }, 'WORKER_SUBSCRIBER_BYTES_IN_FLIGHT'],
    [{ WORKER_SLOW_LANE_CONCURRENCY: '0' }, 'WORKER_SLOW_LANE_CONCURRENCY'],
    [{ WORKER_SLOW_AFTER: '0' }, 'WORKER_SLOW_AFTER'],
  ])('refuses the worker setting %j naming %s', (env, variable) => {
    expect(() => loadWorkerConfig(env)).toThrow(new RegExp(`^Invalid configuration:\\n  ${variable}: `));
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ HOOKRELAY_ALLOW_HTTP: 'maybe' }, 'HOOKRELAY_ALLOW_HTTP'],
    [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis-sentinel://127.0.0.1:26379' }, 'REDIS_URL'],
    [{ NODE_ENV: 'production' }, 'HOOKRELAY_ADMIN_KEY'],
    [{ HOOKRELAY_ADMIN_KEY: 'short' }, 'HOOKRELAY_ADMIN_KEY'],
    [{ REDIS_URL: 'redis-cluster://127.0.0.1:7000,127.0.0.1:7001' }, 'QUEUE_PREFIX'],
    [{ HOOKRELAY_MAX_ENDPOINTS_PER_SUBSCRIBER: '-1' }, 'HOOKRELAY_MAX_ENDPOINTS_PER_SUBSCRIBER'],
    [{ HOOKRELAY_MAX_SOURCES_PER_SUBSCRIBER: '1.5' }, 'HOOKRELAY_MAX_SOURCES_PER_SUBSCRIBER'],
    [{ HOOKRELAY_EVENTS_PER_SECOND: 'fast' }, 'HOOKRELAY_EVENTS_PER_SECOND'],
    [{ HOOKRELAY_MAX_DELETED_ENDPOINTS_PER_SUBSCRIBER: '-1' }, 'HOOKRELAY_MAX_DELETED_ENDPOINTS_PER_SUBSCRIBER'],
    [{ HOOKRELAY_EVENTS_PER_SECOND: '1000001' }, 'HOOKRELAY_EVENTS_PER_SECOND'],
    [{ HOOKRELAY_MAX_BATCH_DELIVERIES: '999' }, 'HOOKRELAY_MAX_BATCH_DELIVERIES'],
    [{ HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT: '0' }, 'HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT'],
    [{ HOOKRELAY_API_BODY_BYTES_IN_FLIGHT: '0' }, 'HOOKRELAY_API_BODY_BYTES_IN_FLIGHT'],
    [{ HOOKRELAY_SOURCE_REQUESTS_PER_SECOND: '0' }, 'HOOKRELAY_SOURCE_REQUESTS_PER_SECOND'],
    [{ HOOKRELAY_WORK_UNITS_PER_SECOND: '0' }, 'HOOKRELAY_WORK_UNITS_PER_SECOND'],
    [{ HOOKRELAY_WORK_UNITS_BURST: '2.5' }, 'HOOKRELAY_WORK_UNITS_BURST'],
    [{ HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER: '-1' }, 'HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER'],
    [{ HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER: String(2 ** 40 + 1) }, 'HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER'],
    [{ HOOKRELAY_VERIFICATION_TIMEOUT_MS: '60001' }, 'HOOKRELAY_VERIFICATION_TIMEOUT_MS'],
    [{ HOOKRELAY_SOURCE_REQUESTS_PER_MINUTE: 'many' }, 'HOOKRELAY_SOURCE_REQUESTS_PER_MINUTE'],
    [{ HOOKRELAY_REQUEST_TIMEOUT_MS: '0' }, 'HOOKRELAY_REQUEST_TIMEOUT_MS'],
    [{ HOOKRELAY_REQUEST_TIMEOUT_MS: '300001' }, 'HOOKRELAY_REQUEST_TIMEOUT_MS'],
    [{ HOOKRELAY_HEADERS_TIMEOUT_MS: '0' }, 'HOOKRELAY_HEADERS_TIMEOUT_MS'],
    [{ HOOKRELAY_REQUEST_TIMEOUT_MS: '5000', HOOKRELAY_HEADERS_TIMEOUT_MS: '6000' }, 'HOOKRELAY_HEADERS_TIMEOUT_MS'],
    [{ HOOKRELAY_PUBLIC_URL: 'hooks.example.com' }, 'HOOKRELAY_PUBLIC_URL'],
    [{ HOOKRELAY_PUBLIC_URL: 'ftp://hooks.example.com' }, 'HOOKRELAY_PUBLIC_URL'],
    [{ HOOKRELAY_PUBLIC_URL: 'https://hooks.example.com/?next=1' }, 'HOOKRELAY_PUBLIC_URL'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => loadApiConfig(env)).toThrow(ConfigError);
    expect(() => loadApiConfig(env)).toThrow(new RegExp(`^Invalid configuration:\\n  ${variable}: `));
  });

  it("reads the worker's settings for npm start's in-process worker exactly as start:worker reads them", () => {
    const env = { WORKER_CONCURRENCY: '7', WORKER_ENDPOINT_SHARE: '0.5', WORKER_SLOW_AFTER: '4', WORKER_CONNECTIONS_PER_ORIGIN: '9' };
    const api = loadApiConfig(env);
    expect(deliveryWorkerSettings(api)).toEqual(deliveryWorkerSettings(loadWorkerConfig(env)));
    expect(deliveryWorkerSettings(api)).toMatchObject({ concurrency: 7, scheduling: { endpointShare: 0.5, slowAfter: 4 } });
    expect(api.WORKER_CONNECTIONS_PER_ORIGIN).toBe(9);
    // The defaults are the worker's.
    expect(deliveryWorkerSettings(loadApiConfig({}))).toEqual(deliveryWorkerSettings(loadWorkerConfig({})));
    expect(() => loadApiConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY/);
  });

  it('reads HOOKRELAY_PUBLIC_URL without a trailing slash, and leaves it unset by default', () => {
    expect(loadApiConfig({ HOOKRELAY_PUBLIC_URL: 'https://hooks.example.com/relay/' }).HOOKRELAY_PUBLIC_URL).toBe(
      'https://hooks.example.com/relay',
    );
    expect(loadApiConfig({}).HOOKRELAY_PUBLIC_URL).toBeUndefined();
    expect(loadApiConfig({}).HOOKRELAY_PLATFORM_NAME).toBeUndefined();
  });

  it('reads "false" as false, not as a truthy string', () => {
    expect(loadApiConfig({ HOOKRELAY_ALLOW_HTTP: 'false', HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true' })).toMatchObject({
      HOOKRELAY_ALLOW_HTTP: false,
      HOOKRELAY_ALLOW_PRIVATE_TARGETS: true,
    });
  });

  it('accepts Sentinel and Cluster URLs, the latter with a {hash tag} prefix', () => {
    expect(loadWorkerConfig({ REDIS_URL: 'redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster' }).REDIS_URL).toMatch(/^redis-sentinel/);
    expect(loadWorkerConfig({ REDIS_URL: 'redis-cluster://10.0.0.1:7000', QUEUE_PREFIX: '{hookrelay}' }).QUEUE_PREFIX).toBe('{hookrelay}');
    expect(() => loadWorkerConfig({ REDIS_URL: 'redis-cluster://10.0.0.1:7000' })).toThrow(/QUEUE_PREFIX: must contain a \{hash tag\}/);
  });

  describe('HOOKRELAY_ENCRYPTION_KEYS', () => {
    const key = () => randomBytes(32).toString('base64');
    const production = { NODE_ENV: 'production', HOOKRELAY_ADMIN_KEY: 'x'.repeat(32) } as const;

    it('reads the list into keys, first key first, for the API and the worker', () => {
      const env = { HOOKRELAY_ENCRYPTION_KEYS: `k2:${key()},k1:${key()}` };
      expect(loadApiConfig(env).HOOKRELAY_ENCRYPTION_KEYS.map((k) => k.id)).toEqual(['k2', 'k1']);
      expect(loadWorkerConfig(env).HOOKRELAY_ENCRYPTION_KEYS.map((k) => k.id)).toEqual(['k2', 'k1']);
    });

    it('is optional outside production (the services then warn and store plain text)', () => {
      expect(loadApiConfig({}).HOOKRELAY_ENCRYPTION_KEYS).toEqual([]);
      expect(loadWorkerConfig({ NODE_ENV: 'development' }).HOOKRELAY_ENCRYPTION_KEYS).toEqual([]);
    });

    it('is required with NODE_ENV=production, by the API and by the worker', () => {
      expect(() => loadApiConfig(production)).toThrow(
        /^Invalid configuration:\n {2}HOOKRELAY_ENCRYPTION_KEYS: is required when NODE_ENV=production; generate a key with: openssl rand -base64 32/,
      );
      expect(() => loadWorkerConfig({ NODE_ENV: 'production' })).toThrow(/HOOKRELAY_ENCRYPTION_KEYS: is required when NODE_ENV=production/);
      expect(loadApiConfig({ ...production, HOOKRELAY_ENCRYPTION_KEYS: `k1:${key()}` }).HOOKRELAY_ENCRYPTION_KEYS).toHaveLength(1);
    });

    it.each([
      ['a malformed list', () => `k1:${key()},,k2:${key()}`, 'entry 2 is empty'],
      ['a key that is not 32 bytes', () => `k1:${randomBytes(24).toString('base64')}`, 'key "k1" is 24 bytes; a key must be 32 bytes'],
      ['duplicate ids', () => `k1:${key()},k1:${key()}`, 'key id "k1" appears twice'],
    ])('stops start-up on %s, naming the problem', (_what, value, message) => {
      for (const load of [loadApiConfig, loadWorkerConfig]) {
        expect(() => load({ HOOKRELAY_ENCRYPTION_KEYS: value() })).toThrow(ConfigError);
        expect(() => load({ HOOKRELAY_ENCRYPTION_KEYS: value() })).toThrow(`HOOKRELAY_ENCRYPTION_KEYS: ${message}`);
      }
    });
  });
});
