/**
 * A small leveled logger writing one line per event to stderr. Callers pass only what is safe to
 * print: the code never hands it a token, a request body or an Authorization header.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(...msg: unknown[]): void;
  info(...msg: unknown[]): void;
  warn(...msg: unknown[]): void;
  error(...msg: unknown[]): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** @example const log = createLogger('info'); log.warn('rollout timed out', { endpoint }); */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const at =
    (lvl: LogLevel) =>
    (...msg: unknown[]) => {
      if (ORDER[lvl] < ORDER[level]) return;
      const text = msg
        .map((m) =>
          typeof m === 'string' ? m : m instanceof Error ? (m.stack ?? m.message) : JSON.stringify(m),
        )
        .join(' ');
      write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${text}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Discards everything (tests that assert on replies, not logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
