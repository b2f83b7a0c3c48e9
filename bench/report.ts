/** One line of the results table. Ratios are always hookrelay / baseline. */
export interface Row {
  phase: string;
  metric: string;
  unit: string;
  hookrelay: number | string | null;
  baseline: number | string | null;
  ratio: number | null;
  target: string;
  /** null when the row has no target (context only). */
  met: boolean | null;
}

type Value = number | string | null;

function ratioOf(hookrelay: Value, baseline: Value): number | null {
  return typeof hookrelay === 'number' && typeof baseline === 'number' && baseline > 0 ? hookrelay / baseline : null;
}

/** A higher-is-better figure whose target is a fraction of the baseline's. */
export function atLeastRatio(phase: string, metric: string, unit: string, hookrelay: number, baseline: number, minRatio: number): Row {
  const ratio = ratioOf(hookrelay, baseline);
  return { phase, metric, unit, hookrelay, baseline, ratio, target: `>= ${minRatio}x baseline`, met: ratio !== null && ratio >= minRatio };
}

/** A lower-is-better figure with an absolute ceiling. */
export function atMost(phase: string, metric: string, unit: string, hookrelay: number, baseline: Value, max: number): Row {
  return {
    phase,
    metric,
    unit,
    hookrelay,
    baseline,
    ratio: ratioOf(hookrelay, baseline),
    target: `<= ${max} ${unit}`,
    met: Number.isFinite(hookrelay) && hookrelay <= max,
  };
}

/** A lower-is-better figure whose target is a multiple of the baseline's. */
export function atMostRatio(phase: string, metric: string, unit: string, hookrelay: number, baseline: number, maxRatio: number): Row {
  const ratio = ratioOf(hookrelay, baseline);
  return { phase, metric, unit, hookrelay, baseline, ratio, target: `<= ${maxRatio}x baseline`, met: ratio !== null && ratio <= maxRatio };
}

/** Context without a target. */
export function info(phase: string, metric: string, unit: string, hookrelay: Value, baseline: Value): Row {
  return { phase, metric, unit, hookrelay, baseline, ratio: ratioOf(hookrelay, baseline), target: '-', met: null };
}

/** Lost and duplicated deliveries: must both be zero. `label` says which deployment ("(b) "). */
export function exactlyOnce(
  phase: string,
  label: string,
  hookrelay: { lost: number; duplicates: number },
  baseline: { lost: number; duplicates: number },
): Row {
  return {
    phase,
    metric: `${label}lost / duplicates`,
    unit: '',
    hookrelay: `${hookrelay.lost} / ${hookrelay.duplicates}`,
    baseline: `${baseline.lost} / ${baseline.duplicates}`,
    ratio: null,
    target: '0 / 0',
    met: hookrelay.lost === 0 && hookrelay.duplicates === 0,
  };
}

function formatValue(value: Value, unit: string): string {
  if (value === null) return '-';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const digits = unit === 'ms' || unit === 'MB' ? 1 : 0;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit && unit !== '/s' ? `${text} ${unit}` : unit === '/s' ? `${text}/s` : text;
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['phase', 'metric', 'hookrelay', 'baseline', 'ratio', 'target', 'met?'];
  const cells = rows.map((r) => [
    r.phase,
    r.metric,
    formatValue(r.hookrelay, r.unit),
    formatValue(r.baseline, r.unit),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
    r.target,
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const right = new Set([2, 3, 4]);
  const line = (c: string[]) =>
    c
      .map((v, i) => (right.has(i) ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
