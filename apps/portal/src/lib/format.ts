/** "3 min ago", "in 40 s", "2 h ago": how long ago (or until) a time is, from `nowMs`. */
export function relativeTime(ms: number | null | undefined, nowMs: number): string {
  if (ms === null || ms === undefined) return 'never';
  const diff = Math.round((nowMs - ms) / 1000);
  const abs = Math.abs(diff);
  if (abs < 5) return 'just now';
  const text =
    abs < 60
      ? `${abs} s`
      : abs < 3600
        ? `${Math.floor(abs / 60)} min`
        : abs < 86_400
          ? `${Math.floor(abs / 3600)} h`
          : `${Math.floor(abs / 86_400)} d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** A time as the person's browser writes it, to the second. */
export function dateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return 'no attempts yet';
  return `${Math.round(rate * 1000) / 10}%`;
}

/** `2026-11-23T14:05` in local time, for an `<input type="datetime-local">`. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** The epoch ms of a `datetime-local` value, or undefined when empty or unreadable. */
export function fromLocalInput(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** JSON with two-space indents; text that is not JSON is shown as it is. */
export function prettyJson(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? String(value);
}

export function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** 60000 -> "1 min", 1500 -> "1.5 s": a hint beside a field typed in milliseconds. */
export function millisHint(text: string): string {
  const ms = Number(text);
  if (!text.trim() || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${ms / 1000} s`;
  if (ms < 3_600_000) return `${Math.round((ms / 60_000) * 10) / 10} min`;
  return `${Math.round((ms / 3_600_000) * 10) / 10} h`;
}

/** Bytes as people read them: 1.5 GB, 980 KB, 512 B (decimal units, one decimal under ten). */
export function byteSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 || value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
