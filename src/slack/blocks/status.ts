/** The status of one endpoint: readiness, rollout, served versions with traffic and aliases, link. */

import { type StatusView, servedKey } from '../../commands/views.js';
import type { Endpoint, EndpointConfig, ServedVersion } from '../../domain/ports/serving.js';
import type { Reply } from '../../domain/vocabulary.js';
import { endpointUrl } from '../../domain/workspace-links.js';
import type { SlackBlock } from './block-kit.js';
import {
  codeBlocks,
  contextBlock,
  escapeMrkdwn,
  fieldsBlock,
  formatTable,
  formatUtc,
  headerBlock,
  link,
  sectionBlock,
  versionLabel,
} from './format.js';

export type { StatusView };

const trafficOf = (config: EndpointConfig, name: string) =>
  config.traffic.find((r) => r.servedName === name)?.percent ?? 0;

/** 'DEPLOYMENT_READY' → 'ready' */
export const deploymentState = (state: string | undefined) =>
  state
    ? state
        .replace(/^DEPLOYMENT_/, '')
        .toLowerCase()
        .replace(/_/g, ' ')
    : '—';

const onOff = (b: boolean) => (b ? 'on' : 'off');

/** The served versions of a config as table rows (with titles). */
function servedRows(config: EndpointConfig, aliases: Map<string, string[]>): string[][] {
  return [
    ['version', 'size', 'scale-to-zero', 'traffic', 'state', 'aliases'],
    ...config.servedVersions.map((v: ServedVersion) => [
      versionLabel(v.modelName, v.modelVersion),
      v.workloadSize,
      onOff(v.scaleToZero),
      `${trafficOf(config, v.name)}%`,
      deploymentState(v.state),
      (aliases.get(servedKey(v.modelName, v.modelVersion)) ?? []).join(', ') || '—',
    ]),
  ];
}

/** 'churn_model v2 100%, churn_model v3 0%' */
export function describeConfig(config: EndpointConfig): string {
  return config.servedVersions
    .map((v) => `${versionLabel(v.modelName, v.modelVersion)} ${trafficOf(config, v.name)}%`)
    .join(', ');
}

function updateText(ep: Endpoint): string {
  if (ep.updating) return 'Rollout in progress';
  if (ep.updateState === 'UPDATE_FAILED') return 'Last update failed';
  if (ep.updateState === 'UPDATE_CANCELED') return 'Last update canceled';
  if (ep.updateState === 'NOT_UPDATING') return 'Not updating';
  return ep.updateState;
}

/**
 * @example buildStatusReply({ endpoint, aliases: new Map([['acme.mlops.churn_model@2', ['Champion']]]), workspaceHost })
 */
export function buildStatusReply(view: StatusView): Reply {
  const { endpoint: ep, aliases, workspaceHost } = view;
  const blocks: SlackBlock[] = [headerBlock(ep.name)];
  const fields = [
    `*State*\n${ep.ready ? 'Ready' : 'Not ready'}`,
    `*Config update*\n${escapeMrkdwn(updateText(ep))}`,
  ];
  if (ep.current?.configVersion !== undefined) fields.push(`*Config version*\n${ep.current.configVersion}`);
  if (ep.updatedAt) fields.push(`*Last updated*\n${formatUtc(ep.updatedAt)}`);
  blocks.push(fieldsBlock(fields));

  if (ep.updating && ep.pending) {
    const pending = ep.pending.servedVersions
      .map((v) => `${versionLabel(v.modelName, v.modelVersion)} (${deploymentState(v.state)})`)
      .join(', ');
    blocks.push(
      sectionBlock(
        `*Rollout in progress*${ep.pending.configVersion !== undefined ? ` to config ${ep.pending.configVersion}` : ''}: ${escapeMrkdwn(
          describeConfig(ep.pending),
        )}.\nPending: ${escapeMrkdwn(pending)}`,
      ),
    );
  } else if (ep.updating) {
    blocks.push(sectionBlock('*Rollout in progress.*'));
  }
  if (ep.failureReason && !ep.updating) {
    blocks.push(
      sectionBlock(
        `*${escapeMrkdwn(updateText(ep))}:* ${escapeMrkdwn(ep.failureReason)}${
          ep.current ? `\nStill serving: ${escapeMrkdwn(describeConfig(ep.current))}` : ''
        }`,
      ),
    );
  }
  if (ep.current && ep.current.servedVersions.length > 0) {
    blocks.push(
      sectionBlock('*Served versions*'),
      ...codeBlocks(formatTable(servedRows(ep.current, aliases))),
    );
  } else {
    blocks.push(sectionBlock('No live config yet: the endpoint does not answer queries.'));
  }
  blocks.push(contextBlock([link(endpointUrl(workspaceHost, ep.name), `Open ${ep.name} in Databricks`)]));

  const parts = [ep.ready ? 'ready' : 'not ready'];
  if (ep.current) parts.push(`serving ${describeConfig(ep.current)}`);
  if (ep.updating) parts.push(`rollout in progress${ep.pending ? ` to ${describeConfig(ep.pending)}` : ''}`);
  if (ep.failureReason && !ep.updating) parts.push(`${updateText(ep).toLowerCase()}: ${ep.failureReason}`);
  return { text: `${ep.name}: ${parts.join('; ')}`, blocks, visibility: 'ephemeral' };
}
