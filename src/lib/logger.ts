import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/index.js';

export type { Logger };

/**
 * Paths that may hold personal data; pino replaces them before a line is written. Phone numbers are
 * masked where they are logged on purpose (see `maskPhone`); these paths catch the rest.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.query.api_key',
  '*.phone_number',
  '*.to',
  '*.from',
  '*.userPhone',
  '*.persona',
  '*.digits',
  '*.text',
  '*.apiKey',
  // Carrier credentials (a number's own account), should one ever reach a log line.
  '*.account',
  '*.authToken',
  '*.auth_token',
];

/** A URL as it may be logged: secrets in the query string replaced. */
export function safeUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&](?:api_key|session_token|token|key)=)[^&#]*/gi, '$1[redacted]');
}

const serializers = {
  req: (req: { method?: string; url?: string; headers?: Record<string, unknown>; socket?: { remoteAddress?: string } }) => ({
    method: req.method,
    url: safeUrl(req.url),
    host: req.headers?.host,
    remoteAddress: req.socket?.remoteAddress,
  }),
};

export function createLogger(level: LogLevel, dest?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: undefined, serializers },
    dest ?? pino.destination({ dest: 1, sync: false }),
  );
}

let fallback: Logger | undefined;

/**
 * The logger of parts built without one (tests, tools): errors only, to stdout, one shared instance. What
 * those parts report is a failure that must not pass unseen.
 */
export function fallbackLogger(): Logger {
  return (fallback ??= createLogger('error'));
}
