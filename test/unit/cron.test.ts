import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { isValidCron, scheduleProblem } from '../../src/lib/cron.js';

/** Accepted and refused expressions across node-cron's grammar. */
const EXPRESSIONS = [
  '0 8 * * *',
  '* * * * *',
  '*/5 * * * *',
  '0 0 8 * * *',
  '0 13 * * 1-5',
  '0 9 * * mon-fri',
  '0 9 * * MON,WED,FRI',
  '0 9 1 jan *',
  '0 9 1 January,March *',
  '0 9 L * *',
  '0 9 L-2 * *',
  '0 9 15W * *',
  '0 9 LW * *',
  '0 9 * * 5L',
  '0 9 * * 1#2',
  '0 9 ? * 1',
  '0 9 * * 7',
  '0 22-2 * * *',
  '0 0-23/3 * * *',
  '@daily',
  '@hourly',
  ' @weekly ',
  '0  8  *  *  *',
  '0 8 31 2 *',
  '0 8 30 2,4 *',
  // Refused
  '',
  '0 8 * *',
  '0 0 0 8 * * *',
  '60 * * * *',
  '0 24 * * *',
  '0 8 0 * *',
  '0 8 32 * *',
  '0 8 * 13 *',
  '0 8 * * 8',
  '0 8 * * 1#6',
  '0 8 33W * *',
  '0 8 L-31 * *',
  '0 8 1W5 * *',
  '0 8 * * *;',
  '0 8 * * * *',
  '5/10 * * * *',
  '0 8 1-5/0 * *',
  '@sometimes',
  'every day',
  '0 8 ** * *',
];

describe('isValidCron', () => {
  for (const expression of EXPRESSIONS) {
    it(`agrees with node-cron on "${expression}"`, () => {
      expect(isValidCron(expression)).toBe(cron.validate(expression));
    });
  }
});

describe('scheduleProblem', () => {
  const cases = [
    { name: 'accepts a valid expression in UTC', cron: '0 8 * * *', timezone: undefined, want: undefined },
    { name: 'accepts an IANA time zone', cron: '0 8 * * *', timezone: 'Europe/Paris', want: undefined },
    {
      name: 'names an invalid expression',
      cron: '0 25 * * *',
      timezone: undefined,
      want: '"0 25 * * *" is not a valid cron expression',
    },
    {
      name: 'names an unknown time zone',
      cron: '0 8 * * *',
      timezone: 'Mars/Olympus',
      want: '"Mars/Olympus" is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(scheduleProblem(c.cron, c.timezone)).toBe(c.want);
    });
  }
});
