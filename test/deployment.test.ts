import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { parse } from 'yaml';
import { apiConfigSchema } from '../apps/api/src/config';
import { workerConfigSchema } from '../apps/worker/src/config';
import { contextExcludes } from './image/build-context';
import { parseDockerfile } from './image/dockerfile';

// No Docker engine runs here, so the compose file is checked for structure and kept in step with
// the config schemas: a variable the service does not read is a typo that would silently do nothing.
const ROOT = join(__dirname, '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      build?: unknown;
      image?: string;
      pull_policy?: string;
      command?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      depends_on?: unknown;
      volumes?: string[];
      healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
    }
  >;
  volumes?: Record<string, unknown>;
};

function knownVariables(schema: { shape?: Record<string, unknown>; def?: unknown }): Set<string> {
  const shape = (schema as { shape?: Record<string, unknown> }).shape ?? ((schema as any)._zod?.def?.in?.shape as Record<string, unknown>);
  return new Set(Object.keys(shape));
}

describe('docker-compose.yml', () => {
  it('runs redis with AOF everysec and noeviction on a volume', () => {
    const redis = compose.services.redis!;
    expect(redis.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction']),
    );
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('runs the API on port 3000 and a worker that can be scaled (no fixed container name or host port)', () => {
    expect(compose.services.api?.ports).toContain('3000:3000');
    expect(compose.services.api?.command?.join(' ')).toContain('apps/api/src/main.ts');
    expect(compose.services.worker?.command?.join(' ')).toContain('apps/worker/src/main.ts');
    expect(compose.services.worker).not.toHaveProperty('container_name');
    expect(compose.services.worker).not.toHaveProperty('ports');
  });

  it("runs prometheus with the repo's scrape config and alert rules, scraping the API and every worker", () => {
    const prometheus = compose.services.prometheus as { volumes?: string[] };
    expect(prometheus.volumes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\.\/ops\/prometheus\/prometheus\.yml:/),
        expect.stringMatching(/^\.\/ops\/prometheus\/alerts\.yml:/),
      ]),
    );
    const scrape = parse(readFileSync(join(ROOT, 'ops/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{
        job_name: string;
        static_configs?: Array<{ targets: string[] }>;
        dns_sd_configs?: Array<{ names: string[]; port: number }>;
      }>;
    };
    const api = scrape.scrape_configs.find((c) => c.job_name === 'hookrelay-api');
    const worker = scrape.scrape_configs.find((c) => c.job_name === 'hookrelay-worker');
    expect(api?.static_configs?.[0]?.targets).toEqual([`api:${compose.services.api?.environment?.PORT}`]);
    // DNS discovery finds every replica of a scaled worker service.
    expect(worker?.dns_sd_configs?.[0]).toMatchObject({
      names: ['worker'],
      port: Number(compose.services.worker?.environment?.METRICS_PORT),
    });
  });

  it.each([
    ['api', apiConfigSchema],
    ['worker', workerConfigSchema],
  ] as const)('gives the %s only variables its config reads, and values it accepts', (service, schema) => {
    const env = compose.services[service]!.environment!;
    const known = knownVariables(schema);
    expect(known.size).toBeGreaterThan(5);
    for (const name of Object.keys(env)) expect(known).toContain(name);
    // Variables taken from the operator's environment get a value of the right form.
    const sample = (name: string) =>
      name === 'HOOKRELAY_ENCRYPTION_KEYS' ? `k1:${Buffer.alloc(32, 7).toString('base64')}` : 'x'.repeat(32);
    const values = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith('${') ? sample(k) : v]));
    expect(schema.safeParse(values).success).toBe(true);
  });
});

