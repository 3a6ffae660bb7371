/**
 * Views in the Slack twin: each user's Home tab (views.publish) and the modals an app opens with a
 * trigger_id (views.open, views.update), plus what Slack does with an app's answer to a
 * view_submission (`response_action`). Trigger ids are issued by the payload builders and, like
 * Slack's, work once and for 3 seconds.
 */
import { randomBytes } from 'node:crypto';
import { checkBlocks, formatBlockProblem } from '../../slack/blocks/limits.js';

/** A view as the twin keeps it, in the Web API's shape. */
export interface TwinView {
  id: string;
  team_id: string;
  type: 'home' | 'modal';
  /** Whose Home it is, or who the modal is open for. */
  user: string;
  blocks: unknown[];
  callback_id: string;
  private_metadata: string;
  external_id: string;
  title?: unknown;
  submit?: unknown;
  close?: unknown;
  hash: string;
  /** What Slack would send back on submission; the console and tests fill it. */
  state: { values: Record<string, Record<string, unknown>> };
  /** Field errors from the app's last `response_action: errors`: block id → message. */
  errors?: Record<string, string>;
  app_id: string;
  bot_id: string;
}

/** Changes the console listens to (part of SlackState's change stream). */
export type ViewChange =
  | { type: 'home_published'; user: string; view: TwinView }
  | { type: 'modal_opened' | 'modal_updated'; user: string; view: TwinView }
  | { type: 'modal_closed'; user: string; viewId: string };

/** How long a trigger_id may be used after the interaction, as on Slack. */
export const TRIGGER_TTL_MS = 3_000;
const MAX_VIEW_BLOCKS = 100;
const MAX_PRIVATE_METADATA = 3_000;
const MAX_MODAL_TITLE = 24;

type Fail = { ok: false; error: string; [extra: string]: unknown };
const fail = (error: string, extra: Record<string, unknown> = {}): Fail => ({ ok: false, error, ...extra });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const plainText = (v: unknown): string | undefined =>
  isObject(v) && typeof v.text === 'string' ? v.text : undefined;

/**
 * The views of one twin workspace.
 *
 * @example
 * const trigger = state.views.issueTrigger(REQUESTER_USER_ID);
 * state.views.open(trigger, { type: 'modal', title: { type: 'plain_text', text: 'Deploy' }, blocks: [] });
 */
export class TwinViews {
  private readonly homes = new Map<string, TwinView>();
  private readonly modals = new Map<string, TwinView>();
  private readonly triggers = new Map<string, { user: string; issuedAt: number; used: boolean }>();
  private seq = 0;

  constructor(
    private readonly ids: { team: string; app: string; bot: string },
    private readonly now: () => number,
    private readonly emit: (change: ViewChange) => void,
  ) {}

  /** A fresh trigger_id for an interaction of `user` (Slack's shape: `<ms>.<n>.<hex>`). */
  issueTrigger(user: string): string {
    const id = `${this.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(8).toString('hex')}`;
    this.triggers.set(id, { user, issuedAt: this.now(), used: false });
    return id;
  }

  /** The user's published Home, if any. */
  home(user: string): TwinView | undefined {
    const v = this.homes.get(user);
    return v ? structuredClone(v) : undefined;
  }

  /** The modal open for the user (the top of its stack), if any. */
  modalOf(user: string): TwinView | undefined {
    const v = [...this.modals.values()].reverse().find((m) => m.user === user);
    return v ? structuredClone(v) : undefined;
  }

  modal(id: string): TwinView | undefined {
    const v = this.modals.get(id);
    return v ? structuredClone(v) : undefined;
  }

  publish(user: string, raw: unknown, hash?: string): { ok: true; view: TwinView } | Fail {
    const checked = this.check(raw, 'home');
    if (!checked.ok) return checked;
    const previous = this.homes.get(user);
    if (hash && previous && previous.hash !== hash) return fail('hash_conflict');
    const view = this.build(checked.fields, 'home', user, previous?.id);
    this.homes.set(user, view);
    this.emit({ type: 'home_published', user, view: structuredClone(view) });
    return { ok: true, view: structuredClone(view) };
  }

  open(triggerId: string | undefined, raw: unknown): { ok: true; view: TwinView } | Fail {
    const trigger = triggerId ? this.triggers.get(triggerId) : undefined;
    if (!trigger) return fail('invalid_trigger_id');
    if (trigger.used) return fail('exchanged_trigger_id');
    if (this.now() - trigger.issuedAt > TRIGGER_TTL_MS) return fail('expired_trigger_id');
    const checked = this.check(raw, 'modal');
    if (!checked.ok) return checked;
    trigger.used = true;
    const view = this.build(checked.fields, 'modal', trigger.user);
    this.modals.set(view.id, view);
    this.emit({ type: 'modal_opened', user: view.user, view: structuredClone(view) });
    return { ok: true, view: structuredClone(view) };
  }

