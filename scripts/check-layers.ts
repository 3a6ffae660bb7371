/**
 * The layer check: which top-level parts of src/ import which, and where that breaks the rules.
 * A unit is a folder src/<folder>/ or a root file src/<file>.ts. Imports are the relative
 * specifiers of `import … from`, `export … from`, side-effect imports and dynamic `import()`, type-only
 * ones included (a type import is a dependency too). It reports:
 * - every import between units that lies on a cycle, with the shortest such cycle and the file-level
 *   imports that make each of its steps;
 * - every production file importing src/sandbox/ other than the entry points that boot the sandbox.
 *
 * `npm run check:layers` prints the report; test/unit/layers.test.ts runs the check in `npm test`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** Files outside src/sandbox/ that may import it: the entry points that boot the sandbox. */
export const SANDBOX_IMPORTERS: readonly string[] = ['src/main.ts', 'src/doctor/cli.ts'];

/** One file-level import, paths relative to the repository root with forward slashes. */
export interface FileImport {
  from: string;
  to: string;
}

/**
 * An import between two units that lies on a cycle: `to` leads back to `from`. Every cycle is made of
 * such imports, so a new cycle always brings a new one, and a cycle is gone once all of its imports
 * are; keyed by the import, a list of known cycles can only shrink.
 */
export interface LayerCycle {
  /** `from → to`, the import that closes the cycle. */
  name: string;
  from: string;
  to: string;
  /** The shortest cycle through it: [from, to, …, from]. */
  path: string[];
  /** For each step of the path: the file-level imports that make it. */
  steps: Array<{ from: string; to: string; imports: FileImport[] }>;
}

export interface LayerReport {
  /** Unit → units it imports. */
  graph: Map<string, Set<string>>;
  /** Every import between units that lies on a cycle, sorted by name. */
  cycles: LayerCycle[];
  /** Production imports of src/sandbox/ from files that may not. */
  sandboxImports: FileImport[];
}

const posix = (p: string): string => p.split(sep).join('/');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|cts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** The relative specifiers a file imports, however it imports them. */
export function importSpecifiers(source: string): string[] {
  const info = ts.preProcessFile(source, true, true);
  return info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('./') || s.startsWith('../'));
}

/** `./x.js` from a file → the source file it names (x.ts, x/index.ts, …), or undefined when none. */
function resolveSpecifier(fromFile: string, specifier: string, known: Set<string>): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(m|c)?jsx?$/, '');
  const candidates = [
    base,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${stem}.cts`,
    join(base, 'index.ts'),
    join(stem, 'index.ts'),
  ];
  return candidates.find((c) => known.has(c));
}

/** `src/changes/store.ts` → `changes`; `src/bot.ts` → `bot.ts`. */
export function unitOf(srcRelative: string): string {
  return srcRelative.split('/')[0]!;
}

/** The shortest path from `start` to `goal` (breadth first, neighbours in name order), or undefined. */
function shortestPath(graph: Map<string, Set<string>>, start: string, goal: string): string[] | undefined {
  const previous = new Map<string, string | undefined>([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node === goal) {
      const path = [node];
      for (let n = previous.get(node); n !== undefined; n = previous.get(n)) path.unshift(n);
      return path;
    }
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/**
 * Reads src/ under `root` and reports the cycles between its units and the forbidden sandbox imports.
 *
 * @example const { cycles, sandboxImports } = checkLayers(process.cwd());
 */
export function checkLayers(root: string): LayerReport {
  const src = join(root, 'src');
  const files = sourceFiles(src);
  const known = new Set(files);
  const graph = new Map<string, Set<string>>();
  const evidence = new Map<string, FileImport[]>();
  const sandboxImports: FileImport[] = [];

  for (const file of files) {
    const fromRel = posix(relative(src, file));
    const fromUnit = unitOf(fromRel);
    if (!graph.has(fromUnit)) graph.set(fromUnit, new Set());
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      const target = resolveSpecifier(file, specifier, known);
      if (!target) continue;
      const toRel = posix(relative(src, target));
      if (toRel.startsWith('..')) continue;
      const toUnit = unitOf(toRel);
      const imp = { from: `src/${fromRel}`, to: `src/${toRel}` };
      if (toUnit === 'sandbox' && fromUnit !== 'sandbox' && !SANDBOX_IMPORTERS.includes(imp.from)) {
        sandboxImports.push(imp);
      }
      if (toUnit === fromUnit) continue;
      graph.get(fromUnit)!.add(toUnit);
      const key = `${fromUnit}\0${toUnit}`;
      evidence.set(key, [...(evidence.get(key) ?? []), imp]);
    }
  }

  const cycles: LayerCycle[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const back = shortestPath(graph, to, from);
      if (!back) continue;
      const path = [from, ...back];
      cycles.push({
        name: `${from} → ${to}`,
        from,
        to,
        path,
        steps: path.slice(1).map((next, i) => ({
          from: path[i]!,
          to: next,
          imports: evidence.get(`${path[i]}\0${next}`) ?? [],
        })),
      });
    }
  }
  cycles.sort((x, y) => x.name.localeCompare(y.name));
  return { graph, cycles, sandboxImports };
}

/** One cycle as text: its path, then the file-level imports of each step. */
export function formatCycle(cycle: LayerCycle): string {
  const lines = [`  ${cycle.name}  (${cycle.path.join(' → ')})`];
  for (const step of cycle.steps) {
    lines.push(`    ${step.from} → ${step.to}:`);
    for (const imp of step.imports) lines.push(`      ${imp.from} imports ${imp.to}`);
  }
  return lines.join('\n');
}

/** The report as text: each cycle with the imports that make it, then the sandbox imports. */
export function formatLayerReport(report: Pick<LayerReport, 'cycles' | 'sandboxImports'>): string {
  const lines: string[] = [];
  lines.push(
    report.cycles.length === 0
      ? 'No cycles between folders.'
      : `${report.cycles.length} import(s) between folders lie on a cycle:`,
  );
  for (const cycle of report.cycles) lines.push(formatCycle(cycle));
  lines.push(
    report.sandboxImports.length === 0
      ? 'No production file imports src/sandbox/.'
      : `${report.sandboxImports.length} import(s) of src/sandbox/ from production code:`,
  );
  for (const imp of report.sandboxImports) lines.push(`  ${imp.from} imports ${imp.to}`);
  return lines.join('\n');
}

// `tsx scripts/check-layers.ts`: print the report; exit 1 on a sandbox import (cycles are listed in
// test/unit/layers.test.ts while they are being removed, so they only print here).
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const report = checkLayers(root);
  console.log(formatLayerReport(report));
  if (report.sandboxImports.length > 0) process.exitCode = 1;
}
