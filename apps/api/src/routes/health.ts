import { Router } from 'express';
import { exposeWithThreads } from '@hookrelay/observability';
import type { ApiDeps } from '../deps';

/** Probes and metrics: no key needed. */
export function healthRoutes(deps: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (!deps.accepting()) return void res.status(503).json({ status: 'stopping' });
    try {
      await Promise.race([deps.redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'redis unreachable' });
    }
  });
  router.get('/metrics', async (_req, res) => {
    const { registry } = deps.metrics;
    if (!deps.workerMetrics) return void res.type(registry.contentType).send(await registry.metrics());
    // npm start: the worker thread's series (deliveries, attempts, queue depth) summed with the API's.
    const worker = await deps.workerMetrics();
    // A thread that did not answer in time: the API's own series still answer the scrape; the
    // worker's are missing from this one (Prometheus marks them stale, it does not see a reset).
    if (!worker) deps.logger.warn('worker.metrics_unanswered');
    const exposed = await exposeWithThreads(registry, worker ? [worker] : []);
    res.type(exposed.contentType).send(exposed.text);
  });
  return router;
}
