import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Pool } from 'undici';
import { benchPayload } from './bare';
import { closedLoop } from './context';

/**
 * What express alone allows in this process: the same client, the same JSON body and route shape
 * as a single publish, answered 202 without touching Redis. No API built on express can ingest
 * single events faster than this, whatever it does behind the route.
 */
export async function expressNoOpRate(events: number, clients: number): Promise<number> {
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.post('/v1/subscribers/:sid/events', (req, res) => {
    res.status(202).json({ id: 'evt_noop', type: (req.body as { type?: string }).type, deliveries: [] });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: clients });
  try {
    const elapsedMs = await closedLoop(events, clients, async (i) => {
      const res = await pool.request({
        method: 'POST',
        path: '/v1/subscribers/sub_noop/events',
        headers: { authorization: 'Bearer hr_pub_noop', 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'custom.bench', payload: benchPayload(i) }),
      });
      await res.body.text();
    });
    return (events / elapsedMs) * 1000;
  } finally {
    await pool.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
