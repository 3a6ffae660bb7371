/**
 * Driving views through the real app as Slack does: an app_home_opened event (JSON, signed), a
 * view_submission or block_suggestion (`payload=`), and a click on a view's button; the twin
 * applies the app's answer to a submission (errors, update, close) like Slack.
 */
import {
  appHomeOpenedEvent,
  blockActionInViewPayload,
  blockSuggestionPayload,
  encodeBlockAction,
  viewSubmissionPayload,
} from '../../src/sandbox/slack/payloads.js';
import { signSlackRequest } from '../../src/sandbox/slack/sign.js';
import type { BotOnTwins } from './bot.js';
import { postToBolt, sign, TEST_SIGNING_SECRET } from './slack-requests.js';

const interaction = (env: BotOnTwins, payload: Record<string, unknown>) => {
  const body = encodeBlockAction(payload);
  return postToBolt(env.bot.eventsUrl!, { body, headers: sign(body) });
};

/** The user opens the app's Home tab (Bolt acks events itself; the publish follows). */
export function openHome(env: BotOnTwins, user: string) {
  const body = JSON.stringify(appHomeOpenedEvent({ twin: env.slack, user }));
  const headers = {
    'Content-Type': 'application/json',
    ...signSlackRequest(body, TEST_SIGNING_SECRET, Math.floor(Date.now() / 1000)),
  };
  return postToBolt(env.bot.eventsUrl!, { body, headers });
}

/** Submits the user's open modal with these values; returns the ack and the field errors shown. */
export async function submitModal(
  env: BotOnTwins,
  user: string,
  values: Record<string, Record<string, unknown>>,
) {
  const modal = env.slack.state.views.modalOf(user);
  if (!modal) throw new Error(`no modal open for ${user}`);
  const res = await interaction(
    env,
    viewSubmissionPayload({ twin: env.slack, user, view_id: modal.id, values }),
  );
  const errors = env.slack.state.views.applySubmissionAck(modal.id, res.json ?? {});
  return { res, errors, ack: res.json as Record<string, unknown> | undefined };
}

/** The options an external_select of the user's open modal offers for what was typed. */
export async function suggest(
  env: BotOnTwins,
  user: string,
  select: { block_id: string; action_id: string },
  typed = '',
  values?: Record<string, Record<string, unknown>>,
) {
  const modal = env.slack.state.views.modalOf(user);
  if (!modal) throw new Error(`no modal open for ${user}`);
  const res = await interaction(
    env,
    blockSuggestionPayload({
      twin: env.slack,
      user,
      view_id: modal.id,
      ...select,
      value: typed,
      ...(values ? { values } : {}),
    }),
  );
  return ((res.json as { options?: Array<{ text: { text: string }; value: string }> })?.options ?? []).map(
    (o) => ({
      label: o.text.text,
      value: o.value,
    }),
  );
}

/** Clicks a button of the user's Home tab. */
export function clickOnHome(env: BotOnTwins, user: string, action_id: string, value: string) {
  const home = env.slack.state.views.home(user);
  if (!home) throw new Error(`no Home published for ${user}`);
  return interaction(
    env,
    blockActionInViewPayload({ twin: env.slack, user, view_id: home.id, action_id, value }),
  );
}

/** A picked option and a typed text, in Slack's `state.values` shapes. */
export const picked = (value: string) => ({
  type: 'external_select',
  selected_option: { text: { type: 'plain_text', text: value }, value },
});
export const typed = (value: string | null) => ({ type: 'plain_text_input', value });
