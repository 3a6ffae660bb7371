import { describe, expect, it } from 'vitest';
import { COMMANDS, SUBCOMMANDS } from '../../src/commands/index.js';
import { UserError } from '../../src/domain/errors.js';
import type { SlackBlock, Subcommand } from '../../src/domain/vocabulary.js';
import { buildErrorReply, buildInternalErrorReply } from '../../src/slack/blocks/error.js';
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
      new UserError('bad_input', 'Say which model.', 'Usage: /mlops models <model>'),
    );
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('ephemeral');
    expect(reply.text).toBe('Say which model. Usage: /mlops models <model>');
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
