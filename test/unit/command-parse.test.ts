import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  endpointOf,
  isMutating,
  MUTATING_COMMANDS,
  parseCommand,
  SLASH_COMMANDS,
  SUBCOMMANDS,
} from '../../src/commands/index.js';
import { MAX_QUERY_RECORDS } from '../../src/commands/query.js';
import { UserError } from '../../src/domain/errors.js';
import { MUTATING_SUBCOMMANDS, type Subcommand } from '../../src/domain/vocabulary.js';
import { describeError } from '../../src/slack/blocks/errors.js';

const defaults = { catalog: 'acme', schema: 'mlops', endpoint: 'churn-endpoint' };
const noDefaultEndpoint = { catalog: 'acme', schema: 'mlops' };
const MODEL = 'acme.mlops.churn_model';

function parseError(text: string, d: Parameters<typeof parseCommand>[1] = defaults): UserError {
  try {
    parseCommand(text, d);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`expected "${text}" to be refused`);
}

/** Asserts the error is a bad_input naming the problem, with the subcommand's exact usage as hint. */
function expectBadInput(text: string, subcommand: Subcommand, message: RegExp | string) {
  const err = parseError(text);
  expect(err.code).toBe('bad_input');
  const words = describeError(err);
  expect(words.hint).toBe(`Usage: ${SUBCOMMANDS[subcommand].usage}`);
  if (typeof message === 'string') expect(words.text).toContain(message);
  else expect(words.text).toMatch(message);
}

describe('parseCommand: help and unknown subcommands', () => {
  it('treats empty text as help', () => {
    expect(parseCommand('', defaults)).toEqual({ subcommand: 'help' });
    expect(parseCommand('   ', defaults)).toEqual({ subcommand: 'help' });
  });

  it('reads a help topic in any case, including the versions synonym of models', () => {
    expect(parseCommand('help', defaults)).toEqual({ subcommand: 'help' });
    expect(parseCommand('HELP Deploy', defaults)).toEqual({ subcommand: 'help', topic: 'deploy' });
    expect(parseCommand('help versions', defaults)).toEqual({ subcommand: 'help', topic: 'models' });
  });

  it('refuses help on a subcommand that does not exist', () => {
    expectBadInput('help frobnicate', 'help', 'There is no subcommand "frobnicate"');
  });

  it('names an unknown subcommand, suggests the closest one and lists them all', () => {
    const err = parseError('depoly churn_model 3');
    expect(err.code).toBe('bad_input');
    expect(describeError(err).text).toBe('"depoly" is not a subcommand. Did you mean deploy?');
    expect(describeError(err).hint).toContain(Object.keys(SUBCOMMANDS).join(', '));
  });

  it('reads subcommands case-insensitively', () => {
    expect(parseCommand('STATUS churn-endpoint', defaults)).toEqual({
      subcommand: 'status',
      endpoint: 'churn-endpoint',
    });
  });
});

describe('the subcommand registry', () => {
  it('has help for every subcommand and one slash command', () => {
    expect(SLASH_COMMANDS).toEqual(['/mlops']);
    for (const name of Object.keys(SUBCOMMANDS)) {
      expect(parseCommand(`help ${name}`, defaults)).toEqual({ subcommand: 'help', topic: name });
      expect(SUBCOMMANDS[name as Subcommand].usage.startsWith(`/mlops ${name}`)).toBe(true);
    }
  });

  it('lists each subcommand once, under its own name, in help order', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(Object.keys(SUBCOMMANDS));
    for (const [name, spec] of Object.entries(SUBCOMMANDS)) expect(spec.name).toBe(name);
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });

  it('derives the changing subcommands from the specs, equal to the vocabulary list', () => {
    expect(MUTATING_COMMANDS).toEqual([...MUTATING_SUBCOMMANDS]);
    expect(isMutating(parseCommand('rollback churn-endpoint', defaults))).toBe(true);
    expect(isMutating(parseCommand('retrain churn', defaults))).toBe(false);
    expect(isMutating(parseCommand('status', defaults))).toBe(false);
  });

  it('takes --dry-run on every change, rollout and retrain included, and only there', () => {
    expect(COMMANDS.filter((c) => c.takesDryRun).map((c) => c.name)).toEqual([
      ...MUTATING_SUBCOMMANDS,
      'rollout',
      'retrain',
    ]);
  });

  it.each([
    { text: 'deploy churn_model 3', want: 'churn-endpoint' },
    { text: 'deploy churn_model 3 to staging', want: 'staging' },
    { text: 'split churn-endpoint 2=90 3=10', want: 'churn-endpoint' },
    { text: 'rollback churn-endpoint', want: 'churn-endpoint' },
    { text: 'query churn-endpoint a=1', want: 'churn-endpoint' },
    { text: 'status churn-endpoint', want: 'churn-endpoint' },
    { text: 'status', want: undefined },
    { text: 'promote churn_model 3 Champion', want: undefined },
    { text: 'retrain churn', want: undefined },
    { text: 'models churn_model', want: undefined },
  ])('says "$text" touches endpoint $want', ({ text, want }) => {
    expect(endpointOf(parseCommand(text, defaults), defaults)).toBe(want);
  });
});

