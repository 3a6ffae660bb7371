/**
 * Imports point inward: no cycles between the folders of src/, and no production file importing the
 * sandbox (scripts/check-layers.ts). `npm run check:layers` prints the same report.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers, formatCycle, formatLayerReport, importSpecifiers } from '../../scripts/check-layers.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the layers of src/', () => {
  const report = checkLayers(ROOT);

  it('has no cycle between folders', () => {
    const problems = report.cycles.map(formatCycle).join('\n');
    expect(problems, `Cycle(s) between folders; make the import point inward:\n${problems}`).toBe('');
  });

  it('has no production file importing the sandbox but the entry points that boot it', () => {
    expect(
      report.sandboxImports,
      formatLayerReport({ cycles: [], sandboxImports: report.sandboxImports }),
    ).toEqual([]);
  });
});

describe('the layer check', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const tree = (files: Record<string, string>): string => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-layers-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  };

  it('reads every kind of relative import, type-only ones included, and ignores packages', () => {
    const source = [
      "import a from './a.js';",
      "import type { B } from '../b.js';",
      "import './side-effect.js';",
      "export * from './c.js';",
      "export { d } from './d/index.js';",
      "const e = await import('./e.js');",
      "import { z } from 'zod';",
      "// import f from './commented-out.js';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual([
      './a.js',
      '../b.js',
      './side-effect.js',
      './c.js',
      './d/index.js',
      './e.js',
    ]);
  });

  it('finds a cycle between folders and names the file-level imports that make it', () => {
    const root = tree({
      'src/a/one.ts': "export { two } from '../b/two.js';\nexport const one = 1;",
      'src/b/two.ts': "export const two = 2;\nexport const load = () => import('../c/three.js');",
      'src/c/three.ts': "import type { one } from '../a/one.js';\nexport type Three = typeof one;",
      'src/c/four.ts': "import { two } from '../b/two.js';\nexport const four = two;",
      'src/d/ok.ts': "import { one } from '../a/one.js';\nexport const ok = one;",
    });
    const report = checkLayers(root);
    expect(report.cycles.map((c) => [c.name, c.path.join(' → ')])).toEqual([
      ['a → b', 'a → b → c → a'],
      ['b → c', 'b → c → b'],
      ['c → a', 'c → a → b → c'],
      ['c → b', 'c → b → c'],
    ]);
    expect(report.cycles.find((c) => c.name === 'c → b')?.steps).toEqual([
      { from: 'c', to: 'b', imports: [{ from: 'src/c/four.ts', to: 'src/b/two.ts' }] },
      { from: 'b', to: 'c', imports: [{ from: 'src/b/two.ts', to: 'src/c/three.ts' }] },
    ]);
  });

  it('treats each root file as a unit of its own, and a folder importing itself as no cycle', () => {
    const root = tree({
      'src/main.ts': "import { app } from './app.js';\nexport const main = app;",
      'src/app.ts': "import { x } from './lib/x.js';\nexport const app = x;",
      'src/lib/x.ts': "import { y } from './y.js';\nexport const x = y;",
      'src/lib/y.ts': "import type { app } from '../app.js';\nexport const y = 1 as unknown as typeof app;",
    });
    const report = checkLayers(root);
    expect([...report.graph.get('main.ts')!]).toEqual(['app.ts']);
    expect(report.cycles.map((c) => c.name)).toEqual(['app.ts → lib', 'lib → app.ts']);
  });

  it('reports production imports of the sandbox, except from the entry points and the sandbox itself', () => {
    const root = tree({
      'src/sandbox/twin.ts': "import { y } from './slack/y.js';\nexport const twin = y;",
      'src/sandbox/slack/y.ts': 'export const y = 1;',
      'src/main.ts': "import { twin } from './sandbox/twin.js';\nexport const main = twin;",
      'src/doctor/cli.ts': "import { twin } from '../sandbox/twin.js';\nexport const cli = twin;",
      'src/doctor/check.ts': "import { twin } from '../sandbox/twin.js';\nexport const check = twin;",
      'src/slack/blocks/limits.ts': "export { y } from '../../sandbox/slack/y.js';",
    });
    expect(checkLayers(root).sandboxImports).toEqual([
      { from: 'src/doctor/check.ts', to: 'src/sandbox/twin.ts' },
      { from: 'src/slack/blocks/limits.ts', to: 'src/sandbox/slack/y.ts' },
    ]);
  });
});
