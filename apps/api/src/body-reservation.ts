import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bodyBytesOnTheWay } from './sources/ingest-body';
import type { InFlightPerSubscriber } from './subscriber-limits';

/**
 * Reads a `/v1` body with `parse` (express.json) once the bytes it may bring are reserved against
 * its caller's subscriber (`inFlight`: HOOKRELAY_API_BODY_BYTES_IN_FLIGHT), and lets go of them
 * once the body has been read or given up on (parsed, refused, cut off by the request timeout, its
 * connection closed): `parse` answers exactly once whichever way it ends, which the response's
 * 'close' does not for a request pipelined behind another on a connection that closed. Over the
 * bound, 429 `bodies_in_flight` before a byte of the body is read.
 *
 * Only a subscriber's own keys and portal sessions are bounded: those are what one subscriber holds
 * of the process every subscriber uses. The admin's and publishers' keys are the platform's own.
 * A body declared over `limitBytes` reserves nothing: `parse` refuses it (413) unread.
 */
export function reserveBodies(inFlight: InFlightPerSubscriber, limitBytes: number, parse: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const principal = req.principal;
    const subscriberId = principal?.role === 'subscriber' || principal?.role === 'session' ? principal.subscriberId : undefined;
    const bytes = subscriberId === undefined ? 0 : bodyBytesOnTheWay(req, limitBytes);
    if (subscriberId === undefined || bytes === 0) return parse(req, res, next);
    let release: () => void;
    try {
      release = inFlight.take(subscriberId, 'body', bytes);
    } catch (err) {
      return next(err);
    }
    parse(req, res, (err?: unknown) => {
      release();
      next(err);
    });
  };
}