describe('parseCommand: status', () => {
  it('parses status with and without an endpoint', () => {
    expect(parseCommand('status', defaults)).toEqual({ subcommand: 'status' });
    expect(parseCommand('status churn-endpoint', defaults)).toEqual({
      subcommand: 'status',
      endpoint: 'churn-endpoint',
    });
  });

  it('refuses an invalid endpoint name, extra words and --dry-run', () => {
    expectBadInput('status churn/endpoint', 'status', '"churn/endpoint" is not an endpoint name');
    expectBadInput('status a b', 'status', 'Unexpected "b" at the end.');
    expectBadInput('status churn-endpoint --dry-run', 'status', '--dry-run only applies to changes');
    expectBadInput('status --verbose', 'status', 'Unknown option "--verbose"');
  });
});

describe('parseCommand: models', () => {
  it('resolves short and two-part model names against the defaults', () => {
    expect(parseCommand('models churn_model', defaults)).toEqual({ subcommand: 'models', model: MODEL });
    expect(parseCommand('models other.churn', defaults)).toEqual({
      subcommand: 'models',
      model: 'acme.other.churn',
    });
    expect(parseCommand('models Main.ML.Churn', defaults)).toEqual({
      subcommand: 'models',
      model: 'main.ml.churn',
    });
  });

  it('accepts versions as another name for models', () => {
    expect(parseCommand('versions churn_model', defaults)).toEqual({ subcommand: 'models', model: MODEL });
  });

  it('refuses a missing or malformed model name', () => {
    expectBadInput('models', 'models', 'Say which model');
    expectBadInput('models a.b.c.d', 'models', 'is not a Unity Catalog model name');
    expectBadInput('models churn extra', 'models', 'Unexpected "extra"');
  });
});

describe('parseCommand: deploy', () => {
  it('parses a version number, v-prefixed, or an alias', () => {
    expect(parseCommand('deploy churn_model 3', defaults)).toEqual({
      subcommand: 'deploy',
      model: MODEL,
      target: { version: 3 },
      endpoint: 'churn-endpoint',
      dryRun: false,
    });
    expect(parseCommand('deploy churn_model V3', defaults)).toMatchObject({ target: { version: 3 } });
    expect(parseCommand('deploy churn_model @Champion', defaults)).toMatchObject({
      target: { alias: 'Champion' },
    });
  });

  it('reads the endpoint, size and scale-to-zero in any order and any case', () => {
    expect(
      parseCommand('Deploy churn_model v3 SIZE=medium TO other-endpoint scale-to-zero=OFF', defaults),
    ).toEqual({
      subcommand: 'deploy',
      model: MODEL,
      target: { version: 3 },
      endpoint: 'other-endpoint',
      size: 'Medium',
      scaleToZero: false,
      dryRun: false,
    });
  });

  it('takes --dry-run anywhere, also when a phone turned -- into a dash', () => {
    expect(parseCommand('deploy --dry-run churn_model 3', defaults)).toMatchObject({ dryRun: true });
    expect(parseCommand('deploy churn_model 3 —dry-run', defaults)).toMatchObject({ dryRun: true });
  });

  it('uses the default endpoint, and asks for one when there is none', () => {
    expect(parseCommand('deploy churn_model 3', defaults)).toMatchObject({ endpoint: 'churn-endpoint' });
    const err = parseError('deploy churn_model 3', noDefaultEndpoint);
    expect(err.code).toBe('bad_input');
    expect(describeError(err).text).toContain('Say which endpoint with "to <endpoint>"');
    expect(describeError(err).hint).toBe(`Usage: ${SUBCOMMANDS.deploy.usage}`);
  });

  it('explains each mistake with the exact usage', () => {
    expectBadInput(
      'deploy',
      'deploy',
      'Say which model, e.g. churn_model. Say which version (e.g. 3) or alias',
    );
    expectBadInput('deploy churn_model', 'deploy', 'Say which version (e.g. 3) or alias (e.g. @Champion).');
    expectBadInput(
      'deploy churn_model Champion',
      'deploy',
      '"Champion" is not a version. To use an alias, write @Champion.',
    );
    expectBadInput('deploy churn_model 3.5', 'deploy', '"3.5" is not a version or an alias');
    expectBadInput('deploy churn_model 0', 'deploy', '"0" is not a version or an alias');
    expectBadInput('deploy churn_model @latest', 'deploy', '"latest" is reserved');
    expectBadInput(
      'deploy churn_model 3 size=huge',
      'deploy',
      '"huge" is not a size: use Small, Medium or Large.',
    );
    expectBadInput('deploy churn_model 3 scale-to-zero=maybe', 'deploy', '"maybe" is not on or off.');
    expectBadInput('deploy churn_model 3 gpu=yes', 'deploy', 'Unknown option "gpu"');
    expectBadInput(
      'deploy churn_model 3 other-endpoint',
      'deploy',
      'to name the endpoint write "to <endpoint>"',
    );
    expectBadInput('deploy churn_model 3 to', 'deploy', 'Say which endpoint after "to".');
    expectBadInput('deploy churn_model 3 to bad/name', 'deploy', '"bad/name" is not an endpoint name');
    expectBadInput('deploy churn_model 3 size=Small size=Large', 'deploy', 'size= is given twice');
    expectBadInput(
      'deploy churn_model 3 --force',
      'deploy',
      'Unknown option "--force"; the only flag is --dry-run.',
    );
  });
});

