/**
 * Slack cost of a change and of a gated approval (issue #14, "one message per change"), counted at
 * the Slack twin against the real bot: chat.* Web API calls and messages left in the channels.
 * Changes are splits whose new versions become ready one by one over a 3 s rollout, so there is
 * progress to show. "before" was measured on 5b1f90a with the same scenarios.
 */
import { countApprovalMessages, countChangeMessages } from '../test/support/message-calls.js';
import type { BenchRow } from './run.js';

const CHANGES = 3;
const ROLLOUT_MS = 3_000;
/**
 * Measured on 5b1f90a (this bench, its twin knob copied over): per change 2 top-level messages,
 * 5–6 chat.* calls (+2 response_url); approval 3 top-level posts, 12 chat.* calls (+3 response_url).
 */
const BEFORE = { changeTopLevel: 2, changeCalls: 6, approvalTopLevel: 3, approvalCalls: 12 };

export default async function messageCalls(): Promise<BenchRow[]> {
  const changes = await countChangeMessages(CHANGES, ROLLOUT_MS);
  const approval = await countApprovalMessages();
  const max = (f: (c: (typeof changes)[number]) => number) => Math.max(...changes.map(f));
  console.log('changes:', JSON.stringify(changes));
  console.log('approval:', JSON.stringify(approval));
  return [
    {
      name: `Web API calls per change (max of ${CHANGES}, ${ROLLOUT_MS / 1000} s rollouts; before ${BEFORE.changeCalls})`,
      value: `${max((c) => c.webApiCalls)} (each: ${changes.map((c) => c.webApiCalls).join(', ')}; +${max((c) => c.responseUrlPosts)} response_url)`,
      target: '<= 4',
    },
    {
      name: `top-level messages per change (before ${BEFORE.changeTopLevel})`,
      value: String(max((c) => c.topLevel)),
      target: '<= 1',
    },
    {
      name: `Web API calls per approval (request, approve, executed; before ${BEFORE.approvalCalls})`,
      value: `${approval.webApiCalls} (+${approval.responseUrlPosts} response_url)`,
      target: `< ${BEFORE.approvalCalls}`,
    },
    {
      name: `top-level posts per approval (before ${BEFORE.approvalTopLevel})`,
      value: `${approval.topLevel} (card + pointer), ${approval.threadLines} thread line(s)`,
      target: '2 (one card, one pointer)',
    },
  ];
}
