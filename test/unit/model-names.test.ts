import { describe, expect, it } from 'vitest';
import { codedOfIssue, UserError } from '../../src/domain/errors.js';
import {
  modelNameSchema,
  parseAliasName,
  parseModelName,
  resolveModelName,
  sameAlias,
  versionNumberSchema,
} from '../../src/domain/model-names.js';
import { describeError, wordsOfCoded } from '../../src/slack/blocks/errors.js';

const defaults = { catalog: 'acme', schema: 'mlops' };

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('model names', () => {
  it.each([
    { input: 'acme.mlops.churn_model', want: 'acme.mlops.churn_model' },
    { input: '  Acme.MLOps.Churn_Model ', want: 'acme.mlops.churn_model' },
    { input: 'dev-cat.ml-1.churn-v2', want: 'dev-cat.ml-1.churn-v2' },
  ])('accepts the three-part name $input as $want', ({ input, want }) => {
    expect(parseModelName(input).fullName).toBe(want);
  });

  it('splits a name into catalog, schema and model', () => {
    expect(parseModelName('acme.mlops.churn_model')).toEqual({
      catalog: 'acme',
      schema: 'mlops',
      model: 'churn_model',
      fullName: 'acme.mlops.churn_model',
    });
  });

  it.each([
    { input: 'churn_model', problem: 'has 1 part, not three' },
    { input: 'a.b.c.d', problem: 'has 4 parts, not three' },
    { input: 'acme..churn', problem: 'has an empty part' },
    { input: 'acme.mlops.churn model', problem: 'part "churn model" may only hold' },
    { input: 'acme.mlops.churn;drop', problem: 'part "churn;drop" may only hold' },
    { input: `acme.mlops.${'m'.repeat(256)}`, problem: 'longer than 255 characters' },
  ])('refuses $input because it $problem', ({ input, problem }) => {
    const err = errorOf(() => parseModelName(input));
    expect(err.code).toBe('invalid_model_name');
    expect(describeError(err).text).toContain(problem);
    expect(describeError(err).hint).toContain('catalog.schema.model');
  });

  it.each([
    { input: 'churn_model', want: 'acme.mlops.churn_model' },
    { input: 'features.churn_model', want: 'acme.features.churn_model' },
    { input: 'prod.ml.churn_model', want: 'prod.ml.churn_model' },
    { input: 'Churn_Model', want: 'acme.mlops.churn_model' },
  ])('resolves the short name $input to $want with the default catalog and schema', ({ input, want }) => {
    expect(resolveModelName(input, defaults)).toBe(want);
  });

  it('refuses a short name with characters UC does not allow', () => {
    expect(errorOf(() => resolveModelName('churn/model', defaults)).code).toBe('invalid_model_name');
  });

  it('parses a model name in command input to its full lower-case form, or reports why not', () => {
    expect(modelNameSchema.parse('Acme.Mlops.Churn_Model')).toBe('acme.mlops.churn_model');
    const result = modelNameSchema.safeParse('churn_model');
    expect(result.success).toBe(false);
    // The issue carries the coded error; its words are the Slack edge's.
    const coded = result.error?.issues[0] ? codedOfIssue(result.error.issues[0]) : undefined;
    expect(coded && wordsOfCoded(coded).text).toContain('not three');
  });
});

describe('alias names', () => {
  it('keeps the spelling of a valid alias', () => {
    expect(parseAliasName(' Champion ')).toBe('Champion');
  });

  it.each(['latest', 'v3', 'V12', '1st', 'champ ion', ''])('refuses the alias %j', (alias) => {
    expect(errorOf(() => parseAliasName(alias)).code).toBe('invalid_alias_name');
  });

  it('treats aliases that differ only in case as the same alias', () => {
    expect(sameAlias('Champion', 'champion')).toBe(true);
    expect(sameAlias('Champion', 'Challenger')).toBe(false);
  });
});

describe('version numbers typed by users', () => {
  it.each([
    { input: '7', want: 7 },
    { input: 'v7', want: 7 },
    { input: ' V12 ', want: 12 },
  ])('reads $input as $want', ({ input, want }) => {
    expect(versionNumberSchema.parse(input)).toBe(want);
  });

  it.each(['0', '-1', '1.5', 'seven', ''])('refuses %j', (input) => {
    expect(versionNumberSchema.safeParse(input).success).toBe(false);
  });
});