describe('parseCommand: split', () => {
  it('parses routes as version=percent, with v prefixes, % signs and commas', () => {
    expect(parseCommand('split churn-endpoint 2=90 3=10', defaults)).toEqual({
      subcommand: 'split',
      endpoint: 'churn-endpoint',
      routes: [
        { version: 2, percent: 90 },
        { version: 3, percent: 10 },
      ],
      dryRun: false,
    });
    expect(parseCommand('split churn-endpoint v2=50%, v3=50% --dry-run', defaults)).toMatchObject({
      routes: [
        { version: 2, percent: 50 },
        { version: 3, percent: 50 },
      ],
      dryRun: true,
    });
    expect(parseCommand('split churn-endpoint 2=100 3=0', defaults)).toMatchObject({
      routes: [
        { version: 2, percent: 100 },
        { version: 3, percent: 0 },
      ],
    });
  });

  it('refuses splits that do not add up, repeat a version, use fractions, or name too many versions', () => {
    expectBadInput('split churn-endpoint 2=90 3=20', 'split', 'The percentages add up to 110%, not 100%.');
    expectBadInput('split churn-endpoint 2=50 2=50', 'split', 'Version 2 is listed twice');
    expectBadInput(
      'split churn-endpoint 2=12.5 3=87.5',
      'split',
      'the percentage must be a whole number from 0 to 100',
    );
    expectBadInput('split churn-endpoint 2=-10 3=110', 'split', 'the percentage must be a whole number');
    expectBadInput('split churn-endpoint 2:90 3:10', 'split', 'is not a route: write <version>=<percent>');
    const eleven = Array.from({ length: 11 }, (_, i) => `${i + 1}=${i === 0 ? 90 : 1}`).join(' ');
    expectBadInput(`split churn-endpoint ${eleven}`, 'split', 'An endpoint serves at most 10 versions');
    expectBadInput('split churn-endpoint', 'split', 'Say how to split the traffic, e.g. 2=90 3=10.');
    expectBadInput('split', 'split', 'Say which endpoint.');
  });
});

