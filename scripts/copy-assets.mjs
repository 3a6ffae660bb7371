/**
 * Second step of `npm run build`: copies the files the compiled code reads at run time from src/ to
 * dist/, at the same relative paths, so `new URL('./static/', import.meta.url)` finds them from
 * dist/ as it does from src/. tsc emits only JavaScript. The example policy is read from the package
 * root (`../../modelgate.example.yml`), which dist/ and src/ share, so it needs no copy.
 */
import { cpSync, existsSync } from 'node:fs';

/** Folders under src/ whose files are read at run time. */
const ASSETS = ['sandbox/console/static'];

for (const dir of ASSETS) {
  const from = `src/${dir}`;
  if (!existsSync(from)) throw new Error(`${from} is missing: the build expects its run-time files there`);
  cpSync(from, `dist/${dir}`, { recursive: true, filter: (f) => !f.endsWith('.d.ts') });
}
