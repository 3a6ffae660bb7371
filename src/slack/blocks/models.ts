/** The versions of a model: status, creation time, creator and aliases, newest first. */

import type { ModelsView } from '../../commands/views.js';
import type { Reply } from '../../domain/vocabulary.js';
import { modelVersionUrl } from '../../domain/workspace-links.js';
import type { SlackBlock } from './block-kit.js';
import {
  codeBlocks,
  contextBlock,
  formatTable,
  formatUtc,
  headerBlock,
  link,
  sectionBlock,
  shortModel,
} from './format.js';

/** Most versions listed; older ones are counted. */
export const MAX_LISTED_VERSIONS = 25;

export type { ModelsView };

/**
 * @example buildModelsReply({ model: 'acme.mlops.churn_model', versions, workspaceHost })
 */
export function buildModelsReply(view: ModelsView): Reply {
  const { model, versions, workspaceHost } = view;
  const blocks: SlackBlock[] = [headerBlock(model)];
  if (versions.length === 0) {
    blocks.push(sectionBlock('This model has no versions yet.'));
    return { text: `${model} has no versions yet.`, blocks, visibility: 'ephemeral' };
  }
  const shown = versions.slice(0, MAX_LISTED_VERSIONS);
  const rows = [
    ['version', 'status', 'created', 'by', 'aliases'],
    ...shown.map((v) => [
      `v${v.version}`,
      v.status,
      formatUtc(v.createdAt),
      v.createdBy ?? '—',
      v.aliases.join(', ') || '—',
    ]),
  ];
  blocks.push(...codeBlocks(formatTable(rows, { maxCellWidth: 28 })));
  const older = versions.length - shown.length;
  const newest = versions[0]!;
  blocks.push(
    contextBlock([
      `${older > 0 ? `…and ${older} older version${older === 1 ? '' : 's'}. ` : ''}${link(
        modelVersionUrl(workspaceHost, model, newest.version),
        `Open ${shortModel(model)} v${newest.version} in Catalog Explorer`,
      )}`,
    ]),
  );
  const aliased = versions
    .filter((v) => v.aliases.length > 0)
    .map((v) => `${v.aliases.join(', ')} → v${v.version}`)
    .join('; ');
  const text = `${model}: ${versions.length} version${versions.length === 1 ? '' : 's'}, newest v${newest.version}${
    aliased ? `; ${aliased}` : ''
  }`;
  return { text, blocks, visibility: 'ephemeral' };
}
