/**
 * The ack benches run the twins and the load generator in child processes of their own, so the
 * figures are the bot's event loop alone. These are the two ends of that arrangement.
 */
import { type ChildProcess, fork } from 'node:child_process';

/** What the twins' process announces once listening. */
export interface TwinsReady {
  slackApiUrl: string;
  botToken: string;
  workspaceUrl: string;
  workspaceToken: string;
}

/**
 * Forks a TypeScript file as a child with an IPC channel; `next()` resolves with its next message.
 *
 * @example const twins = forkChild(join(import.meta.dirname, 'twins-process.ts')); const { ready } = await twins.next();
 */
export function forkChild(
  file: string,
  env: Record<string, string> = {},
): { proc: ChildProcess; next: <T>() => Promise<T> } {
  const proc = fork(file, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>() => new Promise<T>((resolve) => proc.once('message', (m) => resolve(m as T)));
  return { proc, next };
}

/**
 * In the twins' child: announces the twins to the parent, and stops them when the parent goes.
 *
 * @example announceTwins(slack, workspace);
 */
export function announceTwins(
  slack: { apiUrl: string; botToken: string; stop(): Promise<void> },
  workspace: { url: string; token: string; stop(): Promise<void> },
): void {
  process.on('disconnect', async () => {
    await slack.stop();
    await workspace.stop();
    process.exit(0);
  });
  process.send?.({
    ready: {
      slackApiUrl: slack.apiUrl,
      botToken: slack.botToken,
      workspaceUrl: workspace.url,
      workspaceToken: workspace.token,
    } satisfies TwinsReady,
  });
}

/** A child answering calls by name (see serveCalls); `call` resolves with the method's result. */
export interface CallableChild {
  proc: ChildProcess;
  call<T>(method: string, ...args: unknown[]): Promise<T>;
}

interface CallMessage {
  call: number;
  method: string;
  args: unknown[];
}
interface ReplyMessage {
  reply: number;
  result?: unknown;
  error?: string;
}

/**
 * Forks a TypeScript file that serves calls with `serveCalls`; `execArgv` adds Node flags.
 *
 * @example const server = forkCallable(join(import.meta.dirname, 'server-process.ts')); await server.call('start', ready);
 */
export function forkCallable(file: string, env: Record<string, string> = {}): CallableChild {
  const proc = fork(file, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // Calls wait for the child's listener: a message sent before it exists would be lost.
  const listening = new Promise<void>((resolve, reject) => {
    const onReady = (m: { ready?: true }) => {
      if (m.ready) {
        proc.off('message', onReady);
        resolve();
      }
    };
    proc.on('message', onReady);
    proc.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening`)));
  });
  listening.catch(() => {});
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  proc.on('message', (m: ReplyMessage) => {
    const w = waiting.get(m.reply);
    if (!w) return;
    waiting.delete(m.reply);
    if (m.error !== undefined) w.reject(new Error(m.error));
    else w.resolve(m.result);
  });
  proc.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`${file} exited (${code})`));
    waiting.clear();
  });
  return {
    proc,
    async call<T>(method: string, ...args: unknown[]) {
      await listening;
      const call = next++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(call, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ call, method, args } satisfies CallMessage);
      });
    },
  };
}

/**
 * In a child forked by forkCallable: answers each call with the named method's result (or its
 * error's message); the child exits when the parent disconnects.
 */
export function serveCalls(methods: Record<string, (...args: never[]) => unknown>): void {
  process.on('message', async (m: CallMessage) => {
    const method = methods[m.method];
    try {
      if (!method) throw new Error(`no method ${m.method}`);
      const result = await (method as (...args: unknown[]) => unknown)(...m.args);
      process.send?.({ reply: m.call, result } satisfies ReplyMessage);
    } catch (err) {
      process.send?.({
        reply: m.call,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}
