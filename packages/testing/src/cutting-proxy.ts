import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a Redis that can cut the connection after a given number of commands:
 * the network failing between two steps of an operation, at every step in turn. It counts the
 * client's RESP commands (arrays of bulk strings, which is all ioredis sends), forwards exactly
 * `cutAfter(n)` more of them whole, then closes both sides: what Redis received it ran (a MULTI cut
 * before its EXEC is discarded, as Redis does on a dropped connection), and the client gets a
 * connection error for the rest. Replies are forwarded until the cut.
 */
export class CuttingProxy {
  private allowance = Infinity;
  private readonly pairs = new Set<{ client: Socket; server: Socket }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<CuttingProxy> {
    const server = createServer((client) => proxy.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    // Connections arrive only after listen(), by when proxy is set.
    const proxy = new CuttingProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** From now on, forward `commands` more commands (over all connections), then cut every connection. */
  cutAfter(commands: number): void {
    this.allowance = commands;
    if (commands === 0) this.cut();
  }

  /** Forward everything again (new connections only: cut ones stay closed). */
  heal(): void {
    this.allowance = Infinity;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private cut(): void {
    for (const { client, server } of this.pairs) {
      client.destroy();
      server.destroy();
    }
    this.pairs.clear();
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (this.allowance === 0) return void client.destroy();
    const server = createConnection(target);
    const pair = { client, server };
    this.pairs.add(pair);
    let pending = Buffer.alloc(0);
    server.on('data', (chunk) => client.write(chunk));
    client.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      let end: number;
      while (this.allowance > 0 && (end = commandEnd(pending)) > 0) {
        server.write(pending.subarray(0, end));
        pending = pending.subarray(end);
        this.allowance--;
      }
      if (this.allowance === 0) this.cut();
    });
    const drop = () => {
      client.destroy();
      server.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    server.on('error', drop).on('close', drop);
  }
}

/** The length of the first complete RESP command (`*N` then N bulk strings) in `buf`, or 0. */
function commandEnd(buf: Buffer): number {
  const line = (from: number): [string, number] | null => {
    const at = buf.indexOf('\r\n', from);
    return at < 0 ? null : [buf.toString('latin1', from, at), at + 2];
  };
  const head = line(0);
  if (!head || !head[0].startsWith('*')) return 0;
  let at = head[1];
  for (let i = 0, n = Number(head[0].slice(1)); i < n; i++) {
    const size = line(at);
    if (!size || !size[0].startsWith('$')) return 0;
    at = size[1] + Number(size[0].slice(1)) + 2;
    if (at > buf.length) return 0;
  }
  return at;
}
