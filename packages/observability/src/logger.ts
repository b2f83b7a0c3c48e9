import pino, { type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

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

export function createLogger(options: LoggerFactoryOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    name: options.name,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (options.destination) return pino(config, options.destination);
  if (options.pretty)
    return pino(config, pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }));
  // Asynchronous writes to stdout: a line is handed to the kernel with the lines logged while the
  // previous write was under way, not one write(2) per line on the request's path (a write cost
  // ~0.06 ms of the API's CPU per request under load here; docs/performance.md). pino flushes what
  // is buffered synchronously when the process exits, so a crash (uncaughtException, process.exit)
  // keeps its last lines; only a SIGKILL can lose the lines of the last write in flight.
  // Whole lines, and no more than PIPE_BUF (4 KiB) per write unless one line is longer: npm start's
  // two threads (API and worker) each write stdout, as do processes sharing a pipe under a
  // supervisor, and a pipe keeps only writes of up to 4 KiB whole, so lines up to that size never
  // interleave with another writer's (a longer one still can).
  return pino(config, pino.destination({ dest: 1, sync: false, maxWrite: PIPE_BUF }));
}
