import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Middleware that always runs together, as one router layer. Each layer a request passes costs the
 * router a path match, a match object, its params and a closure or two, whether or not the
 * middleware does anything: in `npm run bench`'s single publishes the router allocated more than
 * any other package (about a fifth of the API process's allocations, sampled), so the handlers
 * every /v1 request runs in a row are one layer.
 *
 * Each handler is called as the router would: with `next`, a rejected promise passed to the
 * caller's `next` like a thrown error, and the first error skipping the rest.
 */
export function inSeries(...handlers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    let at = 0;
    const step = (err?: unknown): void => {
      if (err) return next(err);
      const handler = handlers[at++];
      if (!handler) return next();
      try {
        const answer: unknown = handler(req, res, step);
        if (isThenable(answer)) answer.then(undefined, (rejected: unknown) => next(rejected || new Error('Rejected promise')));
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
