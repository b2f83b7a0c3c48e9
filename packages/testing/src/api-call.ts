export interface ApiCallOptions {
  /** Bearer key; `null` sends none. @defaultValue the harness's default key */
  key?: string | null;
  /** Serialized as JSON unless already a string. */
  body?: unknown;
  headers?: Record<string, string>;
  /** @defaultValue 30000 */
  timeoutMs?: number;
}

export interface ApiCallResult {
  status: number;
  body: any;
  headers: Headers;
  /** Time until the whole response was read. */
  ms: number;
}

/** One request to a Hookrelay API under test: the body parsed as JSON when it is JSON, else kept as text. */
export async function callApi(
  baseUrl: string,
  defaultKey: string,
  method: string,
  path: string,
  opts: ApiCallOptions = {},
): Promise<ApiCallResult> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? defaultKey : opts.key;
  if (key) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const started = performance.now();
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
  const text = await res.text();
  const ms = performance.now() - started;
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed, headers: res.headers, ms };
}
