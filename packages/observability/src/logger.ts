import pino, { type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger, DestinationStream } from 'pino';

/**
 * Paths pino replaces with "[Redacted]" wherever they appear in a log line: a secret must never
 * reach a log file, whatever object a caller happens to log.
 */
export const REDACT_PATHS = [
  'secret',
  '*.secret',
  '*.*.secret',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.*.token',
  'clientSecret',
  '*.clientSecret',
  '*.*.clientSecret',
  'secretAccessKey',
  '*.secretAccessKey',
  '*.*.secretAccessKey',
  // Source verification and outbound auth credentials (SECURITY.md lists them): a view or config
  // object logged whole must not carry one.
  ...['verifyToken', 'appSecret', 'consumerSecret', 'signingSecret', 'authToken', 'sessionToken', 'accessToken', 'privateKey'].flatMap(
    (key) => [key, `*.${key}`, `*.*.${key}`],
  ),
  // An endpoint's API-key auth ({ type: 'api-key', header, value }).
  'auth.value',
  '*.auth.value',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.headers.authorization',
  'requestHeaders.authorization',
];

export interface LoggerFactoryOptions {
  /** @defaultValue 'info' */
  level?: string;
  name?: string;
  /** Where lines go; tests pass a stream to capture them. @defaultValue stdout */
  destination?: DestinationStream;
  /** Human-readable lines (pino-pretty) instead of JSON: for a developer's terminal only. @defaultValue false */
  pretty?: boolean;
}

/** Pretty output only in development and only on a terminal: anything else (a file, a log shipper) gets JSON. */
export function wantsPrettyLogs(env: { NODE_ENV?: string }, stdoutIsTty: boolean | undefined): boolean {
  return env.NODE_ENV !== 'production' && env.NODE_ENV !== 'test' && stdoutIsTty === true;
}

/** Bytes a pipe writes atomically (POSIX PIPE_BUF on Linux). */
const PIPE_BUF = 4096;

/**
 * Most bytes of log lines a process (or thread) keeps waiting for stdout. Past it a line is
 * dropped, not queued, and counted (`hookrelay_log_lines_dropped_total`): a stdout read slowly (a
 * stalled log shipper, or a flood of requests each logging a line) must cost lines, not memory.
 * 16 MiB is several seconds of the heaviest logging measured here.
 */
export const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

let droppedLines = 0;

/** Log lines this thread's stdout writer has dropped since it started (LOG_BUFFER_MAX_BYTES). */
export function droppedLogLines(): number {
  return droppedLines;
}

export interface LogDestinationOptions {
  /** @defaultValue 1 (stdout) */
  fd?: number;
  /** @defaultValue LOG_BUFFER_MAX_BYTES */
  maxBufferedBytes?: number;
}

/**
 * An asynchronous writer of whole log lines to a file descriptor that buffers at most
 * `maxBufferedBytes` and drops (and counts) lines beyond that. createLogger makes one per thread
 * for stdout; tests make their own.
 */
export function createLogDestination(options: LogDestinationOptions = {}): DestinationStream {
  // Asynchronous writes: a line is handed to the kernel with the lines logged while the previous
  // write was under way, not one write(2) per line on the request's path (a write cost ~0.06 ms of
  // the API's CPU per request under load here; docs/performance.md). pino flushes what is buffered
  // synchronously when the process exits, so a crash (uncaughtException, process.exit) keeps its
  // last lines; only a SIGKILL can lose the lines of the last write in flight. Whole lines, and no
  // more than PIPE_BUF per write unless one line is longer.
  const destination = pino.destination({
    dest: options.fd ?? 1,
    sync: false,
    maxWrite: PIPE_BUF,
    maxLength: options.maxBufferedBytes ?? LOG_BUFFER_MAX_BYTES,
  });
  destination.on('drop', (data: string | Buffer) => {
    // latin1: a byte a character, so a newline byte is a newline character (a dropped write is rare).
    droppedLines += countLines(typeof data === 'string' ? data : data.toString('latin1'));
  });
  return destination;
}

let stdoutDestination: DestinationStream | undefined;

/**
 * This thread's one writer to stdout, shared by every logger it creates. Only one thread of a
 * process may write stdout: the kernel keeps a write to a pipe whole only up to PIPE_BUF (4 KiB),
 * so a longer line written by one thread while another writes is cut where the pipe was full and
 * the other's line lands inside it (seen at byte 8,192 of a 16 KB line under npm start). npm
 * start's delivery thread therefore hands its lines to the main thread
 * (`forwardingLogDestination`), which writes them here with its own.
 */
export function stdoutLogDestination(): DestinationStream {
  stdoutDestination ??= createLogDestination();
  return stdoutDestination;
}

/**
 * Characters of log lines a thread may have handed to the thread that writes stdout and not yet
 * seen written (`LogHandOver`). Lines wait in the receiving thread's message queue while its event
 * loop is busy, where stdout's own bound (LOG_BUFFER_MAX_BYTES) cannot see them: without this, a
 * worker thread logging through a long stall of the API's event loop grew its process's memory
 * for as long as the stall lasted.
 */
export const LOG_HANDOVER_MAX_CHARS = 16 * 1024 * 1024;

