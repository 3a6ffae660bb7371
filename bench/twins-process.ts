/**
 * The twins for the ack bench, in their own process so the bench measures the bot's event loop
 * alone. Answers over the fork IPC channel: first its addresses, then batches of response URLs, and
 * on request how many replies came back through them.
 */
import { MLOPS_CHANNEL_ID, REQUESTER_USER_ID, startSlackTwin } from '../src/sandbox/slack/index.js';
import { seedDemoWorkspace } from '../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../src/sandbox/workspace/server.js';
import { announceTwins } from './children.js';

const slack = await startSlackTwin();
const workspace = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: 150 });

process.on('message', (m: { mint: number } | { answered: true }) => {
  if ('answered' in m) {
    // How many replies arrived through response URLs: the bot's post-ack work done so far.
    process.send?.({ answered: slack.calls('response_url').length });
    return;
  }
  const urls = Array.from({ length: m.mint }, () =>
    slack.createResponseUrl({ channel: MLOPS_CHANNEL_ID, user: REQUESTER_USER_ID }),
  );
  process.send?.({ urls });
});
announceTwins(slack, workspace);
