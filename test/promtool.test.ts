import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// The alert rules are checked by Prometheus's own tool: `promtool check rules` (syntax, templates)
// and `promtool test rules` (ops/prometheus/alerts.test.yml: each rule fires where it must and
// stays quiet where it must). promtool comes with Debian's `prometheus` package; .ci/run installs
// it when missing. Without it this suite fails: it never passes by skipping.
const ROOT = join(__dirname, '..');
const RULES = join(ROOT, 'ops/prometheus/alerts.yml');
const TESTS = join(ROOT, 'ops/prometheus/alerts.test.yml');

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (run.error) {
    throw new Error(
      `promtool could not run (${run.error.message}): install Debian's prometheus package (apt-get install prometheus), as .ci/run does`,
    );
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('ops/prometheus/alerts.yml under promtool', () => {
  it('is installed', () => {
    expect(execFileSync('promtool', ['--version'], { encoding: 'utf8' })).toMatch(/promtool, version \d+\.\d+/);
  });

  it('passes promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', RULES);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(status).toBe(0);
  });

  it('passes its promtool unit tests (alerts.test.yml)', () => {
    const { status, output } = promtool('test', 'rules', TESTS);
    expect(output).not.toContain('FAILED');
    expect(status).toBe(0);
  });

  it('has, for every alert, a test case where it fires and one where it does not', () => {
    const alerts = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> }).groups
      .flatMap((g) => g.rules)
      .flatMap((r) => (r.alert ? [r.alert] : []));
    const cases = (
      parse(readFileSync(TESTS, 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts?: unknown[] }> }> }
    ).tests.flatMap((t) => t.alert_rule_test);
    expect(alerts.length).toBeGreaterThanOrEqual(5);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect({ alert, fires: mine.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({ alert, fires: true });
      expect({ alert, quiet: mine.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({ alert, quiet: true });
    }
  });
});
