/** The help messages: every subcommand at a glance, or one in detail. */
import { SUBCOMMAND_NAMES, SUBCOMMANDS } from '../../commands/subcommands.js';
import type { Reply, Subcommand } from '../../domain/vocabulary.js';
import { codeBlocks, contextBlock, escapeMrkdwn, headerBlock, sectionBlock } from './format.js';

/**
 * @example buildHelpReply().blocks // header, one section per subcommand, a closing context
 */
export function buildHelpReply(): Reply {
  const lines = SUBCOMMAND_NAMES.map(
    (name) =>
      `*${name}*: ${escapeMrkdwn(SUBCOMMANDS[name].summary)}\n\`${escapeMrkdwn(SUBCOMMANDS[name].usage)}\``,
  );
  return {
    text: `/mlops subcommands: ${SUBCOMMAND_NAMES.join(', ')}. Run /mlops help <subcommand> for details.`,
    blocks: [
      headerBlock('/mlops: model serving from Slack'),
      sectionBlock(lines.join('\n')),
      contextBlock([
        'Changes (deploy, split, promote, rollback) show a plan first; nothing changes until you press Apply. Add --dry-run to only see the plan.',
        'Promoting to Production, retraining, and whatever the policy gates need a second person: the bot posts an approval request with Approve / Reject buttons instead of a plan.',
        'Run `/mlops help &lt;subcommand&gt;` for details and examples.',
      ]),
    ],
    visibility: 'ephemeral',
  };
}

/**
 * @example buildSubcommandHelpReply('deploy')
 */
export function buildSubcommandHelpReply(name: Subcommand): Reply {
  const spec = SUBCOMMANDS[name];
  const blocks = [
    headerBlock(`/mlops ${name}`),
    sectionBlock(`${escapeMrkdwn(spec.summary)}.\n\`${escapeMrkdwn(spec.usage)}\``),
  ];
  if (spec.details.length > 0) blocks.push(sectionBlock(spec.details.map(escapeMrkdwn).join('\n')));
  if (spec.examples.length > 0) {
    blocks.push(sectionBlock('*Examples*'), ...codeBlocks([...spec.examples]));
  }
  return {
    text: `/mlops ${name}: ${spec.summary}. Usage: ${spec.usage}`,
    blocks,
    visibility: 'ephemeral',
  };
}
