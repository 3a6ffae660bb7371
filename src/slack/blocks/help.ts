/** The help messages: every subcommand at a glance, or one in detail. */
import type { CommandHelp } from '../../commands/views.js';
import type { Reply } from '../../domain/vocabulary.js';
import { codeBlocks, contextBlock, escapeMrkdwn, headerBlock, sectionBlock } from './format.js';

/**
 * Every subcommand at a glance, in the order given.
 *
 * @example buildHelpReply(COMMANDS).blocks // header, one section per subcommand, a closing context
 */
export function buildHelpReply(commands: readonly CommandHelp[]): Reply {
  const names = commands.map((c) => c.name);
  const lines = commands.map((c) => `*${c.name}*: ${escapeMrkdwn(c.summary)}\n\`${escapeMrkdwn(c.usage)}\``);
  const changes = commands.filter((c) => c.mutating).map((c) => c.name);
  return {
    text: `/mlops subcommands: ${names.join(', ')}. Run /mlops help <subcommand> for details.`,
    blocks: [
      headerBlock('/mlops: model serving from Slack'),
      sectionBlock(lines.join('\n')),
      contextBlock([
        `Changes (${changes.join(', ')}) show a plan first; nothing changes until you press Apply. Add --dry-run to only see the plan.`,
        'Promoting to Production, retraining, and whatever the policy gates need a second person: the bot posts an approval request with Approve / Reject buttons instead of a plan.',
        'Slack limits a slash command to 4000 characters: for longer query records, run `/mlops query &lt;endpoint&gt;` alone to open the query form.',
        'Run `/mlops help &lt;subcommand&gt;` for details and examples.',
      ]),
    ],
    visibility: 'ephemeral',
  };
}

/**
 * One subcommand in detail: summary, usage, details and examples.
 *
 * @example buildSubcommandHelpReply(SUBCOMMANDS.deploy)
 */
export function buildSubcommandHelpReply(spec: CommandHelp): Reply {
  const { name } = spec;
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
