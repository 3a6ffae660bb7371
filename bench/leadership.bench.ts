/**
 * Scheduler leadership across processes: how long the scheduled jobs go unled when the leading
 * replica is killed (SIGKILL) or frozen (SIGSTOP, as an event loop blocked for good), with the real
 * lease (15 s, renewed every 5 s) over one SQLite file. Each replica runs a guarded job every
 * second. BENCH_LEADER_ROUNDS (default 2) kills, then one freeze of 25 s; the frozen replica is then
 * woken (SIGCONT), and any job it runs after another replica took over counts as a double run.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkChild } from './children.js';
import type { BenchRow } from './run.js';

const ROUNDS = Number(process.env.BENCH_LEADER_ROUNDS ?? 2);
const FREEZE_MS = 25_000;

interface Message {
  name: string;
  at: number;
  log?: string;
  ran?: boolean;
  ready?: boolean;
}

export default async function leadershipBench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-leader-'));
  const db = join(dir, 'bench.db');
  const messages: Message[] = [];
  const procs = new Map<string, ChildProcess>();
  let waiters: Array<() => void> = [];
  let n = 0;
  const here = import.meta.dirname;

  async function spawn(): Promise<string> {
    const name = `replica-${++n}`;
    const child = forkChild(join(here, 'leader-process.ts'), { BENCH_DB: db, BENCH_REPLICA: name });
    child.proc.on('message', (m) => {
      messages.push(m as Message);
      for (const w of waiters) w();
    });
    procs.set(name, child.proc);
    await until(() => messages.some((m) => m.name === name && m.ready));
    return name;
  }
  function until(ok: () => boolean, ms = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('leadership bench: timed out')), ms);
      const check = () => {
        if (!ok()) return;
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== check);
        resolve();
      };
      waiters.push(check);
      check();
    });
  }
  const gained = (after: number) =>
    messages.find((m) => m.at >= after && m.log?.startsWith('leading the scheduled jobs'));
  const leaderNow = () => {
    const g = [...messages].reverse().find((m) => m.log?.startsWith('leading the scheduled jobs'));
    return g?.name;
  };

  try {
    const kills: number[] = [];
    await spawn();
    await spawn();
    await until(() => leaderNow() !== undefined);
    for (let i = 0; i < ROUNDS; i++) {
      const leader = leaderNow()!;
      const killedAt = Date.now();
      procs.get(leader)!.kill('SIGKILL');
      procs.delete(leader);
      await until(() => gained(killedAt) !== undefined);
      kills.push(gained(killedAt)!.at - killedAt);
      await spawn();
    }

    // Freeze the leader: it neither renews nor runs anything until woken.
    const frozen = leaderNow()!;
    const frozenAt = Date.now();
    procs.get(frozen)!.kill('SIGSTOP');
    await until(() => gained(frozenAt) !== undefined);
    const freezeFailover = gained(frozenAt)!.at - frozenAt;
    const tookOverAt = gained(frozenAt)!.at;
    await new Promise((r) => setTimeout(r, Math.max(0, FREEZE_MS - (Date.now() - frozenAt))));
    procs.get(frozen)!.kill('SIGCONT');
    await until(() => messages.some((m) => m.name === frozen && m.log?.startsWith('no longer leading')));
    await new Promise((r) => setTimeout(r, 3_000));
    const doubleRuns = messages.filter((m) => m.name === frozen && m.ran && m.at > tookOverAt).length;

    return [
      {
        name: `failover after SIGKILL of the leader (worst of ${kills.length})`,
        value: `${(Math.max(...kills) / 1000).toFixed(1)} s (${kills.map((k) => (k / 1000).toFixed(1)).join(', ')})`,
        target: '≤ 30 s',
      },
      {
        name: 'failover after the leader froze (SIGSTOP)',
        value: `${(freezeFailover / 1000).toFixed(1)} s`,
        target: '≤ 30 s',
      },
      {
        name: 'jobs the woken frozen leader ran after the take-over',
        value: String(doubleRuns),
        target: '0',
      },
    ];
  } finally {
    for (const p of procs.values()) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
