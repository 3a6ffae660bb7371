import { describe, expect, it } from 'vitest';
import { COMMANDS, SUBCOMMANDS } from '../../src/commands/index.js';
import { codedOf, type ErrorCode, type ErrorWords, UserError } from '../../src/domain/errors.js';
import { WarehouseError } from '../../src/domain/ports/warehouse.js';
import type { Subcommand } from '../../src/domain/vocabulary.js';
import type { SlackBlock } from '../../src/slack/blocks/block-kit.js';
import { buildErrorReply, buildInternalErrorReply } from '../../src/slack/blocks/error.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { buildHelpReply, buildSubcommandHelpReply } from '../../src/slack/blocks/help.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';

function readable(blocks: SlackBlock[] | undefined): string {
  return JSON.stringify(blocks ?? [])
    .match(/"text":"(?:[^"\\]|\\.)*"/g)!
    .map((m) => JSON.parse(m.slice(7)) as string)
    .join('\n');
}

describe('help replies', () => {
  it('lists every subcommand with its summary and escaped usage, privately', () => {
    const reply = buildHelpReply(COMMANDS);
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('ephemeral');
    const text = readable(reply.blocks);
    for (const [name, spec] of Object.entries(SUBCOMMANDS)) {
      expect(text).toContain(`*${name}*`);
      expect(text).toContain(spec.usage.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    }
  });

  it('names the changes that show a plan first, from the specs', () => {
    expect(readable(buildHelpReply(COMMANDS).blocks)).toContain(
      'Changes (deploy, split, promote, rollback) show a plan first',
    );
  });

  it('documents promoting to Production as a change that needs an approval', () => {
    expect(readable(buildHelpReply(COMMANDS).blocks)).toMatch(/Production/);
    expect(readable(buildSubcommandHelpReply(SUBCOMMANDS.promote).blocks)).toMatch(/approval request/);
  });

  it.each(Object.keys(SUBCOMMANDS) as Subcommand[])('explains %s with usage and examples', (name) => {
    const reply = buildSubcommandHelpReply(SUBCOMMANDS[name]);
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.text).toContain(`Usage: ${SUBCOMMANDS[name].usage}`);
    const text = readable(reply.blocks);
    expect(text).toContain(`/mlops ${name}`);
    for (const example of SUBCOMMANDS[name].examples)
      expect(text).toContain(example.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  });
});

describe('error replies', () => {
  it('shows a user error with its hint, escaped, privately', () => {
    const reply = buildErrorReply(
      new UserError('bad_input', { problems: ['Say which model.'], hint: 'Usage: /mlops models <model>' }),
    );
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('ephemeral');
    // The fallback text is mrkdwn to Slack as well (notifications), so it is escaped like the blocks.
    expect(reply.text).toBe('Say which model. Usage: /mlops models &lt;model&gt;');
    expect(readable(reply.blocks)).toContain('Usage: /mlops models &lt;model&gt;');
  });

  it('shows only an apology and the correlation id for an internal error', () => {
    const reply = buildInternalErrorReply('corr-1234');
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('ephemeral');
    expect(reply.text).toContain('corr-1234');
    expect(readable(reply.blocks)).toContain('`corr-1234`');
  });
});

describe('wording coded errors at the edge', () => {
  const cases: Array<{ name: string; err: UserError; want: ErrorWords }> = [
    {
      name: 'a missing endpoint, with the /mlops hint the adapter no longer writes',
      err: new UserError('endpoint_not_found', { endpoint: 'churn' }),
      want: {
        text: 'No serving endpoint called "churn".',
        hint: 'Run `/mlops status` to list the endpoints, or check the spelling.',
      },
    },
    {
      name: 'a refusal that relays the message Databricks sent',
      err: new UserError('permission_denied', {
        endpoint: 'churn',
        action: 'update',
        databricksMessage: 'User lacks CAN MANAGE',
      }),
      want: {
        text: 'Databricks refused to update churn: User lacks CAN MANAGE',
        hint: 'The bot’s principal needs CAN MANAGE (or CAN QUERY for queries) on the endpoint.',
      },
    },
    {
      name: 'a missing version found while moving an alias, without a hint',
      err: new UserError('version_not_found', {
        model: 'acme.mlops.churn',
        version: 9,
        suggestListing: false,
      }),
      want: { text: 'acme.mlops.churn has no version 9.' },
    },
    {
      name: 'a warehouse that is starting',
      err: new WarehouseError('warehouse_starting', {}),
      want: {
        text: 'The SQL warehouse is starting up.',
        hint: 'The SQL warehouse was stopped and is starting up, which can take a few minutes. Try again shortly, or keep it running (auto-stop) while the bot is in use.',
      },
    },
  ];
  for (const c of cases) {
    it(`words ${c.name}`, () => {
      expect(describeError(c.err)).toEqual(c.want);
    });
  }

  it('puts a coded error into a private reply with its hint', () => {
    const reply = buildErrorReply(new UserError('rollout_in_progress', { endpoint: 'churn' }));
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('ephemeral');
    expect(reply.text).toBe(
      'A rollout is already in progress on churn. Wait for it to finish (`/mlops status churn`), then try again.',
    );
  });

  it('keeps the words the command parser wrote for a bad input', () => {
    const err = new UserError('bad_input', {
      problems: ['Nothing to change.'],
      hint: 'Pick another version.',
    });
    expect(describeError(err)).toEqual({ text: 'Nothing to change.', hint: 'Pick another version.' });
    expect(err.details).toEqual({ problems: ['Nothing to change.'], hint: 'Pick another version.' });
  });

  it('words a name error nested in a bad input as it words the error itself', () => {
    const nested = new UserError('invalid_alias_name', { alias: 'a b', reserved: false });
    const err = new UserError('bad_input', { problems: [codedOf(nested)], hint: 'Usage: …' });
    expect(describeError(err)).toEqual({ text: describeError(nested).text, hint: 'Usage: …' });
  });

  it('keeps a developer-facing message, apart from the words users see', () => {
    const err = new UserError('alias_not_found', { model: 'acme.mlops.churn', alias: 'Champion' });
    expect(err.message).toBe('alias_not_found {"model":"acme.mlops.churn","alias":"Champion"}');
    expect(describeError(err).hint).toBe('Run `/mlops versions acme.mlops.churn` to see its aliases.');
  });

  it('keeps the code and the data of a coded error apart from its words', () => {
    const err = new UserError('job_not_found', { jobId: 123 });
    const code: ErrorCode = err.code;
    expect(code).toBe('job_not_found');
    expect(err.details).toEqual({ jobId: 123 });
  });
});
