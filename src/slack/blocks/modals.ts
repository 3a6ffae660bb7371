/**
 * The modals: records for `/mlops query <endpoint>`, the reason of a Reject, and the deploy form
 * (model, version with its aliases, endpoint, each an external_select filled by the app), plus the
 * options those selects get and a modal that only says something. Pure: data in, views out.
 * What a modal needs at submission (where to answer) travels in `private_metadata`.
 */
import type { ModelVersionInfo } from '../../domain/ports/registry.js';
import {
  ACTION_APPROVAL_REJECT_REASON,
  ACTION_DEPLOY_ENDPOINT,
  ACTION_DEPLOY_MODEL,
  ACTION_DEPLOY_VERSION,
  ACTION_QUERY_RECORDS,
  CALLBACK_DEPLOY_MODAL,
  CALLBACK_QUERY_MODAL,
  CALLBACK_REJECT_MODAL,
} from './action-ids.js';
import { MAX_REJECT_REASON, REJECT_REASON_BLOCK } from './approval.js';
import type { SlackBlock } from './block-kit.js';
import { contextBlock, escapeMrkdwn, plain, sectionBlock, shortModel, truncate } from './format.js';

export const QUERY_RECORDS_BLOCK = 'query-records';
export const DEPLOY_MODEL_BLOCK = 'deploy-model';
export const DEPLOY_VERSION_BLOCK = 'deploy-version';
export const DEPLOY_ENDPOINT_BLOCK = 'deploy-endpoint';
/** A multi-line input holds at most 3000 characters (Slack's limit). */
export const MODAL_INPUT_MAX = 3000;
/** Most options one select answer carries. */
export const MAX_OPTIONS = 100;

/** Where a modal's answer goes: the channel it came from and, when there was one, its response_url. */
export interface ModalMetadata {
  channel: string;
  responseUrl?: string;
  endpoint?: string;
  requestId?: string;
}

export interface ModalView {
  type: 'modal';
  callback_id: string;
  title: ReturnType<typeof plain>;
  submit?: ReturnType<typeof plain>;
  close: ReturnType<typeof plain>;
  private_metadata: string;
  blocks: SlackBlock[];
}

/** @example encodeMetadata({ channel: 'C1' }) // '{"channel":"C1"}' */
export const encodeMetadata = (m: ModalMetadata): string => JSON.stringify(m);

/** The metadata a modal was opened with; a channel of '' when it is unreadable. */
export function decodeMetadata(raw: string | undefined): ModalMetadata {
  try {
    const m = JSON.parse(raw ?? '') as Partial<ModalMetadata>;
    return {
      channel: typeof m.channel === 'string' ? m.channel : '',
      ...(typeof m.responseUrl === 'string' ? { responseUrl: m.responseUrl } : {}),
      ...(typeof m.endpoint === 'string' ? { endpoint: m.endpoint } : {}),
      ...(typeof m.requestId === 'string' ? { requestId: m.requestId } : {}),
    };
  } catch {
    return { channel: '' };
  }
}

/**
 * The query modal: a multi-line input for the records, prefilled with an example record from the
 * endpoint's input schema when there is one (`loading`: the schema is still being read).
 *
 * @example buildQueryModal({ endpoint: 'churn-endpoint', example: { tenure: 12 }, metadata })
 */
export function buildQueryModal(input: {
  endpoint: string;
  example?: Record<string, unknown>;
  loading?: boolean;
  metadata: ModalMetadata;
}): ModalView {
  const initial = input.example ? JSON.stringify([input.example], null, 2) : undefined;
  const note = input.loading
    ? 'Reading the endpoint’s input schema for an example record…'
    : input.example
      ? 'The example comes from the endpoint’s input schema: change the values, add records.'
      : 'The endpoint has no input schema to take an example from.';
  return {
    type: 'modal',
    callback_id: CALLBACK_QUERY_MODAL,
    title: plain('Query endpoint'),
    submit: plain('Send'),
    close: plain('Cancel'),
    private_metadata: encodeMetadata({ ...input.metadata, endpoint: input.endpoint }),
    blocks: [
      sectionBlock(`Records to send to *${escapeMrkdwn(input.endpoint)}*.`),
      {
        type: 'input',
        block_id: QUERY_RECORDS_BLOCK,
        label: plain('Records (JSON)'),
        element: {
          type: 'plain_text_input',
          action_id: ACTION_QUERY_RECORDS,
          multiline: true,
          max_length: MODAL_INPUT_MAX,
          ...(initial && initial.length <= MODAL_INPUT_MAX ? { initial_value: initial } : {}),
          placeholder: plain('[{"feature": 1}]'),
        },
        hint: plain(
          'A JSON list of objects, {"columns": […], "data": [[…]]}, or one object. At most 100 records.',
        ),
      },
      contextBlock([note]),
    ],
  };
}

