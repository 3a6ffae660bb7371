/**
 * What the console page is allowed to see of the Slack twin, as plain data: the people, the
 * channels, and the messages one user sees (other people's ephemerals left out). Pure: the state
 * in, JSON out.
 */
import { APPROVER_USER_ID, REQUESTER_USER_ID, VIEWER_USER_ID } from '../slack/seed.js';
import type { SlackState, TwinMessage } from '../slack/state.js';
import type { TwinView } from '../slack/views.js';

/** What each demo person is for, shown next to their name in the user switch. */
export const DEMO_PERSONAS: Readonly<Record<string, string>> = {
  [REQUESTER_USER_ID]: 'requester',
  [APPROVER_USER_ID]: 'approver',
  [VIEWER_USER_ID]: 'no rights',
};

export interface ConsoleUser {
  id: string;
  name: string;
  realName: string;
  isBot: boolean;
  /** 'requester', 'approver', 'no rights' for the demo people. */
  persona?: string;
  /** Handles of the user groups they are in, e.g. ['ml-approvers']. */
  groups: string[];
}

export interface ConsoleChannel {
  id: string;
  name: string;
  topic: string;
  isPrivate: boolean;
  members: string[];
}

export interface WorkspaceView {
  team: { id: string; name: string };
  bot: { userId: string; name: string };
  /** The person the page acts as. */
  viewer: string;
  users: ConsoleUser[];
  channels: ConsoleChannel[];
  usergroups: { id: string; handle: string }[];
  /** channel id → every message the viewer sees there, in ts order (thread replies included). */
  messages: Record<string, TwinMessage[]>;
  /** The viewer's App Home, once the app published one. */
  home?: TwinView;
  /** The modal open for the viewer, if any. */
  modal?: TwinView;
}

/**
 * Whether `user` sees `message`: everyone sees ordinary messages, only the recipient an ephemeral.
 *
 * @example visibleTo({ ...msg, ephemeral_to: 'U0REQUEST' }, 'U0APPROVE') // false
 */
export function visibleTo(message: Pick<TwinMessage, 'ephemeral_to'>, user: string): boolean {
  return message.ephemeral_to === undefined || message.ephemeral_to === user;
}

/**
 * The console's picture of the workspace for one viewer.
 *
 * @example buildWorkspaceView(twin.state, REQUESTER_USER_ID).messages.C0MLOPS
 */
export function buildWorkspaceView(state: SlackState, viewer: string): WorkspaceView {
  const groupsOf = (id: string) =>
    [...state.usergroups.values()].filter((g) => g.users.includes(id)).map((g) => g.handle);
  const users: ConsoleUser[] = [...state.users.values()].map((u) => ({
    id: u.id,
    name: u.name,
    realName: u.realName,
    isBot: u.isBot,
    ...(DEMO_PERSONAS[u.id] ? { persona: DEMO_PERSONAS[u.id] } : {}),
    groups: groupsOf(u.id),
  }));
  const channels: ConsoleChannel[] = [...state.channels.values()].map((c) => ({
    id: c.id,
    name: c.name,
    topic: c.topic,
    isPrivate: c.isPrivate,
    members: [...c.members],
  }));
  const messages: Record<string, TwinMessage[]> = {};
  for (const c of channels) messages[c.id] = state.messages(c.id).filter((m) => visibleTo(m, viewer));
  const home = state.views.home(viewer);
  const modal = state.views.modalOf(viewer);
  return {
    team: { id: state.team.id, name: state.team.name },
    bot: { userId: state.bot.userId, name: state.bot.name },
    viewer,
    users,
    channels,
    usergroups: [...state.usergroups.values()].map((g) => ({ id: g.id, handle: g.handle })),
    messages,
    ...(home ? { home } : {}),
    ...(modal ? { modal } : {}),
  };
}

/** A button as the console finds it in a stored message. */
export interface StoredButton {
  blockId?: string;
  actionId: string;
  value?: string;
  url?: string;
}

/**
 * The button a click is about, looked up in the stored message (never trusted from the page).
 *
 * @example findStoredButton(message.blocks, 'change-apply', 'plan-actions-chg_1')?.value // 'chg_1'
 */
export function findStoredButton(
  blocks: unknown[] | undefined,
  actionId: string,
  blockId?: string,
): StoredButton | undefined {
  for (const block of (blocks ?? []) as Array<Record<string, unknown>>) {
    if (blockId !== undefined && block.block_id !== blockId) continue;
    const elements = Array.isArray(block.elements) ? (block.elements as Array<Record<string, unknown>>) : [];
    const candidates = block.accessory ? [...elements, block.accessory as Record<string, unknown>] : elements;
    const button = candidates.find((e) => e.type === 'button' && e.action_id === actionId);
    if (button) {
      return {
        ...(typeof block.block_id === 'string' ? { blockId: block.block_id } : {}),
        actionId,
        ...(typeof button.value === 'string' ? { value: button.value } : {}),
        ...(typeof button.url === 'string' ? { url: button.url } : {}),
      };
    }
  }
  return undefined;
}
