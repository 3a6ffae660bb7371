/**
 * The modals, from opening to submission. `/mlops query <endpoint>` without records and
 * `/mlops deploy` without arguments open a modal with the command's trigger_id, and Reject opens
 * one for the reason; each opens at once after the ack (a trigger_id lives 3 s), and slow reads
 * (the input schema) update it after. Submissions are checked on the ack path: bad or stale
 * values come back as field errors (`response_action: errors`) or a clear message, and nothing
 * is applied; rights are checked as for the command. What passes goes the command's own way
 * (the deploy plan, the query, the reject) after the ack, answered through the command's
 * response_url, or on the Home when the modal came from there.
 */
import type { webApi } from '@slack/bolt';
import { approvalTitle } from '../../approvals/request-plan.js';
import type { ApprovalService } from '../../approvals/service.js';
import type { ApprovalRequest } from '../../approvals/store.js';
import type { CommandDeps } from '../../commands/deps.js';
import { subcommandNamed } from '../../commands/help.js';
import { COMMANDS, dispatch, parseCommand } from '../../commands/index.js';
import { normaliseText } from '../../commands/parse.js';
import { endpointNameSchema } from '../../commands/schemas.js';
import type { Policy } from '../../config/policy.js';
import { isUserError, type UserError } from '../../domain/errors.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../../domain/vocabulary.js';
import type { HomeService } from '../../home/service.js';
import type { Logger } from '../../lib/logger.js';
import {
  ACTION_APPROVAL_REJECT_REASON,
  ACTION_DEPLOY_ENDPOINT,
  ACTION_DEPLOY_MODEL,
  ACTION_DEPLOY_VERSION,
  ACTION_QUERY_RECORDS,
  CALLBACK_DEPLOY_MODAL,
  CALLBACK_QUERY_MODAL,
  CALLBACK_REJECT_MODAL,
} from '../blocks/action-ids.js';
import { REJECT_REASON_BLOCK } from '../blocks/approval.js';
import { describeError } from '../blocks/errors.js';
import {
  buildDeployModal,
  buildNoticeModal,
  buildOptions,
  buildQueryModal,
  buildRejectModal,
  DEPLOY_ENDPOINT_BLOCK,
  DEPLOY_MODEL_BLOCK,
  DEPLOY_VERSION_BLOCK,
  decodeMetadata,
  type ModalMetadata,
  modelOptions,
  QUERY_RECORDS_BLOCK,
  versionOptions,
} from '../blocks/modals.js';
import type { Authorise, Guard } from '../listener-kit.js';

type ViewsClient = Pick<webApi.WebClient['views'], 'open' | 'update'>;

/** A command that opens a modal instead of answering. */
export type ModalRequest = { kind: 'deploy' } | { kind: 'query'; endpoint: string };

/**
 * Which modal a command opens: `deploy` with nothing after it, `query <endpoint>` with no records.
 *
 * @example modalRequestOf('query churn-endpoint') // { kind: 'query', endpoint: 'churn-endpoint' }
 */
export function modalRequestOf(text: string): ModalRequest | undefined {
  const words = normaliseText(text).trim().split(/\s+/).filter(Boolean);
  const spec = words[0] ? subcommandNamed(COMMANDS, words[0]) : undefined;
  if (spec?.name === 'deploy' && words.length === 1) return { kind: 'deploy' };
  if (spec?.name === 'query' && words.length === 2 && !words[1]!.startsWith('--')) {
    return { kind: 'query', endpoint: words[1]! };
  }
  return undefined;
}

/** What a submission answers Slack at once, and the work that follows the ack. */
export interface Submitted {
  ack?: Record<string, unknown>;
  after?: () => Promise<void>;
}

/** `view.state.values` as Slack sends it. */
type StateValues = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value: string } | null }>
>;

export interface SubmittedView {
  callback_id: string;
  private_metadata: string;
  state: { values: StateValues };
}

