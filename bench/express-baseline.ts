// Bench child: the single-ingest baselines over HTTP, in a process of their own like Hookrelay's API.
// - POST /v1/subscribers/:sid/events parses the JSON body and calls the bare queue's `queue.add`,
//   then answers 202 with the job's id: the ceiling of any express + BullMQ API on this machine.
// - POST /noop/subscribers/:sid/events parses the body and answers 202 without touching Redis:
//   the ceiling of any express API, whatever it does behind the route.
// No auth, no validation, no records, no logs: what the stack itself allows.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Redis from 'ioredis';
import { bareJob, createBareQueue } from './bare';
import { serveCommands } from './child-serve';

let running: { server: Server; close: () => Promise<void> } | undefined;

serveCommands(
  {
    /** Listens on a free loopback port; answers with it. */
    start: async (args: { redisUrl: string }) => {
      if (running) throw new Error('already started');
      const redis = new Redis(args.redisUrl, { maxRetriesPerRequest: null });
      const queue = createBareQueue(redis);
      const app = express();
      app.use(express.json({ limit: '1mb' }));
      app.post('/v1/subscribers/:sid/events', async (req, res, next) => {
        try {
          const id = `evt_${randomUUID()}`;
          const job = bareJob(id, 0, '/bare', (req.body as { payload: Record<string, unknown> }).payload);
          await queue.add(job.name, job.data, job.opts);
          res.status(202).json({ id });
        } catch (err) {
          next(err);
        }
      });
      app.post('/noop/subscribers/:sid/events', (req, res) => {
        res.status(202).json({ id: 'evt_noop', type: (req.body as { type?: string }).type, deliveries: [] });
      });
      const server: Server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      server.keepAliveTimeout = 60_000;
      running = {
        server,
        close: async () => {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await queue.close();
          redis.disconnect();
        },
      };
      return { port: (server.address() as AddressInfo).port };
    },
  },
  async () => {
    await running?.close();
  },
);
