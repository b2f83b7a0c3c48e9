// A container healthcheck that needs nothing but node (the runtime image has no curl or wget):
// `node scripts/healthcheck.mjs http://127.0.0.1:3000/readyz` exits 0 on a 2xx within 2 s, else 1.
// docker-compose.yml runs it for the API (/readyz) and the worker (its METRICS_PORT's /readyz).
const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: node scripts/healthcheck.mjs <url>\n');
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`healthcheck: ${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
