import { createServer, type Server, type ServerResponse } from 'node:http';
import type { HookrelayMetrics } from '@hookrelay/observability';

export interface ProbeServerOptions {
  metrics: HookrelayMetrics;
  /** Whether the worker takes jobs and reaches Redis now. */
  ready: () => Promise<boolean>;
}

/**
 * The worker's own HTTP port (METRICS_PORT): `/metrics` for Prometheus, `/healthz` (the process
 * answers) and `/readyz` (it takes jobs and reaches Redis; 503 while stopping or cut off) for
 * orchestrators, such as the compose file's healthcheck.
 */
export function createProbeServer(options: ProbeServerOptions): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (path === '/metrics') {
      void options.metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text));
      return;
    }
    if (path === '/healthz') return void json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      void options.ready().then(
        (ready) => json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' }),
        () => json(res, 503, { status: 'not ready' }),
      );
      return;
    }
    res.writeHead(404).end();
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
