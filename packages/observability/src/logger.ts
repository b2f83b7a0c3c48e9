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
}

export function createLogger(options: LoggerFactoryOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    name: options.name,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
