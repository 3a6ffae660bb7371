/**
 * The app under test in a process of its own: the bot (BENCH_SERVER=bot) or a bare Bolt app that
 * only acks (BENCH_SERVER=bare). Both sides run in the same layout, answer the same calls, and are
 * metered the same way, so a round against one is comparable with a round against the other.
 * With BENCH_CPU_PROF=<dir>, each metered round of either side is CPU-profiled into that folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { serveCalls, type TwinsReady } from './children.js';
import { type BenchBot, type BenchBotOptions, bareBoltApp, startBenchBot } from './support.js';

/** What a metered stretch cost the process. */
export interface Meter {
  cpuMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const role = process.env.BENCH_SERVER === 'bot' ? 'bot' : 'bare';
const profileDir = process.env.BENCH_CPU_PROF;
let bot: BenchBot | undefined;
let stopServer: (() => Promise<unknown>) | undefined;
let metering: { cpu: NodeJS.CpuUsage; loop: ReturnType<typeof monitorEventLoopDelay> } | undefined;
let profiler: Session | undefined;

async function startProfile(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  await profiler.post('Profiler.start');
}

async function writeProfile(label: string): Promise<void> {
  if (!profiler || !profileDir) return;
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  mkdirSync(profileDir, { recursive: true });
  writeFileSync(join(profileDir, `${label}.cpuprofile`), JSON.stringify(profile));
}

const theBot = () => {
  if (!bot) throw new Error(`the ${role} server has no bot`);
  return bot;
};

serveCalls({
  /**
   * Starts the server; resolves with the URL Slack posts events to. The bare app registers one
   * listener per entry of `bareAcks` (a slash command such as '/mlops', else an action id), as
   * a Bolt app that only acks what the bench sends would.
   */
  async start(twins: TwinsReady, options: BenchBotOptions & { bareAcks?: string[] } = {}) {
    const { bareAcks = [], ...botOptions } = options;
    if (role === 'bot') {
      bot = await startBenchBot(twins, botOptions);
      stopServer = () => theBot().stop();
      return bot.eventsUrl;
    }
    const bare = await bareBoltApp((app) => {
      for (const name of bareAcks) {
        const acked = async ({ ack }: { ack: () => Promise<void> }) => {
          await ack();
        };
        if (name.startsWith('/')) app.command(name, acked);
        else app.action(name, acked);
      }
    });
    stopServer = bare.stop;
    return bare.url;
  },
  idle: async () => {
    await bot?.idle();
  },
  requestRetrains: (items: Parameters<BenchBot['requestRetrains']>[0]) => theBot().requestRetrains(items),
  awaitFinal: (ids: string[], timeoutMs: number) => theBot().awaitFinal(ids, timeoutMs),
  outcomes: (ids: string[]) => theBot().outcomes(ids),
  /** Starts metering CPU and event-loop delay (and profiling, when asked) for one round. */
  async meterStart() {
    if (profileDir) await startProfile();
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    metering = { cpu: process.cpuUsage(), loop };
  },
  /** Ends the round's metering; `label` names the profile file. */
  async meterStop(label: string): Promise<Meter> {
    if (!metering) throw new Error('meterStop without meterStart');
    const cpu = process.cpuUsage(metering.cpu);
    metering.loop.disable();
    const meter = {
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopDelayP99Ms: metering.loop.percentile(99) / 1e6,
      loopDelayMaxMs: metering.loop.max / 1e6,
    };
    metering = undefined;
    await writeProfile(label);
    return meter;
  },
  /** When profiling: ends the round's profile so far as `label` and profiles on (e.g. acks, then the rest). */
  async cutProfile(label: string) {
    if (!profiler) return;
    await writeProfile(label);
    await startProfile();
  },
  /** Resident memory of this process, in MB. */
  rss: () => process.memoryUsage().rss / 1024 / 1024,
  stop: async () => {
    await stopServer?.();
  },
});