describe('parseCommand: query', () => {
  it('reads a JSON list of records', () => {
    expect(
      parseCommand('query churn-endpoint [{"tenure": 2, "contract": "Two year"}, {"tenure": 3}]', defaults),
    ).toEqual({
      subcommand: 'query',
      endpoint: 'churn-endpoint',
      input: { records: [{ tenure: 2, contract: 'Two year' }, { tenure: 3 }] },
    });
  });

  it('reads JSON columns and data, and a single JSON object', () => {
    expect(
      parseCommand('query churn-endpoint {"columns": ["a", "b"], "data": [[1, 2], [3, 4]]}', defaults),
    ).toEqual({
      subcommand: 'query',
      endpoint: 'churn-endpoint',
      input: {
        split: {
          columns: ['a', 'b'],
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      },
    });
    expect(parseCommand('query churn-endpoint {"tenure": 2}', defaults)).toMatchObject({
      input: { records: [{ tenure: 2 }] },
    });
  });

  it('reads key=value pairs as one record, numbers as numbers and quoted values as text', () => {
    expect(
      parseCommand(
        'query churn-endpoint tenure=2 monthly_charges=95.5 contract="Two year" zip="01234" ok=true',
        defaults,
      ),
    ).toEqual({
      subcommand: 'query',
      endpoint: 'churn-endpoint',
      input: {
        records: [{ tenure: 2, monthly_charges: 95.5, contract: 'Two year', zip: '01234', ok: 'true' }],
      },
    });
  });

  it('leaves dashes inside records alone', () => {
    expect(parseCommand('query churn-endpoint note="—dry-run"', defaults)).toMatchObject({
      input: { records: [{ note: '—dry-run' }] },
    });
  });

  it('undoes Slack escaping and curly quotes', () => {
    expect(parseCommand('query churn-endpoint [{“note”: “a &amp; b &lt;c&gt;”}]', defaults)).toMatchObject({
      input: { records: [{ note: 'a & b <c>' }] },
    });
    expect(parseCommand('query churn-endpoint name=‘O Brien’', defaults)).toMatchObject({
      input: { records: [{ name: 'O Brien' }] },
    });
  });

  it('explains bad records with the usage', () => {
    expectBadInput('query', 'query', 'Say which endpoint to query');
    expectBadInput('query churn-endpoint', 'query', 'Give the records to send');
    expectBadInput('query churn-endpoint [{"tenure": 2}', 'query', 'The records are not valid JSON');
    expectBadInput('query churn-endpoint []', 'query', 'The list of records is empty');
    expectBadInput('query churn-endpoint [1, 2]', 'query', 'Record 1 is not an object');
    expectBadInput(
      'query churn-endpoint {"columns": ["a"], "data": [[1, 2]]}',
      'query',
      'Row 1 of "data" must be a list of 1 values',
    );
    expectBadInput('query churn-endpoint tenure', 'query', '"tenure" is not key=value');
    expectBadInput('query churn-endpoint a=1 a=2', 'query', '"a" is given twice.');
    expectBadInput('query churn-endpoint a="open', 'query', 'is opened but never closed');
    expectBadInput('query bad/name a=1', 'query', '"bad/name" is not an endpoint name');
  });

  it('refuses more records or more text than a query from Slack may carry', () => {
    const many = JSON.stringify(Array.from({ length: MAX_QUERY_RECORDS + 1 }, () => ({ a: 1 })));
    expectBadInput(`query churn-endpoint ${many}`, 'query', `That is ${MAX_QUERY_RECORDS + 1} records`);
    const big = JSON.stringify([{ blob: 'x'.repeat(70 * 1024) }]);
    expectBadInput(`query churn-endpoint ${big}`, 'query', 'a query from Slack carries at most 64 KB');
  });
});

describe('parseCommand: promote', () => {
  it('parses the alias in any case, with or without @', () => {
    expect(parseCommand('promote churn_model 3 Champion', defaults)).toEqual({
      subcommand: 'promote',
      model: MODEL,
      version: 3,
      alias: 'Champion',
      dryRun: false,
    });
    expect(parseCommand('promote churn_model v4 @challenger --dry-run', defaults)).toMatchObject({
      version: 4,
      alias: 'Challenger',
      dryRun: true,
    });
  });

  it('parses Production, which the pipeline turns into an approval request', () => {
    expect(parseCommand('promote churn_model 3 production', defaults)).toEqual({
      subcommand: 'promote',
      model: MODEL,
      version: 3,
      alias: 'Production',
      dryRun: false,
    });
  });

  it('refuses other aliases, missing parts and extra words', () => {
    expectBadInput('promote churn_model 3 Staging', 'promote', '"Staging" is not an alias promote can move');
    expectBadInput(
      'promote churn_model 3',
      'promote',
      'Say which alias to move: Challenger, Champion or Production.',
    );
    expectBadInput('promote churn_model', 'promote', 'Say which version, e.g. 3.');
    expectBadInput('promote churn_model @Challenger Champion', 'promote', '"@Challenger" is not a version');
    expectBadInput('promote churn_model 3 Champion now', 'promote', 'Unexpected "now"');
  });
});

describe('parseCommand: rollback', () => {
  it('parses an endpoint and --dry-run', () => {
    expect(parseCommand('rollback churn-endpoint', defaults)).toEqual({
      subcommand: 'rollback',
      endpoint: 'churn-endpoint',
      dryRun: false,
    });
    expect(parseCommand('rollback churn-endpoint --dry-run', defaults)).toMatchObject({ dryRun: true });
  });

  it('refuses a missing endpoint and extra words', () => {
    expectBadInput('rollback', 'rollback', 'Say which endpoint.');
    expectBadInput('rollback churn-endpoint 2', 'rollback', 'Unexpected "2"');
  });
});