describe('docker-compose.yml: one image, healthchecks, Grafana (checked without Docker)', () => {
  const services = compose.services;
  const excluded = contextExcludes(ROOT);

  it('builds one image, once, and runs it as both the API and the worker', () => {
    const built = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name)).toEqual(['api']);
    expect(services.api?.build).toBe('.');
    expect(services.api?.image).toMatch(/^hookrelay:/);
    expect(services.worker?.image).toBe(services.api?.image);
    // Never pulled: the image exists only because the api service built it.
    expect(services.worker?.pull_policy).toBe('never');
    // The commands are the Dockerfile's CMD form: node with tsx, on the source in the image.
    const cmd = parseDockerfile(join(ROOT, 'Dockerfile'))
      .at(-1)
      ?.instructions.find((i) => i.keyword === 'CMD')?.args;
    expect(services.api?.command).toEqual(cmd);
    expect(services.worker?.command).toEqual(['node', '--import', 'tsx', 'apps/worker/src/main.ts']);
  });

  it.each([
    ['api', 'PORT'],
    ['worker', 'METRICS_PORT'],
  ] as const)('gives the %s a readiness healthcheck on its own port, run by a file the image contains', (service, portVariable) => {
    const check = services[service]?.healthcheck;
    expect(check?.test[0]).toBe('CMD');
    const [bin, script, url] = check?.test.slice(1) ?? [];
    // node is the base image's; curl and wget are not in node:*-slim.
    expect(bin).toBe('node');
    expect(existsSync(join(ROOT, script as string))).toBe(true);
    expect(excluded(script as string)).toBe(false);
    expect(url).toBe(`http://127.0.0.1:${services[service]?.environment?.[portVariable]}/readyz`);
    expect(check).toMatchObject({ interval: expect.any(String), timeout: expect.any(String), retries: expect.any(Number) });
  });

  it('mounts only files that exist in the repository', () => {
    const binds = Object.values(services).flatMap((s) => (s.volumes ?? []).filter((v) => v.startsWith('./')));
    expect(binds.length).toBeGreaterThanOrEqual(5);
    for (const bind of binds)
      expect({ bind, exists: existsSync(join(ROOT, bind.split(':')[0] as string)) }).toEqual({ bind, exists: true });
  });

  it('runs Grafana provisioned with Prometheus as its default data source and the shipped dashboard', () => {
    const grafana = services.grafana;
    expect(grafana?.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    const mounts = new Map(
      (grafana?.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => [v.split(':')[0] as string, v.split(':')[1] as string]),
    );

    // The data source: the compose file's prometheus service, on the port it listens on.
    const sourcesFile = [...mounts].find(([, target]) => target.startsWith('/etc/grafana/provisioning/datasources/'))?.[0] as string;
    const sources = (
      parse(readFileSync(join(ROOT, sourcesFile), 'utf8')) as {
        apiVersion: number;
        datasources: Array<{ type: string; url: string; isDefault?: boolean; uid: string }>;
      }
    ).datasources;
    expect(sources).toHaveLength(1);
    expect(sources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    expect(services.prometheus?.ports).toContain('9090:9090');

    // The dashboard provider reads the folder the shipped dashboard is mounted into.
    const providerFile = [...mounts].find(([, target]) => target.startsWith('/etc/grafana/provisioning/dashboards/'))?.[0] as string;
    const providers = (
      parse(readFileSync(join(ROOT, providerFile), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> }
    ).providers;
    expect(providers).toHaveLength(1);
    expect(providers[0]?.type).toBe('file');
    const dashboardTarget = mounts.get('./ops/grafana/hookrelay.json');
    expect(dashboardTarget).toBeDefined();
    expect(posix.dirname(dashboardTarget as string)).toBe(providers[0]?.options.path);

    // Every panel queries Prometheus: the dashboard's datasource variable (type prometheus, which
    // picks the default source) or the provisioned source's uid.
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'ops/grafana/hookrelay.json'), 'utf8')) as {
      templating: { list: Array<{ name: string; type: string; query: string }> };
      panels: Array<{ title: string; datasource?: { type: string; uid: string } }>;
    };
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(variable?.query).toBe('prometheus');
    for (const panel of dashboard.panels) {
      expect({ panel: panel.title, type: panel.datasource?.type }).toEqual({ panel: panel.title, type: 'prometheus' });
      expect([`\${${variable?.name}}`, sources[0]?.uid]).toContain(panel.datasource?.uid);
    }
    expect(dirname(sourcesFile)).toBe('./ops/grafana/provisioning/datasources');
  });
});

describe('.dockerignore', () => {
  const excluded = contextExcludes(ROOT);

  it.each([
    '.env',
    '.env.local',
    '.env.production',
    'apps/api/.env',
    '.npmrc',
    'certs/server.key',
    'tls/cert.pem',
    'deploy/id_rsa',
    'keystore.p12',
    'node_modules/x/index.js',
    'packages/delivery/node_modules/ipaddr.js/package.json',
    '.git/config',
  ])('keeps %s out of the image', (path) => {
    expect(excluded(path)).toBe(true);
  });

  it.each([
    '.env.example',
    'package.json',
    'package-lock.json',
    'apps/api/src/main.ts',
    'packages/delivery/src/ssrf/blocked-address.ts',
    'scripts/healthcheck.mjs',
    'ops/prometheus/alerts.yml',
  ])('sends %s to the build', (path) => {
    expect(excluded(path)).toBe(false);
  });
});

describe('.env.example', () => {
  it('lists every variable the API and the worker read, and nothing else', () => {
    const listed = new Set([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const read = new Set([...knownVariables(apiConfigSchema), ...knownVariables(workerConfigSchema)]);
    expect([...listed].sort()).toEqual([...read].sort());
  });
});

describe('Dockerfile', () => {
  it('copies every workspace package.json before npm ci (a missing one fails the image build)', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const workspaces = ['apps', 'packages']
      .flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => `${dir}/${name}`))
      .filter((ws) => existsSync(join(ROOT, ws, 'package.json')));
    expect(workspaces).toContain('packages/secrets');
    const copied = [...dockerfile.matchAll(/^COPY (\S+)\/package\.json \1\/$/gm)].map((m) => m[1]);
    expect(workspaces.filter((ws) => !copied.includes(ws))).toEqual([]);
  });
});
