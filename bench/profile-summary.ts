/**
 * Summarises CPU profiles written by a bench run with BENCH_CPU_PROF=<dir>: the functions with the
 * most self time, and the src/ functions with the most total time (their callees included).
 *
 * @example npx tsx bench/profile-summary.ts /tmp/prof/clicks-bot-*.cpuprofile
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const TOP = Number(process.env.TOP ?? 25);
/** CALLERS=<function name>: also print the commonest stacks that end in it. */
const CALLERS = process.env.CALLERS;
const stacks = new Map<string, number>();
const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;

const nameOf = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? relative(process.cwd(), url.replace(/^file:\/\//, '')) : '';
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
};

for (const file of process.argv.slice(2)) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    all += us;
    const leaf = byId.get(id)!;
    self.set(nameOf(leaf), (self.get(nameOf(leaf)) ?? 0) + us);
    if (CALLERS && leaf.callFrame.functionName === CALLERS) {
      const frames: string[] = [];
      for (let n = parent.get(id); n !== undefined && frames.length < 12; n = parent.get(n)) {
        const f = byId.get(n)!.callFrame;
        if (f.url.includes('node_modules') || f.url.includes('/src/')) frames.push(nameOf(byId.get(n)!));
      }
      const key = frames.join('\n    < ');
      stacks.set(key, (stacks.get(key) ?? 0) + us);
    }
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const node = byId.get(n)!;
      const name = nameOf(node);
      if (!node.callFrame.url.includes('/src/') || seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + us);
    }
  });
}

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(
      `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${name}`,
    );
  }
};
console.log(`${(all / 1000).toFixed(0)} ms sampled`);
print('self time', self);
print('total time of src/ functions (callees included)', total);
if (CALLERS) print(`stacks ending in ${CALLERS}`, stacks);
