import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUserError, type UserError } from '../../src/domain/errors.js';
import { simulatedClock } from '../../src/lib/clock.js';
import {
  APPROVER_USER_ID,
  APPROVERS_USERGROUP_ID,
  createDefaultSlackSeed,
  REQUESTER_USER_ID,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/seed.js';
import { type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/start-slack-twin.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { createDirectory, type DirectoryOptions } from '../../src/slack/directory.js';

const TTL = 5 * 60_000;
let twin: SlackTwin;
let clock: ReturnType<typeof simulatedClock>;

async function start(seed = createDefaultSlackSeed()) {
  twin = await startSlackTwin({ seed });
  clock = simulatedClock(Date.parse('2026-01-01T00:00:00Z'));
}

/** A real WebClient on the twin that does not retry, so a fault shows at once. */
function directory(options: DirectoryOptions = {}, token?: string) {
  const client = new webApi.WebClient(token ?? twin.botToken, {
    slackApiUrl: twin.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: webApi.LogLevel.ERROR,
  });
  return createDirectory(client, clock, TTL, options);
}

async function failure(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

afterEach(async () => {
  expect(twin.unknownCalls()).toEqual([]);
  await twin.stop();
});

describe('createDirectory against the Slack twin', () => {
  beforeEach(() => start());

  it("gives a member's groups both as id and as handle", async () => {
    const dir = directory();
    expect(await dir.groupsOf(APPROVER_USER_ID)).toEqual(new Set([APPROVERS_USERGROUP_ID, '@ml-approvers']));
    expect(await dir.groupsOf(REQUESTER_USER_ID)).toEqual(new Set());
  });

  it('asks Slack once per TTL and sees membership changes after it', async () => {
    const dir = directory({ refs: ['@ml-approvers'] });
    expect(await dir.groupsOf(VIEWER_USER_ID)).toEqual(new Set());
    twin.state.usergroups.get(APPROVERS_USERGROUP_ID)?.users.push(VIEWER_USER_ID);

    clock.advance(TTL - 1);
    expect(await dir.groupsOf(VIEWER_USER_ID)).toEqual(new Set());
    expect(twin.calls('usergroups.list')).toHaveLength(1);
    expect(twin.calls('usergroups.users.list')).toHaveLength(1);

    clock.advance(1);
    expect(await dir.groupsOf(VIEWER_USER_ID)).toContain('@ml-approvers');
    expect(twin.calls('usergroups.list')).toHaveLength(2);
  });

  it('shares one load between concurrent lookups', async () => {
    const dir = directory();
    const answers = await Promise.all(
      [APPROVER_USER_ID, REQUESTER_USER_ID, VIEWER_USER_ID, APPROVER_USER_ID].map((u) => dir.groupsOf(u)),
    );
    expect(answers.map((a) => a.size)).toEqual([2, 0, 0, 2]);
    expect(twin.calls('usergroups.list')).toHaveLength(1);
    expect(twin.calls('usergroups.users.list')).toHaveLength(1);
  });

  it('asks again after invalidate()', async () => {
    const dir = directory();
    await dir.groupsOf(APPROVER_USER_ID);
    dir.invalidate();
    await dir.groupsOf(APPROVER_USER_ID);
    expect(twin.calls('usergroups.list')).toHaveLength(2);
  });

  it('names the fix when the app lacks usergroups:read', async () => {
    twin.setScopes(['commands', 'chat:write']);
    const err = await failure(directory().groupsOf(APPROVER_USER_ID));
    expect(err.code).toBe('directory_missing_scope');
    expect(describeError(err).text).toContain('usergroups:read');
    expect(describeError(err).hint).toContain('reinstall the app');
  });

  it('says the bot token was refused, without showing it', async () => {
    const err = await failure(directory({}, 'xoxb-not-a-real-token').groupsOf(APPROVER_USER_ID));
    expect(err.code).toBe('directory_auth');
    expect(`${err.message} ${describeError(err).text} ${describeError(err).hint}`).not.toContain(
      'xoxb-not-a-real-token',
    );
  });

  it('does not cache a failure: the next lookup asks again and succeeds', async () => {
    const dir = directory();
    twin.failNext('usergroups.list', { status: 500 });
    const err = await failure(dir.groupsOf(APPROVER_USER_ID));
    expect(err.code).toBe('directory_unreachable');
    expect(await dir.groupsOf(APPROVER_USER_ID)).toContain(APPROVERS_USERGROUP_ID);
  });

  it('treats a group deleted between the two calls as empty', async () => {
    twin.failNext('usergroups.users.list', { error: 'no_such_subteam' });
    expect(await directory().groupsOf(APPROVER_USER_ID)).toEqual(new Set());
  });

  it('turns a rate limit into a try-again message', async () => {
    const client = new webApi.WebClient(twin.botToken, {
      slackApiUrl: twin.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
    });
    twin.failNext('usergroups.list', { status: 429, retryAfter: 30 });
    const err = await failure(createDirectory(client, clock, TTL).groupsOf(APPROVER_USER_ID));
    expect(err.code).toBe('directory_rate_limited');
  });
});

describe('createDirectory with the policy refs', () => {
  beforeEach(() => {
    const seed = createDefaultSlackSeed();
    seed.usergroups.push({
      id: 'S0ENGINEERS',
      handle: 'ml-engineers',
      name: 'ML engineers',
      users: [VIEWER_USER_ID],
    });
    seed.usergroups.push({ id: 'S0OTHERS', handle: 'others', name: 'Others', users: [VIEWER_USER_ID] });
    return start(seed);
  });

  it('resolves only the groups the policy names, by handle or id, any case', async () => {
    const dir = directory({ refs: ['@ML-Engineers', APPROVERS_USERGROUP_ID] });
    expect(await dir.groupsOf(VIEWER_USER_ID)).toEqual(new Set(['S0ENGINEERS', '@ml-engineers']));
    const asked = twin.calls('usergroups.users.list').map((c) => c.args.usergroup);
    expect(asked.sort()).toEqual(['S0APPROVERS', 'S0ENGINEERS']);
  });

  it('reports the references that match no group', async () => {
    const dir = directory({ refs: ['@ml-aprovers', 'S0ENGINEERS', 'S0GONE'] });
    expect(await dir.unknownRefs()).toEqual(['@ml-aprovers', 'S0GONE']);
  });
});
