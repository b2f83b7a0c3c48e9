import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePort } from '@hookrelay/testing';
import { ApiClient } from './hookrelay-api';
import { HookrelayProcess, peakRssBytes, type HookrelayEnv, type HookrelayRole } from './hookrelay-process';

/**
 * Hookrelay as it is deployed, under test. Two deployments:
 * - (a) `npm start`: one process, API and worker together (apps/api/src/main.ts --with-worker);
 * - (b) the API (`npm run start:api`) and one or more workers (`npm run start:worker`), each a process.
 */
export interface Deployment {
  readonly label: string;
  /** The API's origin, for the load generator. */
  readonly origin: string;
  /** The orchestrator's own client for set-up (subscribers, endpoints, limits): never the measured load. */
  readonly client: ApiClient;
  /** Starts what is not running yet: (a) its process, (b) workers up to `workers` (the API always runs). */
  start(workers?: number): Promise<void>;
  /** Stops its delivery side: (a) its process, (b) every worker. */
  stop(): Promise<void>;
  /** Its running processes by name, for CPU meters. */
  pids(): Record<string, number>;
}

export const SINGLE_LABEL = '(a) npm start';
export const SPLIT_LABEL = '(b) API + worker';

/**
 * Every Hookrelay process of a run. (b)'s API starts once and serves every phase (an idle API does
 * no Redis work, so it costs nothing while something else is measured); workers and (a)'s process
 * are started for the stretches that need them and stopped before Redis is flushed.
 */
export class HookrelayFleet {
  readonly adminKey = `hr_admin_bench_${randomBytes(16).toString('hex')}`;
  /** Peak RSS per role over the run, of every process that has stopped. */
  readonly peakRssBytes: Record<HookrelayRole, number> = { 'npm start': 0, api: 0, worker: 0 };
  readonly single: Deployment;
  readonly split: Deployment;
  private readonly env: HookrelayEnv;
  private readonly logDir = mkdtempSync(join(tmpdir(), 'hookrelay-bench-logs-'));
  private api: HookrelayProcess | undefined;
  private workers: HookrelayProcess[] = [];
  private singleProcess: HookrelayProcess | undefined;
  private started = 0;
  private readonly pools: Pool[] = [];

  private constructor(
    redisUrl: string,
    keyPrefix: string,
    private readonly ports: { api: number; single: number },
    private readonly cpuProfDir: string | undefined,
    workerSettings: Readonly<Record<string, string>>,
    private readonly log: (line: string) => void,
  ) {
    this.env = {
      redisUrl,
      keyPrefix,
      adminKey: this.adminKey,
      encryptionKeys: `bench:${randomBytes(32).toString('base64')}`,
      workerSettings,
    };
    this.split = this.deployment(SPLIT_LABEL, ports.api, {
      start: (workers = 1) => this.startWorkers(workers),
      stop: () => this.stopWorkers(),
      pids: () => ({ api: this.api?.pid ?? 0, ...this.workerPids() }),
    });
    this.single = this.deployment(SINGLE_LABEL, ports.single, {
      start: async () => {
        this.singleProcess ??= await this.spawn('npm start', this.ports.single);
      },
      stop: async () => {
        const p = this.singleProcess;
        this.singleProcess = undefined;
        await this.retire(p);
      },
      pids: () => ({ 'npm start': this.singleProcess?.pid ?? 0 }),
    });
  }

  /** Starts (b)'s API; the rest starts on demand. */
  static async start(
    redisUrl: string,
    keyPrefix: string,
    cpuProfDir: string | undefined,
    workerSettings: Readonly<Record<string, string>>,
    log: (line: string) => void,
  ): Promise<HookrelayFleet> {
    const ports = { api: await freePort(), single: await freePort() };
    const fleet = new HookrelayFleet(redisUrl, keyPrefix, ports, cpuProfDir, workerSettings, log);
    try {
      fleet.api = await fleet.spawn('api', fleet.ports.api);
    } catch (err) {
      await fleet.close();
      throw err;
    }
    return fleet;
  }

  /** Peak RSS of (b)'s API so far (it runs until the end). */
  apiPeakRssBytes(): number {
    return this.api ? peakRssBytes(this.api.pid) : 0;
  }

  private deployment(label: string, port: number, ops: Pick<Deployment, 'start' | 'stop' | 'pids'>): Deployment {
    const origin = `http://127.0.0.1:${port}`;
    const pool = new Pool(origin, { connections: 16 });
    this.pools.push(pool);
    return { label, origin, client: new ApiClient(pool, this.adminKey), ...ops };
  }

  private workerPids(): Record<string, number> {
    if (this.workers.length === 1) return { worker: this.workers[0]!.pid };
    return Object.fromEntries(this.workers.map((w, i) => [`worker ${i + 1}`, w.pid]));
  }

  private async spawn(role: HookrelayRole, port?: number): Promise<HookrelayProcess> {
    const name = `${role === 'npm start' ? 'npm-start' : role}-${++this.started}`;
    const begun = performance.now();
    const p = await HookrelayProcess.start({ name, role, env: this.env, port, logDir: this.logDir, cpuProfDir: this.cpuProfDir });
    this.log(`hookrelay ${name} (pid ${p.pid}) ready in ${((performance.now() - begun) / 1000).toFixed(1)} s`);
    return p;
  }

  /** Starts worker processes (all at once) until `count` run. */
  async startWorkers(count: number): Promise<void> {
    const more = Array.from({ length: Math.max(0, count - this.workers.length) }, () => this.spawn('worker'));
    this.workers.push(...(await Promise.all(more)));
  }

  async stopWorkers(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => this.retire(w)));
  }

  private async retire(p: HookrelayProcess | undefined): Promise<void> {
    if (!p) return;
    await p.stop();
    this.peakRssBytes[p.role] = Math.max(this.peakRssBytes[p.role], p.peakRssBytes);
  }

  /** Stops everything (the API last) and removes the logs of processes that stopped cleanly. */
  async close(): Promise<void> {
    await this.stopWorkers();
    await this.single.stop();
    await this.retire(this.api);
    this.api = undefined;
    await Promise.all(this.pools.map((p) => p.close()));
    rmSync(this.logDir, { recursive: true, force: true });
  }

  /** Synchronous last resort for process 'exit' handlers. */
  killNow(): void {
    for (const p of [...this.workers, this.singleProcess, this.api]) p?.killNow();
  }
}
