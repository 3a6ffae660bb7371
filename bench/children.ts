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
