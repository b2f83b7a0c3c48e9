import type { Socket } from 'node:net';
import { ResponseLimitError } from './response-limit-error';

/**
 * The most the worker reads from a receiver's connection for one request, counting every byte:
 * the headers of each message, interim ones included, chunk framing and extensions, the body.
 *
 * The per-response bounds left two holes open: undici's 16 KiB header limit restarts with each
 * 1xx response (a stream of 103s cut another receiver's sendRequest throughput by 82%), and chunk
 * extensions are not body bytes, so the 4 KB preview cap never saw them (241 MB parsed in one
 * attempt). undici's parser has no limit or callback for extensions.
 *
 * An honest answer needs far less: a delivery reads the final response's headers (undici's 16 KiB
 * at most), up to MAX_INTERIM_RESPONSES interim responses' before them (80 KiB at most) and the
 * body's first 4 KB (RESPONSE_BODY_KEEP_BYTES; sendRequest drops the connection past it), a token
 * request 16 KiB of headers and a 64 KB body (MAX_TOKEN_RESPONSE_BYTES), each with its framing,
 * plus what the socket read ahead of the parser (up to one 64 KiB read) when the reader let go.
 * 256 KiB stays clear of all of it, and parsing it costs the worker a few milliseconds at most
 * (here 103s parse at ~90 MB/s, chunk extensions at ~280 MB/s).
 */
export const RESPONSE_READ_BUDGET_BYTES = 256 * 1024;

/**
 * Holds each request on `socket` to `budget` bytes read, destroying the socket (its request fails
 * with a ResponseLimitError) once past it.
 *
 * Per request, on a socket undici keeps alive across requests: a request starts with the worker's
 * write of it (undici runs one request at a time on a socket, pipelining 1, and writes a string
 * body with its head in one go), so the count restarts where the socket's bytesWritten last moved.
 * A receiver cannot make the worker write, so it cannot restart its own count.
 *
 * On a TLS socket the bytes read are counted as they came off the network (networkBytesRead), not
 * as the parser sees them: a receiver sending one byte of plaintext per TLS record (or padding its
 * records, up to 16 KB each) made the worker read and decrypt 23 to 16,000 times the budget before
 * the plaintext count reached it.
 *
 * Checked on 'readable', the event undici itself reads on, before undici's own listener (this one
 * is added first, in the connector), so nothing past the budget reaches the parser and no callback
 * of the request has to fire: a chunk extension or a status line streamed forever fires none. A
 * 'data' listener would switch the socket to flowing mode under undici. Between two events the
 * socket reads at most one 64 KiB read past its 16 KiB buffer, so what is read stays within ~80 KiB
 * of the budget, and no timer is needed.
 */
export function limitBytesReadPerRequest(socket: Socket, budget: number = RESPONSE_READ_BUDGET_BYTES): void {
  let writtenAtStart = socket.bytesWritten;
  let readAtStart = networkBytesRead(socket);
  let readAtLastCheck = readAtStart;
  const check = () => {
    if (socket.destroyed) return;
    const read = networkBytesRead(socket);
    if (socket.bytesWritten !== writtenAtStart) {
      // A request went out since the last check, and every byte read since came after it.
      writtenAtStart = socket.bytesWritten;
      readAtStart = readAtLastCheck;
    }
    readAtLastCheck = read;
    if (read - readAtStart > budget) {
      socket.destroy(
        new ResponseLimitError(`receiver sent over ${budget} bytes for one request (headers, chunk framing and body counted together)`),
      );
    }
  };
  socket.on('readable', check);
  // A TLS 1.3 session ticket carries no plaintext, so no 'readable' follows it (limitSessionTickets).
  socket.on('session', check);
}

/**
 * The most TLS sessions (TLS 1.3 NewSessionTicket messages, or a TLS 1.2 handshake's ticket) the
 * worker takes from one connection. Servers send one or two after a handshake (OpenSSL's default
 * is two); a receiver may send them for as long as the connection lasts, and each costs the worker
 * OpenSSL's copy of the session, its serialisation for Node and a call into undici's session cache,
 * ~12 us, none of it plaintext that the read budget counted. An audit's receiver streamed 20,000
 * (`num_tickets` in Python's ssl): 240 ms of the worker's event loop for one request before the
 * response's bytes tripped the read budget, which now also looks on each ticket.
 */
export const MAX_SESSION_TICKETS_PER_CONNECTION = 8;

/** Destroys `socket` (its request fails with a ResponseLimitError) past `max` TLS sessions. */
export function limitSessionTickets(socket: Socket, max: number = MAX_SESSION_TICKETS_PER_CONNECTION): void {
  let sessions = 0;
  socket.on('session', () => {
    if (++sessions > max && !socket.destroyed) {
      socket.destroy(new ResponseLimitError(`receiver sent over ${max} TLS session tickets on one connection`));
    }
  });
}

/**
 * What the socket read from the network. A TLS socket's own `bytesRead` counts plaintext; the TCP
 * handle under its TLS handle (`_handle._parent`, a Node internal since TLS sockets have had one)
 * counts what arrived. Plaintext when that cannot be read (a plain socket, a closed one, or a Node
 * whose internals moved: read-budget.int.test.ts's TLS case would then fail).
 */
export function networkBytesRead(socket: Socket): number {
  const network = (socket as unknown as { _handle?: { _parent?: { bytesRead?: unknown } } | null })._handle?._parent?.bytesRead;
  return typeof network === 'number' ? network : socket.bytesRead;
}
