import { readFileSync } from 'node:fs';

/**
 * modelgate's version, from package.json (two folders up from src/health/ and from dist/health/
 * alike); 'unknown' when it cannot be read.
 *
 * @example modelgateVersion() // '0.1.0'
 */
export function modelgateVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
