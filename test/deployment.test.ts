import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { apiConfigSchema } from '../apps/api/src/config';
import { workerConfigSchema } from '../apps/worker/src/config';

// No Docker engine runs here, so the compose file is checked for structure and kept in step with
// the config schemas: a variable the service does not read is a typo that would silently do nothing.
const ROOT = join(__dirname, '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; ports?: string[]; image?: string; depends_on?: unknown; volumes?: string[] }>;
  volumes?: Record<string, unknown>;
};

function knownVariables(schema: { shape?: Record<string, unknown>; def?: unknown }): Set<string> {
  const shape = (schema as { shape?: Record<string, unknown> }).shape ?? ((schema as any)._zod?.def?.in?.shape as Record<string, unknown>);
  return new Set(Object.keys(shape));
}

describe('docker-compose.yml', () => {
  it('runs redis with AOF everysec and noeviction on a volume', () => {
    const redis = compose.services.redis!;
    expect(redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction']));
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('runs the API on port 3000 and a worker that can be scaled (no fixed container name or host port)', () => {
    expect(compose.services.api?.ports).toContain('3000:3000');
    expect(compose.services.api?.command?.join(' ')).toContain('apps/api/src/main.ts');
    expect(compose.services.worker?.command?.join(' ')).toContain('apps/worker/src/main.ts');
    expect(compose.services.worker).not.toHaveProperty('container_name');
    expect(compose.services.worker).not.toHaveProperty('ports');
  });

  it('runs prometheus with the repo\'s scrape config and alert rules, scraping the API and every worker', () => {
    const prometheus = compose.services.prometheus as { volumes?: string[] };
    expect(prometheus.volumes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\.\/ops\/prometheus\/prometheus\.yml:/), expect.stringMatching(/^\.\/ops\/prometheus\/alerts\.yml:/)]),
    );
    const scrape = parse(readFileSync(join(ROOT, 'ops/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }>; dns_sd_configs?: Array<{ names: string[]; port: number }> }>;
    };
    const api = scrape.scrape_configs.find((c) => c.job_name === 'hookrelay-api');
    const worker = scrape.scrape_configs.find((c) => c.job_name === 'hookrelay-worker');
    expect(api?.static_configs?.[0]?.targets).toEqual([`api:${compose.services.api?.environment?.PORT}`]);
    // DNS discovery finds every replica of a scaled worker service.
    expect(worker?.dns_sd_configs?.[0]).toMatchObject({ names: ['worker'], port: Number(compose.services.worker?.environment?.METRICS_PORT) });
  });

  it.each([
    ['api', apiConfigSchema],
    ['worker', workerConfigSchema],
  ] as const)('gives the %s only variables its config reads, and values it accepts', (service, schema) => {
    const env = compose.services[service]!.environment!;
    const known = knownVariables(schema as never);
    expect(known.size).toBeGreaterThan(5);
    for (const name of Object.keys(env)) expect(known).toContain(name);
    // Variables taken from the operator's environment get a value of the right form.
    const sample = (name: string) => (name === 'HOOKRELAY_ENCRYPTION_KEYS' ? `k1:${Buffer.alloc(32, 7).toString('base64')}` : 'x'.repeat(32));
    const values = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith('${') ? sample(k) : v]));
    expect(schema.safeParse(values).success).toBe(true);
  });
});

describe('.env.example', () => {
  it('lists every variable the API and the worker read, and nothing else', () => {
    const listed = new Set([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const read = new Set([...knownVariables(apiConfigSchema as never), ...knownVariables(workerConfigSchema as never)]);
    expect([...listed].sort()).toEqual([...read].sort());
  });
});

describe('Dockerfile', () => {
  it('copies every workspace package.json before npm ci (a missing one fails the image build)', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const workspaces = ['apps', 'packages'].flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => `${dir}/${name}`)).filter((ws) => existsSync(join(ROOT, ws, 'package.json')));
    expect(workspaces).toContain('packages/secrets');
    const copied = [...dockerfile.matchAll(/^COPY (\S+)\/package\.json \1\/$/gm)].map((m) => m[1]);
    expect(workspaces.filter((ws) => !copied.includes(ws))).toEqual([]);
  });
});
