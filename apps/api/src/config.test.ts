import { ConfigError } from '@hookrelay/contracts';
import { loadApiConfig } from './config';
import { loadWorkerConfig } from '../../worker/src/config';

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
    });
    expect(loadWorkerConfig({})).toMatchObject({ WORKER_CONCURRENCY: 100, METRICS_PORT: 9464, SHUTDOWN_TIMEOUT_MS: 30_000 });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ HOOKRELAY_ALLOW_HTTP: 'maybe' }, 'HOOKRELAY_ALLOW_HTTP'],
    [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis-sentinel://127.0.0.1:26379' }, 'REDIS_URL'],
    [{ NODE_ENV: 'production' }, 'HOOKRELAY_ADMIN_KEY'],
    [{ HOOKRELAY_ADMIN_KEY: 'short' }, 'HOOKRELAY_ADMIN_KEY'],
    [{ REDIS_URL: 'redis-cluster://127.0.0.1:7000,127.0.0.1:7001' }, 'QUEUE_PREFIX'],
    [{ HOOKRELAY_PUBLIC_URL: 'hooks.example.com' }, 'HOOKRELAY_PUBLIC_URL'],
    [{ HOOKRELAY_PUBLIC_URL: 'ftp://hooks.example.com' }, 'HOOKRELAY_PUBLIC_URL'],
    [{ HOOKRELAY_PUBLIC_URL: 'https://hooks.example.com/?next=1' }, 'HOOKRELAY_PUBLIC_URL'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => loadApiConfig(env)).toThrow(ConfigError);
    expect(() => loadApiConfig(env)).toThrow(new RegExp(`^Invalid configuration:\\n  ${variable}: `));
  });

  it('reads HOOKRELAY_PUBLIC_URL without a trailing slash, and leaves it unset by default', () => {
    expect(loadApiConfig({ HOOKRELAY_PUBLIC_URL: 'https://hooks.example.com/relay/' }).HOOKRELAY_PUBLIC_URL).toBe('https://hooks.example.com/relay');
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
});
