import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Middleware that always runs together, as one router layer. Each layer a request passes costs the
 * router a path match, a match object, its params and a closure or two, whether or not the
 * middleware does anything: in `npm run bench`'s single publishes the router allocated more than
 * any other package (about a fifth of the API process's allocations, sampled), so the handlers
 * every /v1 request runs in a row are one layer.
 *
 * Each handler is called as express's router (2.x) calls middleware layers: with `next`; an error
 * passed to it, thrown or rejected (a falsy rejection as `Rejected promise`) goes to the next error
 * handler (four parameters) of the series, else to the caller's `next`, and the handlers between
 * are skipped; a falsy one thrown or passed is no error; `next('route')` is `next()` (it skips
 * routes, and a series holds none) and `next('router')` leaves the router; an error handler is
 * passed over while there is no error.
 */
export function inSeries(...handlers: Array<RequestHandler | ErrorRequestHandler>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    let at = 0;
    const step = (err?: unknown): void => {
      if (err === 'router') return next(err);
      const error: unknown = err && err !== 'route' ? err : undefined;
      let handler = handlers[at++];
      while (handler && (error ? handler.length < 4 : handler.length > 3)) handler = handlers[at++];
      if (!handler) return error ? next(error) : next();
      try {
        const answer: unknown = error
          ? (handler as ErrorRequestHandler)(error, req, res, step)
          : (handler as RequestHandler)(req, res, step);
        if (isThenable(answer)) answer.then(undefined, (rejected: unknown) => step(rejected || new Error('Rejected promise')));
      } catch (thrown) {
        step(thrown);
      }
    };
    step();
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
