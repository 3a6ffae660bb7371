import { describe, expect, it } from 'vitest';
import { buildHealthReport, type HealthInputs } from '../../src/health/report.js';

const T = Date.parse('2026-12-01T09:00:00Z');
const base: HealthInputs = {
  store: { state: 'ready' },
  slack: { mode: 'http', listening: true },
  scheduler: { leader: true, holder: 'host-a:12:abc', since: T, term: 2 },
  version: '0.1.0',
};

describe('buildHealthReport', () => {
  const cases: Array<{ name: string; over: Partial<HealthInputs>; status: number; slack: string }> = [
    { name: 'ready store, HTTP listener up: 200', over: {}, status: 200, slack: 'http' },
    {
      name: 'Socket Mode connected: 200',
      over: { slack: { mode: 'socket', state: 'connected' } },
      status: 200,
      slack: 'connected',
    },
    {
      name: 'Socket Mode reconnecting: 503',
      over: { slack: { mode: 'socket', state: 'reconnecting' } },
      status: 503,
      slack: 'reconnecting',
    },
    {
      name: 'HTTP listener not up yet: 503',
      over: { slack: { mode: 'http', listening: false } },
      status: 503,
      slack: 'starting',
    },
    {
      name: 'store still connecting: 503',
      over: { store: { state: 'connecting', detail: 'waiting for the store lock' } },
      status: 503,
      slack: 'http',
    },
    {
      name: 'store unreachable: 503',
      over: { store: { state: 'unreachable', detail: 'connection refused' } },
      status: 503,
      slack: 'http',
    },
    {
      name: 'a follower replica is healthy too: 200',
      over: { scheduler: { leader: false, holder: 'host-b:9:def', since: T } },
      status: 200,
      slack: 'http',
    },
  ];
  it.each(cases)('$name', ({ over, status, slack }) => {
    const report = buildHealthReport({ ...base, ...over });
    expect(report.status).toBe(status);
    expect(report.body.ok).toBe(status === 200);
    expect(report.body.slack.state).toBe(slack);
  });

  it('names the store problem, the leader and since when, and the version', () => {
    const { body } = buildHealthReport({
      ...base,
      store: { state: 'unreachable', detail: 'connection refused' },
    });
    expect(body).toEqual({
      ok: false,
      version: '0.1.0',
      store: { state: 'unreachable', detail: 'connection refused' },
      slack: { state: 'http' },
      scheduler: { leader: true, holder: 'host-a:12:abc', since: '2026-12-01T09:00:00.000Z' },
    });
  });

  it('says nobody leads yet before the scheduler started', () => {
    const { body } = buildHealthReport({ ...base, scheduler: undefined });
    expect(body.scheduler).toEqual({ leader: false, holder: null, since: null });
  });
});
