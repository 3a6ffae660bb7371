/**
 * The shape of one Web API method of the Slack twin: who calls it (context) and what it answers.
 * Apart from methods.ts so that method tables in other files (view-methods.ts) can share it.
 */
import type { SlackState } from './state.js';

/** Who is calling and with which grant; built by the server from the token. */
export interface MethodContext {
  state: SlackState;
  /** User id the token acts as (the bot user for the bot token). */
  actor: string;
  scopes: readonly string[];
  /** Absolute upload URL on the twin for a file id. */
  uploadUrl: (fileId: string) => string;
}

export type MethodResult = { ok: boolean } & Record<string, unknown>;
/** A call's arguments, as the twin parsed them from JSON or a form. */
export type Args = Record<string, unknown>;

export interface MethodSpec {
  /** Any one of these scopes suffices; a function when it depends on the channel. */
  scopes?: readonly string[] | ((args: Args, ctx: MethodContext) => readonly string[]);
  handle: (args: Args, ctx: MethodContext) => MethodResult;
}
