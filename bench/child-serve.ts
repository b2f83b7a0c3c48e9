/**
 * The child side of the bench's IPC: the orchestrator sends `{id, cmd, args}`, the child answers
 * `{id, ok, result | error}`. A child whose parent disappears (crash, SIGKILL) exits by itself, so
 * a broken run never leaves workers behind.
 */
// Each handler declares the argument type it expects; the IPC hands it whatever the orchestrator sent.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handlers = Record<string, (args: any) => unknown>;

interface Request {
  id: number;
  cmd: string;
  args?: unknown;
}

export function serveCommands(handlers: Handlers, onExit: () => Promise<void>, readyInfo: unknown = {}): void {
  if (!process.send) throw new Error('this file is a bench child: start it with child_process.fork');
  let exiting = false;
  const exit = async (): Promise<void> => {
    if (exiting) return;
    exiting = true;
    await onExit().catch(() => undefined);
  };

  process.on('message', (raw: unknown) => {
    const req = raw as Request;
    if (req.cmd === 'exit') {
      // Exit normally (not by signal) so --cpu-prof writes its profile.
      void exit().then(() => process.send?.({ id: req.id, ok: true, result: null }, () => process.exit(0)));
      return;
    }
    const handler = handlers[req.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${req.cmd}`);
        return handler(req.args);
      })
      .then(
        (result) => process.send?.({ id: req.id, ok: true, result: result ?? null }),
        (err: unknown) => process.send?.({ id: req.id, ok: false, error: (err as Error)?.stack ?? String(err) }),
      );
  });
  process.on('disconnect', () => void exit().then(() => process.exit(0)));
  process.send({ ready: readyInfo });
}
