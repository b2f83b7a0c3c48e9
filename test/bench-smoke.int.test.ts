import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/**
 * Issue 4: CI runs `npm run bench` in quick mode and checks that it completes and prints the table.
 * No timing is asserted (the machine is shared); only that every phase ran, nothing was lost or
 * duplicated, and the table and its JSON carry every row with a ratio against the baseline.
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

      const table = out.slice(out.indexOf('\nphase '));
      expect(table).toMatch(/^\nphase +metric +hookrelay +baseline +ratio +target +met\?/);
      for (const phase of ['1-2 pipeline', '3 ingest', '4 latency', '5 fan-out', '6 memory', '6 drain', '7 isolation']) expect(table).toContain(phase);
      expect(table).toMatch(/1-2 pipeline +lost \/ duplicates +0 \/ 0 +0 \/ 0/);

      const json = JSON.parse(readFileSync(resultsFile, 'utf8')) as { mode: string; exitCode: number; broken: unknown; rows: Array<{ phase: string; metric: string; hookrelay: unknown; baseline: unknown; ratio: unknown }> };
      expect(json).toMatchObject({ mode: 'quick', exitCode: 0, broken: null });
      const rates = json.rows.filter((r) => /deliveries\/s|single POST|batch of/.test(r.metric));
      expect(rates.length).toBeGreaterThanOrEqual(4);
      for (const row of rates) expect([row.metric, typeof row.hookrelay, typeof row.baseline, typeof row.ratio]).toEqual([row.metric, 'number', 'number', 'number']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
