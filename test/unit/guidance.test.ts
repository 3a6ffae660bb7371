import { describe, expect, it } from 'vitest';
import { COMMANDS, parseCommand, SUBCOMMANDS } from '../../src/commands/index.js';
import { findJsonProblem, jsonSnippet } from '../../src/commands/json-error.js';
import { closestName } from '../../src/commands/suggest.js';
import { plural } from '../../src/doctor/report.js';
import { UserError } from '../../src/domain/errors.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { buildHelpReply, buildSubcommandHelpReply } from '../../src/slack/blocks/help.js';

const defaults = { catalog: 'acme', schema: 'mlops', endpoint: 'churn-endpoint' };

function parseWords(text: string): string {
  try {
    parseCommand(text, defaults);
  } catch (e) {
    if (e instanceof UserError) return describeError(e).text;
    throw e;
  }
  throw new Error(`expected "${text}" to be refused`);
}

describe('findJsonProblem', () => {
  it.each([
    { text: '{"a": }', want: { at: 6, expected: 'a value' } },
    { text: '[{"a": 1,}]', want: { at: 9, expected: 'a double-quoted name' } },
    { text: '[{"a" 1}]', want: { at: 6, expected: '":" after the name' } },
    { text: '[{"a": 1}', want: { at: 9, expected: '"," or "]"' } },
    { text: '[{"a": tru}]', want: { at: 10, expected: '"true"' } },
    { text: '[{"a": 1}] x', want: { at: 11, expected: 'nothing more after the records' } },
  ])('finds where $text goes wrong', ({ text, want }) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(findJsonProblem(text)).toEqual(want);
  });

  it('finds nothing wrong in valid JSON', () => {
    for (const text of ['[{"a": 1.5e3, "b": "x\\"y", "c": [true, false, null]}]', '{}', '[]'])
      expect(findJsonProblem(text)).toBeUndefined();
  });

  it('puts the caret under the offending character, cutting long texts', () => {
    expect(jsonSnippet('{"a": }', 6)).toEqual({ line: '{"a": }', caret: '      ^' });
    const long = `[${'{"tenure": 2}, '.repeat(10)}{"x" 1}]`;
    const at = long.indexOf('{"x" 1}') + 5;
    const { line, caret } = jsonSnippet(long, at, 10);
    expect(line.startsWith('…')).toBe(true);
    expect(line[caret.length - 1]).toBe('1');
  });
});

describe('a JSON mistake in /mlops query', () => {
  it('shows the text around the mistake with a caret, and an example', () => {
    const text = parseWords('query churn-endpoint [{"tenure": 2, "contract": }]');
    expect(text).toContain('The records are not valid JSON: a value was expected where character 28:');
    expect(text).toContain(`\`\`\`\n[{"tenure": 2, "contract": }]\n${' '.repeat(27)}^\n\`\`\``);
    expect(text).toContain('For example: `[{"tenure": 2, "contract": "Month-to-month"}]`');
  });

  it('says when the records end too early', () => {
    expect(parseWords('query churn-endpoint [{"tenure": 2}')).toContain(
      '"," or "]" was expected where the text ends',
    );
  });
});

describe('help and the 4000-character limit', () => {
  it('says slash commands are limited and points to the query form', () => {
    const all = JSON.stringify(buildHelpReply(COMMANDS).blocks);
    expect(all).toContain('4000 characters');
    expect(all).toContain('/mlops query &lt;endpoint&gt;` alone');
    const query = JSON.stringify(buildSubcommandHelpReply(SUBCOMMANDS.query).blocks);
    expect(query).toContain('Slack limits a slash command to 4000 characters');
  });
});

describe('wording', () => {
  it('pluralises words ending in s, x, ch and sh properly', () => {
    expect(plural(2, 'alias')).toBe('2 aliases');
    expect(plural(1, 'alias')).toBe('1 alias');
    expect(plural(3, 'check')).toBe('3 checks');
    expect(plural(0, 'match')).toBe('0 matches');
  });

  it('finds the closest name, never the name itself', () => {
    expect(closestName('churn-endpont', ['churn-endpoint', 'fraud-endpoint'])).toBe('churn-endpoint');
    expect(closestName('churn-endpoint', ['churn-endpoint'])).toBeUndefined();
    expect(closestName('totally-else', ['churn-endpoint'])).toBeUndefined();
  });
});