/**
 * The reason modal a Reject opens.
 *
 * @example buildRejectModal({ title: 'Production → churn_model v3', requestId: 'apr_1', metadata })
 */
export function buildRejectModal(input: {
  title: string;
  requestId: string;
  metadata: ModalMetadata;
}): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK_REJECT_MODAL,
    title: plain('Reject request'),
    submit: plain('Reject'),
    close: plain('Cancel'),
    private_metadata: encodeMetadata({ ...input.metadata, requestId: input.requestId }),
    blocks: [
      sectionBlock(`Reject *${escapeMrkdwn(input.title)}* (request \`${escapeMrkdwn(input.requestId)}\`)?`),
      {
        type: 'input',
        block_id: REJECT_REASON_BLOCK,
        optional: true,
        label: plain('Reason'),
        element: {
          type: 'plain_text_input',
          action_id: ACTION_APPROVAL_REJECT_REASON,
          multiline: true,
          max_length: MAX_REJECT_REASON,
          placeholder: plain('Why it should not go ahead'),
        },
        hint: plain('The requester is told the reason.'),
      },
    ],
  };
}

const externalSelect = (
  actionId: string,
  placeholder: string,
  initial?: { label: string; value: string },
) => ({
  type: 'external_select' as const,
  action_id: actionId,
  min_query_length: 0,
  placeholder: plain(placeholder),
  ...(initial ? { initial_option: option(initial.label, initial.value) } : {}),
});

/**
 * The deploy form: model, version (with its aliases) and endpoint, each filled from Databricks as
 * the user opens it. Submitting shows the same plan as `/mlops deploy`.
 *
 * @example buildDeployModal({ defaultEndpoint: 'churn-endpoint', metadata })
 */
export function buildDeployModal(input: { defaultEndpoint?: string; metadata: ModalMetadata }): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK_DEPLOY_MODAL,
    title: plain('Deploy a model'),
    submit: plain('Show plan'),
    close: plain('Cancel'),
    private_metadata: encodeMetadata(input.metadata),
    blocks: [
      {
        type: 'input',
        block_id: DEPLOY_MODEL_BLOCK,
        label: plain('Model'),
        element: externalSelect(ACTION_DEPLOY_MODEL, 'Pick a model'),
      },
      {
        type: 'input',
        block_id: DEPLOY_VERSION_BLOCK,
        label: plain('Version'),
        element: externalSelect(ACTION_DEPLOY_VERSION, 'Pick a version'),
        hint: plain('Pick the model first; aliases are shown next to each version.'),
      },
      {
        type: 'input',
        block_id: DEPLOY_ENDPOINT_BLOCK,
        label: plain('Endpoint'),
        element: externalSelect(
          ACTION_DEPLOY_ENDPOINT,
          'Pick an endpoint',
          input.defaultEndpoint ? { label: input.defaultEndpoint, value: input.defaultEndpoint } : undefined,
        ),
      },
      contextBlock(['The plan is shown first; nothing changes until you press Apply.']),
    ],
  };
}

/** A modal that only says something (a refusal, a problem): no submit button. */
export function buildNoticeModal(title: string, text: string): ModalView {
  return {
    type: 'modal',
    callback_id: 'notice-modal',
    title: plain(truncate(title, 24)),
    close: plain('Close'),
    private_metadata: '',
    blocks: [sectionBlock(text)],
  };
}

/** One option of a select: label and value cut to Slack's limits (75 / 150). */
export function option(label: string, value: string) {
  return { text: plain(truncate(label, 75)), value: value.slice(0, 150) };
}

/** Options whose label contains what the user typed (case-insensitive), at most MAX_OPTIONS. */
export function buildOptions(items: ReadonlyArray<{ label: string; value: string }>, typed: string) {
  const q = typed.trim().toLowerCase();
  return {
    options: items
      .filter((i) => q === '' || i.label.toLowerCase().includes(q))
      .slice(0, MAX_OPTIONS)
      .map((i) => option(i.label, i.value)),
  };
}

/** `v3 · Challenger`, `v4 (not ready)`: a version as the version select shows it, newest first. */
export function versionOptions(
  versions: readonly ModelVersionInfo[],
): Array<{ label: string; value: string }> {
  return [...versions]
    .sort((a, b) => b.version - a.version)
    .map((v) => ({
      label: `v${v.version}${v.aliases.length > 0 ? ` · ${v.aliases.join(', ')}` : ''}${v.status === 'READY' ? '' : ' (not ready)'}`,
      value: String(v.version),
    }));
}

/** Models by their short name, the full name as the value. */
export const modelOptions = (names: readonly string[]) =>
  names.map((n) => ({ label: shortModel(n), value: n }));
