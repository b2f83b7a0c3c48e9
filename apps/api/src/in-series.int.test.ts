import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { request } from 'undici';
import { inSeries } from './in-series';

/** An app whose one layer is `series`, then a route answering with what the series left in `res.locals.seen`. */
async function serve(series: RequestHandler): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use(series);
  app.get('/', (_req, res) => void res.json({ reached: 'route', seen: res.locals.seen }));
  const onError: ErrorRequestHandler = (err, _req, res, _next) =>
    void res.status(500).json({ error: (err as Error).message, seen: res.locals.seen });
  app.use(onError);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

const mark =
  (name: string): RequestHandler =>
  (_req, res, next) => {
    res.locals.seen = [...((res.locals.seen as string[] | undefined) ?? []), name];
    next();
  };

describe('inSeries', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function get(series: RequestHandler): Promise<{ status: number; body: { reached?: string; error?: string; seen?: string[] } }> {
    const served = await serve(series);
    server = served.server;
    const res = await request(served.url);
    return { status: res.statusCode, body: (await res.body.json()) as { reached?: string; error?: string; seen?: string[] } };
  }

  it('runs its handlers in order, then the next layer', async () => {
    expect(await get(inSeries(mark('a'), mark('b'), mark('c')))).toEqual({
      status: 200,
      body: { reached: 'route', seen: ['a', 'b', 'c'] },
    });
  });

  it('passes an error given to next on to the error handler and runs nothing after it', async () => {
    const fails: RequestHandler = (_req, _res, next) => next(new Error('refused'));
    expect(await get(inSeries(mark('a'), fails, mark('c')))).toEqual({ status: 500, body: { error: 'refused', seen: ['a'] } });
  });

  it('passes a thrown error on as the router does', async () => {
    const throws: RequestHandler = () => {
      throw new Error('thrown');
    };
    expect(await get(inSeries(mark('a'), throws, mark('c')))).toEqual({ status: 500, body: { error: 'thrown', seen: ['a'] } });
  });

  it('passes an async handler rejection on as the router does', async () => {
    const rejects: RequestHandler = async () => {
      await Promise.resolve();
      throw new Error('rejected');
    };
    expect(await get(inSeries(mark('a'), rejects, mark('c')))).toEqual({ status: 500, body: { error: 'rejected', seen: ['a'] } });
  });

  it('waits for an async handler that calls next later', async () => {
    const later: RequestHandler = async (_req, _res, next) => {
      await new Promise((resolve) => setImmediate(resolve));
      next();
    };
    expect(await get(inSeries(mark('a'), later, mark('c')))).toEqual({ status: 200, body: { reached: 'route', seen: ['a', 'c'] } });
  });

  it("takes next('route') as next() and carries on after a falsy throw, as the router does with middleware", async () => {
    const nextRoute: RequestHandler = (_req, _res, next) => next('route');
    const throwsNothing: RequestHandler = () => {
      throw undefined;
    };
    expect(await get(inSeries(mark('a'), nextRoute, throwsNothing, mark('c')))).toEqual({
      status: 200,
      body: { reached: 'route', seen: ['a', 'c'] },
    });
  });

  it('passes over an error handler when there is no error', async () => {
    const onError: ErrorRequestHandler = (_err, _req, res, _next) => void res.status(418).json({ error: 'error handler ran' });
    expect(await get(inSeries(mark('a'), onError as unknown as RequestHandler, mark('c')))).toEqual({
      status: 200,
      body: { reached: 'route', seen: ['a', 'c'] },
    });
  });

  it('hands an error to the next error handler of the series, which may recover, skipping the handlers between', async () => {
    const fails: RequestHandler = (_req, _res, next) => next(new Error('refused'));
    const recovers: ErrorRequestHandler = (err: Error, _req, res, next) => {
      res.locals.seen = [...(res.locals.seen as string[]), `recovered from ${err.message}`];
      next();
    };
    expect(await get(inSeries(mark('a'), fails, mark('b'), recovers, mark('c')))).toEqual({
      status: 200,
      body: { reached: 'route', seen: ['a', 'recovered from refused', 'c'] },
    });
  });

  it("carries on after a promise rejected with 'route', as the router does", async () => {
    const rejectsRoute: RequestHandler = async () => {
      await Promise.resolve();
      throw 'route';
    };
    expect(await get(inSeries(mark('a'), rejectsRoute, mark('c')))).toEqual({ status: 200, body: { reached: 'route', seen: ['a', 'c'] } });
  });

  it('stops at a handler that answers', async () => {
    const answers: RequestHandler = (_req, res) => void res.status(503).json({ error: 'answered', seen: res.locals.seen });
    expect(await get(inSeries(mark('a'), answers, mark('c')))).toEqual({ status: 503, body: { error: 'answered', seen: ['a'] } });
  });
});