export interface ModalDeps {
  policy: Pick<Policy, 'defaults'>;
  commands: CommandDeps;
  approvals: Pick<ApprovalService, 'reject' | 'pending'>;
  authorise: Authorise;
  /** The error boundary of the app (createGuard), so modal answers read like command answers. */
  guard: Guard;
  logger: Logger;
  home?: Pick<HomeService, 'tell'> | undefined;
  fetch?: typeof fetch;
  /** How long a submission may spend reading Databricks on the ack path (default 1500 ms). */
  checkBudgetMs?: number;
}

/** Field errors are plain text: the escaped mrkdwn of the error words is turned back. */
const plainWords = (e: UserError): string => {
  const w = describeError(e);
  return `${w.text}${w.hint ? ` ${w.hint}` : ''}`
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .slice(0, 300);
};

const TIMED_OUT = Symbol('timed out');

/** The value, or TIMED_OUT when it takes longer than `ms` (the ack must not wait for it). */
async function within<T>(ms: number, work: Promise<T>): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * @example const modals = createModals({ policy, commands, approvals, authorise, logger });
 */
export function createModals(deps: ModalDeps) {
  const { logger } = deps;
  const budget = deps.checkBudgetMs ?? 1500;
  const fetcher = deps.fetch ?? fetch;

  /** Answers through the command's response_url, else on the Home of the user. */
  async function answer(meta: ModalMetadata, actor: Actor, reply: Reply): Promise<void> {
    // Answered already in its own message (a plan posted to the channel): nothing to send.
    if (reply.silent) return;
    try {
      if (meta.responseUrl) {
        const res = await fetcher(meta.responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            response_type: reply.visibility,
            // Never the message the modal was opened from (an approval card).
            replace_original: false,
            text: reply.text,
            ...(reply.blocks ? { blocks: reply.blocks } : {}),
          }),
        });
        if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
        return;
      }
      await deps.home?.tell(actor.userId, reply.text);
    } catch (e) {
      logger.warn('could not answer a modal:', (e as Error).message);
    }
  }

  const refused = (e: unknown): Submitted | undefined =>
    isUserError(e)
      ? { ack: { response_action: 'update', view: buildNoticeModal('Not done', describeError(e).text) } }
      : undefined;

  async function open(client: ViewsClient, triggerId: string, view: object): Promise<string | undefined> {
    try {
      const res = await client.open({ trigger_id: triggerId, view: view as never });
      return res.view?.id;
    } catch (e) {
      logger.warn('could not open a modal:', (e as Error).message);
      return undefined;
    }
  }

  async function fillQueryExample(
    client: ViewsClient,
    viewId: string,
    endpoint: string,
    meta: ModalMetadata,
  ) {
    let example: Record<string, unknown> | undefined;
    try {
      example = await deps.commands.serving.inputExample(endpoint);
    } catch (e) {
      const text = isUserError(e) ? describeError(e).text : 'Databricks could not be read just now.';
      await client
        .update({ view_id: viewId, view: buildNoticeModal('Query endpoint', text) as never })
        .catch((err: unknown) => logger.warn('could not update the query modal:', (err as Error).message));
      return;
    }
    await client
      .update({
        view_id: viewId,
        view: buildQueryModal({ endpoint, metadata: meta, ...(example ? { example } : {}) }) as never,
      })
      .catch((e: unknown) => logger.warn('could not update the query modal:', (e as Error).message));
  }

  const submissions: Record<string, (actor: Actor, view: SubmittedView) => Promise<Submitted>> = {
    async [CALLBACK_QUERY_MODAL](actor, view) {
      const meta = decodeMetadata(view.private_metadata);
      const records = view.state.values[QUERY_RECORDS_BLOCK]?.[ACTION_QUERY_RECORDS]?.value ?? '';
      let parsed: ParsedCommand;
      try {
        parsed = parseCommand(`query ${meta.endpoint ?? ''} ${records}`, deps.policy.defaults);
      } catch (e) {
        if (!isUserError(e)) throw e;
        return { ack: { response_action: 'errors', errors: { [QUERY_RECORDS_BLOCK]: plainWords(e) } } };
      }
      try {
        await deps.authorise(actor, meta.channel, 'query', meta.endpoint);
      } catch (e) {
        const r = refused(e);
        if (r) return r;
        throw e;
      }
      const origin: Origin = { channelId: meta.channel };
      return {
        after: async () =>
          answer(meta, actor, await guardReply(() => dispatch(parsed, deps.commands, actor, origin))),
      };
    },

    async [CALLBACK_REJECT_MODAL](actor, view) {
      const meta = decodeMetadata(view.private_metadata);
      const reason =
        view.state.values[REJECT_REASON_BLOCK]?.[ACTION_APPROVAL_REJECT_REASON]?.value ?? undefined;
      if (!meta.requestId) return { ack: { response_action: 'clear' } };
      // The service checks the rights and the request's state (decided meanwhile: it says so).
      const id = meta.requestId;
      return {
        after: async () =>
          answer(meta, actor, await guardReply(() => deps.approvals.reject(id, actor, reason))),
      };
    },

    async [CALLBACK_DEPLOY_MODAL](actor, view) {
      const meta = decodeMetadata(view.private_metadata);
      const picked = (block: string, action: string) =>
        view.state.values[block]?.[action]?.selected_option?.value;
      const model = picked(DEPLOY_MODEL_BLOCK, ACTION_DEPLOY_MODEL);
      const versionText = picked(DEPLOY_VERSION_BLOCK, ACTION_DEPLOY_VERSION);
      const endpointText = picked(DEPLOY_ENDPOINT_BLOCK, ACTION_DEPLOY_ENDPOINT);
      const errors: Record<string, string> = {};
      if (!model) errors[DEPLOY_MODEL_BLOCK] = 'Pick a model.';
      const version = Number(versionText);
      if (!versionText) errors[DEPLOY_VERSION_BLOCK] = 'Pick a version.';
      else if (!Number.isSafeInteger(version) || version < 1)
        errors[DEPLOY_VERSION_BLOCK] = 'Pick a version from the list.';
      const endpoint = endpointNameSchema.safeParse(endpointText ?? '');
      if (!endpointText) errors[DEPLOY_ENDPOINT_BLOCK] = 'Pick an endpoint.';
      else if (!endpoint.success)
        errors[DEPLOY_ENDPOINT_BLOCK] = endpoint.error.issues[0]?.message ?? 'Not an endpoint name.';
      if (Object.keys(errors).length > 0 || !model || !endpoint.success) {
        return { ack: { response_action: 'errors', errors } };
      }
      try {
        await deps.authorise(actor, meta.channel, 'deploy', endpoint.data);
      } catch (e) {
        const r = refused(e);
        if (r) return r;
        throw e;
      }
      // Stale values (a version deleted meanwhile, an endpoint renamed) are refused on their field.
      const stale = await within(budget, staleFields(model, version, endpoint.data));
      if (stale !== TIMED_OUT && Object.keys(stale).length > 0) {
        return { ack: { response_action: 'errors', errors: stale } };
      }
      // Past the budget the plan's own reads check the same, and answer through response_url.
      const parsed: ParsedCommand = {
        subcommand: 'deploy',
        model,
        target: { version },
        endpoint: endpoint.data,
        dryRun: false,
      };
      const origin: Origin = { channelId: meta.channel };
      return {
        after: async () =>
          answer(meta, actor, await guardReply(() => dispatch(parsed, deps.commands, actor, origin))),
      };
    },
  };

  async function staleFields(
    model: string,
    version: number,
    endpoint: string,
  ): Promise<Record<string, string>> {
    const errors: Record<string, string> = {};
    const { registry, serving } = deps.commands;
    await Promise.all([
      registry.getVersion(model, version).then(
        (v) => {
          if (v.status !== 'READY') {
            errors[DEPLOY_VERSION_BLOCK] =
              `v${version} is ${v.status}, not READY: only READY versions can be deployed.`;
          }
        },
        (e: unknown) => {
          if (isUserError(e))
            errors[e.code === 'model_not_found' ? DEPLOY_MODEL_BLOCK : DEPLOY_VERSION_BLOCK] = plainWords(e);
          else throw e;
        },
      ),
      // The default endpoint may not exist yet: deploy creates it. Any other was picked from the list.
      endpoint === deps.commands.defaults.endpoint
        ? Promise.resolve()
        : serving.get(endpoint).then(
            () => undefined,
            (e: unknown) => {
              if (isUserError(e) && e.code === 'endpoint_not_found') {
                errors[DEPLOY_ENDPOINT_BLOCK] =
                  `${endpoint} no longer exists (renamed or deleted?). Pick another endpoint.`;
              } else if (!isUserError(e)) throw e;
            },
          ),
    ]);
    return errors;
  }

  /** The same boundary as commands: a UserError becomes its words, anything else an apology. */
  const guardReply = (work: () => Promise<Reply>) => deps.guard('modal', work);

  /** Options of the deploy modal's selects, read as the user opens them. */
  const options: Record<string, (typed: string, view: SubmittedView | undefined) => Promise<object>> = {
    async [ACTION_DEPLOY_MODEL](typed) {
      const { catalog, schema } = deps.commands.defaults;
      return buildOptions(modelOptions(await deps.commands.registry.listModels(catalog, schema)), typed);
    },
    async [ACTION_DEPLOY_VERSION](typed, view) {
      const model = view?.state.values[DEPLOY_MODEL_BLOCK]?.[ACTION_DEPLOY_MODEL]?.selected_option?.value;
      if (!model) return { options: [] };
      return buildOptions(
        versionOptions(await deps.commands.registry.listVersions(model)),
        typed.replace(/^v/i, 'v'),
      );
    },
    async [ACTION_DEPLOY_ENDPOINT](typed) {
      const names = (await deps.commands.serving.list()).map((e) => e.name);
      const fallback = deps.commands.defaults.endpoint;
      // The default endpoint is offered even before it exists: deploy creates it.
      if (fallback && !names.includes(fallback)) names.unshift(fallback);
      return buildOptions(
        names.map((n) => ({ label: n, value: n })),
        typed,
      );
    },
  };

  return {
    submissions,
    options,

    /** Opens the modal a command asks for; false when it could not (the command then answers as usual). */
    async openForCommand(
      client: ViewsClient,
      request: ModalRequest,
      command: { trigger_id: string; channel_id: string; response_url: string },
    ): Promise<boolean> {
      const meta: ModalMetadata = { channel: command.channel_id, responseUrl: command.response_url };
      if (request.kind === 'deploy') {
        const view = buildDeployModal({
          ...(deps.commands.defaults.endpoint ? { defaultEndpoint: deps.commands.defaults.endpoint } : {}),
          metadata: meta,
        });
        return (await open(client, command.trigger_id, view)) !== undefined;
      }
      // Open at once (the trigger expires), then fill in the example once the schema is read.
      const id = await open(
        client,
        command.trigger_id,
        buildQueryModal({ endpoint: request.endpoint, loading: true, metadata: meta }),
      );
      if (id === undefined) return false;
      await fillQueryExample(client, id, request.endpoint, meta);
      return true;
    },

    /** Opens the reason modal of a Reject click; false when it could not (the ephemeral prompt then). */
    async openReject(
      client: ViewsClient,
      click: { triggerId: string; requestId: string; channel: string; responseUrl?: string },
    ): Promise<boolean> {
      const r: ApprovalRequest | undefined = (await deps.approvals.pending()).find(
        (p) => p.id === click.requestId,
      );
      if (!r) return false; // decided or unknown: the click path says what happened
      const meta: ModalMetadata = {
        channel: click.channel,
        ...(click.responseUrl ? { responseUrl: click.responseUrl } : {}),
      };
      const view = buildRejectModal({ title: approvalTitle(r.plan), requestId: r.id, metadata: meta });
      return (await open(client, click.triggerId, view)) !== undefined;
    },
  };
}

export type Modals = ReturnType<typeof createModals>;
