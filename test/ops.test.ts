import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetrics } from '@hookrelay/observability';
import { parse } from 'yaml';

// The dashboard and the alert rules are parsed and every metric they name is checked against the
// families the service registers, so a renamed metric fails a test. What the rules do is tested by
// promtool (test/promtool.test.ts runs ops/prometheus/alerts.test.yml).
const ROOT = join(__dirname, '..');
const registered = new Set<string>();
for (const metric of createMetrics({ processMetrics: false }).registry.getMetricsAsArray()) {
  registered.add(metric.name);
  if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) registered.add(`${metric.name}${suffix}`);
}

function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\bhookrelay_[a-z_]+\b/g) ?? [])];
}

describe('ops/prometheus/alerts.yml', () => {
  const rules = (
    parse(readFileSync(join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }> }>;
    }
  ).groups.flatMap((g) => g.rules);

  it('has the backlog, failure-ratio and no-deliveries alerts', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['HookrelayBacklogGrowing', 'HookrelayFailureRatioRising', 'HookrelayNoDeliveries']),
    );
  });

  it.each(rules.map((r) => [r.alert, r] as const))(
    '%s names only metrics the service exports, with a severity and a summary',
    (_name, rule) => {
      const names = metricNames(rule.expr);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(registered).toContain(name);
      expect(['info', 'warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
    },
  );
});

describe('ops/grafana/hookrelay.json', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'ops/grafana/hookrelay.json'), 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };

  it('shows throughput, outcomes, latency quantiles, queue depth and the oldest pending delivery', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const name of [
      'hookrelay_events_published_total',
      'hookrelay_deliveries_total',
      'hookrelay_delivery_attempts_total',
      'hookrelay_queue_jobs',
      'hookrelay_oldest_pending_seconds',
    ]) {
      expect(exprs).toContain(name);
    }
    expect(exprs).toMatch(/histogram_quantile\(0\.99, .*hookrelay_end_to_end_seconds_bucket/);
  });

  it('names only metrics the service exports', () => {
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) for (const name of metricNames(target.expr)) expect(registered).toContain(name);
    }
  });
});
