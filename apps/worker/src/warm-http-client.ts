import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';

/**
 * undici compiles its HTTP parser (llhttp, WebAssembly) on its first connection, synchronously, in
 * the middle of the first delivery; after a restart under load that pause lands on every request in
 * flight. One request to a throwaway loopback server at start-up pays it there instead (the parser
 * is shared by every undici client in the process, the SSRF-guarded dispatcher's included).
 */
export async function warmHttpClient(): Promise<void> {
  const server = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    const res = await client.request({ method: 'GET', path: '/' });
    await res.body.dump();
  } finally {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
