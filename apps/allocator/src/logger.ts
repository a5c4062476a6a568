import pino, { type Logger } from 'pino';

/** One JSON line per event on stdout; certificate material never appears in fields. */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['*.key', '*.cert', '*.ca', 'tls', '*.tls'], censor: '[redacted]' },
  });
}