/**
 * The characters a thread has handed over and the receiving thread has not yet written, shared by
 * both (a SharedArrayBuffer, so neither waits on the other to count). The sender adds before it
 * sends (`forwardingLogDestination`); the receiver subtracts once it has written (`written`).
 */
export class LogHandOver {
  private readonly pending: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT),
    private readonly maxChars = LOG_HANDOVER_MAX_CHARS,
  ) {
    this.pending = new Int32Array(buffer);
  }

  /** Whether `chars` more may wait, beside `alsoWaiting` held by the sender itself. */
  hasRoomFor(chars: number, alsoWaiting: number): boolean {
    return Atomics.load(this.pending, 0) + alsoWaiting + chars <= this.maxChars;
  }

  sent(chars: number): void {
    Atomics.add(this.pending, 0, chars);
  }

  written(chars: number): void {
    Atomics.sub(this.pending, 0, chars);
  }
}

/** Lines in dropped text (at least one: a line without its newline is still a line). */
function countLines(text: string): number {
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return Math.max(lines, 1);
}

/**
 * A destination that hands lines to `send` (a worker thread's, to the thread that writes stdout):
 * the lines logged in one turn of the event loop go together, one message for them all (a message
 * per line cost ~3 us of the process's CPU a line against ~1 us, 100,000 lines handed over by a
 * worker thread). `flush` sends what waits at once: before the thread says it has closed, so no
 * line is lost or arrives after that; and when the thread exits, however it exits (a crash's own
 * turn logged lines that would otherwise be lost, as pino's asynchronous stdout writer does not).
 * With a `handOver`, a line that would take the characters waiting past its bound is dropped and
 * counted (`hookrelay_log_lines_dropped_total`, as stdout's writer does), not queued.
 */
export function forwardingLogDestination(
  send: (lines: string) => void,
  handOver?: LogHandOver,
): DestinationStream & { flush(done?: () => void): void } {
  let waiting = '';
  let scheduled = false;
  const sendWaiting = (): void => {
    scheduled = false;
    if (!waiting) return;
    const lines = waiting;
    waiting = '';
    handOver?.sent(lines.length);
    send(lines);
  };
  process.once('exit', sendWaiting);
  return {
    write: (line: string) => {
      if (handOver && !handOver.hasRoomFor(line.length, waiting.length)) {
        droppedLines += countLines(line);
        return;
      }
      waiting += line;
      if (scheduled) return;
      scheduled = true;
      setImmediate(sendWaiting);
    },
    flush: (done) => {
      sendWaiting();
      done?.();
    },
  };
}

/** Characters of an error's message (and of its stack) a log line keeps. */
const MAX_ERROR_TEXT_CHARS = 2048;
/** Nested causes (`err.cause`, an AggregateError's `errors`) a log line follows. */
const MAX_ERROR_DEPTH = 3;

function capText(text: string): string {
  return text.length <= MAX_ERROR_TEXT_CHARS
    ? text
    : `${text.slice(0, MAX_ERROR_TEXT_CHARS)}[+${text.length - MAX_ERROR_TEXT_CHARS} chars]`;
}

/**
 * Every logger's serializer for `err` (and `error`): type, message, stack, the system error's
 * `code`/`errno`/`syscall`, the Redis command's name, and the causes, each cut to 2,048
 * characters. Nothing else is copied: pino's own serializer copies every enumerable property, and
 * an ioredis reply error carries the whole command it refused in `command.args` (a publish's
 * payload of up to 1 MiB, a receiver's response, an endpoint's headers, a secret being stored),
 * which reached `delivery.job_failed` and `request.failed` lines when Redis ran out of memory.
 * Anything that is not an error is left as it is (`{ err: err.message }`).
 */
export function serializeError(value: unknown): unknown {
  return serializeAt(value, 0);
}

function serializeAt(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || !(value instanceof Error || ('message' in value && 'stack' in value))) return value;
  const err = value as Error & { code?: unknown; errno?: unknown; syscall?: unknown; command?: unknown; errors?: unknown };
  const out: Record<string, unknown> = {
    type: (err.constructor as { name?: unknown } | undefined)?.name ?? 'Error',
    message: capText(String(err.message)),
  };
  if (typeof err.stack === 'string') out.stack = capText(err.stack);
  if (typeof err.code === 'string' || typeof err.code === 'number') out.code = err.code;
  if (typeof err.errno === 'number') out.errno = err.errno;
  if (typeof err.syscall === 'string') out.syscall = err.syscall;
  const command = err.command as { name?: unknown } | undefined;
  if (typeof command === 'object' && command !== null && typeof command.name === 'string') out.command = command.name.slice(0, 64);
  if (depth < MAX_ERROR_DEPTH) {
    if (err.cause !== undefined) out.cause = serializeAt(err.cause, depth + 1);
    if (Array.isArray(err.errors)) out.errors = err.errors.slice(0, 5).map((e) => serializeAt(e, depth + 1));
  }
  return out;
}

export function createLogger(options: LoggerFactoryOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    name: options.name,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: { err: serializeError, error: serializeError },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (options.destination) return pino(config, options.destination);
  if (options.pretty)
    return pino(config, pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }));
  return pino(config, stdoutLogDestination());
}