  update(
    target: { viewId?: string; externalId?: string },
    raw: unknown,
    hash?: string,
  ): { ok: true; view: TwinView } | Fail {
    const existing = target.viewId
      ? this.modals.get(target.viewId)
      : [...this.modals.values()].find((m) => m.external_id !== '' && m.external_id === target.externalId);
    if (!existing) return fail('not_found');
    if (hash && existing.hash !== hash) return fail('hash_conflict');
    const checked = this.check(raw, 'modal');
    if (!checked.ok) return checked;
    const view = this.build(checked.fields, 'modal', existing.user, existing.id);
    // What the user typed stays where the block and action ids stay (as on Slack).
    view.state = existing.state;
    this.modals.set(view.id, view);
    this.emit({ type: 'modal_updated', user: view.user, view: structuredClone(view) });
    return { ok: true, view: structuredClone(view) };
  }

  /** What the user typed or picked, kept on the view until submission. */
  setValues(viewId: string, values: Record<string, Record<string, unknown>>): TwinView | undefined {
    const view = this.modals.get(viewId);
    if (!view) return undefined;
    view.state = { values: structuredClone(values) };
    return structuredClone(view);
  }

  close(viewId: string): void {
    const view = this.modals.get(viewId);
    if (!view) return;
    this.modals.delete(viewId);
    this.emit({ type: 'modal_closed', user: view.user, viewId });
  }

  /**
   * What Slack does with the app's answer to a view_submission: `errors` shows them under their
   * blocks and keeps the modal open, `update` replaces it, anything else closes it. Returns the
   * field errors, if any.
   */
  applySubmissionAck(viewId: string, ack: unknown): Record<string, string> | undefined {
    const view = this.modals.get(viewId);
    if (!view) return undefined;
    const answer = isObject(ack) ? ack : {};
    if (answer.response_action === 'errors' && isObject(answer.errors)) {
      view.errors = Object.fromEntries(Object.entries(answer.errors).map(([k, v]) => [k, String(v)]));
      this.emit({ type: 'modal_updated', user: view.user, view: structuredClone(view) });
      return view.errors;
    }
    if (answer.response_action === 'update' && answer.view !== undefined) {
      this.update({ viewId }, answer.view);
      return undefined;
    }
    this.close(viewId);
    return undefined;
  }

  private check(raw: unknown, type: 'home' | 'modal'): { ok: true; fields: Record<string, unknown> } | Fail {
    if (!isObject(raw)) return fail('invalid_arguments', { detail: 'view must be a JSON object' });
    if (raw.type !== type) return fail('invalid_arguments', { detail: `view.type must be ${type}` });
    const blocks = raw.blocks;
    if (!Array.isArray(blocks)) return fail('invalid_arguments', { detail: 'view.blocks must be an array' });
    const problems = checkBlocks(blocks).filter((p) => p.pointer !== '/blocks');
    if (blocks.length > MAX_VIEW_BLOCKS) {
      problems.push({ pointer: '/blocks', message: `no more than ${MAX_VIEW_BLOCKS} items allowed` });
    }
    if (typeof raw.private_metadata === 'string' && raw.private_metadata.length > MAX_PRIVATE_METADATA) {
      problems.push({ pointer: '/view/private_metadata', message: 'must be at most 3000 characters' });
    }
    if (type === 'modal') {
      const title = plainText(raw.title);
      if (!title) problems.push({ pointer: '/view/title', message: 'missing required field: title' });
      for (const key of ['title', 'submit', 'close'] as const) {
        const text = plainText(raw[key]);
        if (text && text.length > MAX_MODAL_TITLE) {
          problems.push({
            pointer: `/view/${key}`,
            message: `must be at most ${MAX_MODAL_TITLE} characters`,
          });
        }
      }
      const hasInput = blocks.some((b) => isObject(b) && b.type === 'input');
      if (hasInput && !plainText(raw.submit)) {
        problems.push({
          pointer: '/view/submit',
          message: 'submit is required when a view has input blocks',
        });
      }
    }
    if (problems.length > 0) {
      const errors = problems.map(formatBlockProblem);
      return fail('invalid_arguments', {
        response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
      });
    }
    return { ok: true, fields: raw };
  }

  private build(raw: Record<string, unknown>, type: 'home' | 'modal', user: string, id?: string): TwinView {
    this.seq += 1;
    const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : '');
    return {
      id: id ?? `V0SANDBOX${String(this.seq).padStart(4, '0')}`,
      team_id: this.ids.team,
      type,
      user,
      blocks: structuredClone(raw.blocks as unknown[]),
      callback_id: str('callback_id'),
      private_metadata: str('private_metadata'),
      external_id: str('external_id'),
      ...(raw.title !== undefined ? { title: structuredClone(raw.title) } : {}),
      ...(raw.submit !== undefined ? { submit: structuredClone(raw.submit) } : {}),
      ...(raw.close !== undefined ? { close: structuredClone(raw.close) } : {}),
      hash: `${Math.floor(this.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      state: { values: {} },
      app_id: this.ids.app,
      bot_id: this.ids.bot,
    };
  }
}

/** A view in the shape the Web API returns it (no twin-only fields). */
export function toApiView(view: TwinView): Record<string, unknown> {
  const { user: _user, errors: _errors, ...rest } = view;
  return { ...rest, root_view_id: view.id, previous_view_id: null };
}
