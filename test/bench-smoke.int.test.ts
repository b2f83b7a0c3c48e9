import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBenchConfig } from '../bench/config';

const ROOT = join(__dirname, '..');

/** Pids of running processes whose command line contains `needle`. */
function processesRunning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Issues 4 and 22: CI runs `npm run bench` in quick mode and checks that it completes and prints the
 * table. No timing is asserted (the machine is shared); only that every phase ran, nothing was lost
 * or duplicated, the table and its JSON carry every row with a ratio against its baseline, and the
 * processes measured are the ones the README names.
 */
describe('npm run bench (BENCH_QUICK=1)', () => {
  it('runs every phase to the end and prints the table with each figure beside its baseline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookrelay-bench-'));
    const resultsFile = join(dir, 'latest.json');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
        cwd: ROOT,
        env: { ...process.env, BENCH_QUICK: '1', BENCH_RESULTS_FILE: resultsFile, BENCH_PROFILE: '', BENCH_PHASES: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect([code, out.slice(-3000)]).toEqual([0, expect.any(String)]);
      // Hookrelay's processes (started with this checkout's exit-with-bench.ts preloaded) all stopped with the run.
      expect(processesRunning(join(ROOT, 'bench', 'exit-with-bench.ts'))).toEqual([]);

      const table = out.slice(out.indexOf('\nphase '));
      expect(table).toMatch(/^\nphase +metric +hookrelay +baseline +ratio +target +met\?/);
      for (const phase of [
        '1-2 pipeline',
        '3 ingest',
        '4 latency',
        '5 fan-out',
        '6 memory',
        '6 drain',
        '7 isolation',
        '8 scale 1 worker',
        '8 scale 2 workers',
        '8 scale 4 workers',
      ]) {
        expect(table).toContain(phase);
      }
      for (const d of ['a', 'b']) expect(table).toMatch(new RegExp(`1-2 pipeline +\\(${d}\\) lost / duplicates +0 / 0 +0 / 0`));
      expect(table.match(/^8 scale .* lost \/ duplicates +0 \/ 0 +0 \/ 0/gm)).toHaveLength(3);

      type JsonRow = { phase: string; metric: string; hookrelay: unknown; baseline: unknown; ratio: unknown };
      const json = JSON.parse(readFileSync(resultsFile, 'utf8')) as { mode: string; exitCode: number; broken: unknown; rows: JsonRow[] };
      expect(json).toMatchObject({ mode: 'quick', exitCode: 0, broken: null });
      const rates = json.rows.filter((r) => /deliveries\/s|single POST|batch of/.test(r.metric));
      expect(rates.length).toBeGreaterThanOrEqual(10);
      for (const row of rates)
        expect([row.metric, typeof row.hookrelay, typeof row.baseline, typeof row.ratio]).toEqual([
          row.metric,
          'number',
          'number',
          'number',
        ]);

      // Single ingest beside both baselines: the express + queue.add route and bare queue.add.
      const metrics = json.rows.map((r) => `${r.phase} | ${r.metric}`);
      expect(metrics).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^3 ingest \| single POST.*vs express \+ queue\.add$/),
          expect.stringMatching(/^3 ingest \| single POST vs bare queue\.add/),
        ]),
      );
      // Every latency step for both deployments, with answer times, its ramp and each process's CPU.
      const { latencyRatesPerS, latencySeconds, latencyRampSeconds } = loadBenchConfig({ BENCH_QUICK: '1' });
      expect(latencyRatesPerS.length).toBeGreaterThanOrEqual(2);
      expect(latencyRampSeconds).toBeGreaterThan(0);
      const rampMetric = `first ${latencyRampSeconds} s at the rate (not above): p99`;
      for (const rate of latencyRatesPerS) {
        for (const deployment of ['(a)', '(b)']) {
          for (const metric of ['publish-to-arrival p99', 'publish answered p99', 'CPU, % of a core', rampMetric]) {
            expect(metrics).toContain(`4 latency ${rate}/s x ${latencySeconds}s | ${deployment} ${metric}`);
          }
        }
      }
      const firstStep = `4 latency ${latencyRatesPerS[0]}/s x ${latencySeconds}s`;
      const cpu = (deployment: string) =>
        json.rows.find((r) => r.phase === firstStep && r.metric === `${deployment} CPU, % of a core`)?.hookrelay;
      expect(cpu('(a)')).toMatch(/^npm start \d+, load generator \d+, sink \d+, redis \d+$/);
      expect(cpu('(b)')).toMatch(/^api \d+, worker \d+, load generator \d+, sink \d+, redis \d+$/);
      expect(metrics.filter((m) => /^4 latency \| \((a|b)\) highest rate with p99 < 50 ms/.test(m))).toHaveLength(3);
      // Beside each step, the same publishes over HTTP to express + queue.add in front of the bare worker.
      for (const rate of latencyRatesPerS) {
        expect(metrics).toContain(
          `4 latency ${rate}/s x ${latencySeconds}s | (b) publish-to-arrival p99 vs express + queue.add + bare worker`,
        );
      }
      const ceilingCpu = json.rows.find(
        (r) => r.phase === firstStep && r.metric === '(b) CPU, % of a core, vs express + queue.add + bare worker',
      )?.baseline;
      expect(ceilingCpu).toMatch(/^express \d+, worker \d+, load generator \d+, sink \d+, redis \d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
