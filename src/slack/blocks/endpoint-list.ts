/** Every serving endpoint, one compact line each. */

import type { EndpointSummary } from '../../domain/ports/serving.js';
import type { Reply } from '../../domain/vocabulary.js';
import { endpointUrl } from '../../domain/workspace-links.js';
import type { SlackBlock } from './block-kit.js';
import { contextBlock, escapeMrkdwn, headerBlock, link, sectionBlock, versionLabel } from './format.js';
import { BLOCK_LIMITS } from './limits.js';

/** Most endpoints listed; the rest are counted. Keeps the message well under Slack's total size. */
export const MAX_LISTED_ENDPOINTS = 60;

function stateOf(e: EndpointSummary): string {
  if (e.updating) return 'rollout in progress';
  if (e.updateState === 'UPDATE_FAILED') return `${e.ready ? 'ready' : 'not ready'}, last update failed`;
  return e.ready ? 'ready' : 'not ready';
}

/** One line: '• churn-endpoint · ready · churn_model v2' */
export function endpointLine(e: EndpointSummary, host: string): string {
  const served =
    e.servedVersions.map((v) => versionLabel(v.modelName, v.modelVersion)).join(', ') || 'nothing served';
  return `• ${link(endpointUrl(host, e.name), e.name)} · ${stateOf(e)} · ${escapeMrkdwn(served)}`;
}

/**
 * @example buildEndpointListReply(await serving.list(), host)
 */
export function buildEndpointListReply(endpoints: EndpointSummary[], workspaceHost: string): Reply {
  const sorted = [...endpoints].sort((a, b) => a.name.localeCompare(b.name));
  const blocks: SlackBlock[] = [headerBlock(`Serving endpoints (${endpoints.length})`)];
  if (sorted.length === 0) {
    blocks.push(sectionBlock('There are no serving endpoints in this workspace yet.'));
    blocks.push(
      contextBlock(['Create one with `/mlops deploy &lt;model&gt; &lt;version&gt; to &lt;endpoint&gt;`.']),
    );
    return { text: 'There are no serving endpoints yet.', blocks, visibility: 'ephemeral' };
  }
  const shown = sorted.slice(0, MAX_LISTED_ENDPOINTS);
  let chunk: string[] = [];
  let size = 0;
  for (const line of shown.map((e) => endpointLine(e, workspaceHost))) {
    if (chunk.length > 0 && size + line.length + 1 > BLOCK_LIMITS.sectionText) {
      blocks.push(sectionBlock(chunk.join('\n')));
      chunk = [];
      size = 0;
    }
    chunk.push(line);
    size += line.length + 1;
  }
  if (chunk.length > 0) blocks.push(sectionBlock(chunk.join('\n')));
  const more = sorted.length - shown.length;
  blocks.push(
    contextBlock([
      `${more > 0 ? `…and ${more} more. ` : ''}Run \`/mlops status &lt;endpoint&gt;\` for details of one endpoint.`,
    ]),
  );
  const text = `${endpoints.length} serving endpoint${endpoints.length === 1 ? '' : 's'}: ${shown
    .map((e) => `${e.name} (${stateOf(e)})`)
    .join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
  return { text, blocks, visibility: 'ephemeral' };
}
