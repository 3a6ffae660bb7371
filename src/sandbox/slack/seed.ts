/** Ids of the demo workspace. Tests and the sandbox refer to people and places by these constants. */
export const SANDBOX_TEAM_ID = 'T0SANDBOX';
export const SANDBOX_TEAM_DOMAIN = 'sandbox';
export const SANDBOX_APP_ID = 'A0MODELGATE';
export const BOT_USER_ID = 'U0BOT';
export const BOT_ID = 'B0BOT';
/** riley: asks for deploys and promotions. */
export const REQUESTER_USER_ID = 'U0REQUEST';
/** avery: member of the approvers group. */
export const APPROVER_USER_ID = 'U0APPROVE';
/** vic: can read #mlops, may approve nothing. */
export const VIEWER_USER_ID = 'U0VIEWER';
export const MLOPS_CHANNEL_ID = 'C0MLOPS';
export const APPROVALS_CHANNEL_ID = 'C0APPROVALS';
export const APPROVERS_USERGROUP_ID = 'S0APPROVERS';

/** The bot scopes from manifest.yml; the default grant of the twin's bot token. */
export const DEFAULT_BOT_SCOPES: readonly string[] = [
  'commands',
  'chat:write',
  'chat:write.public',
  'files:write',
  'usergroups:read',
  'im:write',
  'users:read',
  'channels:read',
  'groups:read',
];

export interface SeedUser {
  id: string;
  name: string;
  realName: string;
  isBot?: boolean;
  tz?: string;
}

export interface SeedChannel {
  id: string;
  name: string;
  isPrivate?: boolean;
  topic?: string;
  /** User ids; include the bot user id for channels the bot has joined. */
  members: string[];
}

export interface SeedUsergroup {
  id: string;
  handle: string;
  name: string;
  users: string[];
}

export interface SlackSeed {
  team: { id: string; domain: string; name: string };
  bot: { userId: string; botId: string; appId: string; name: string };
  users: SeedUser[];
  channels: SeedChannel[];
  usergroups: SeedUsergroup[];
}

/**
 * A fresh copy of the demo workspace: riley (requester), avery (approver), vic (viewer), #mlops with everyone,
 * #mlops-approvals without vic, and the `@ml-approvers` group holding avery.
 *
 * @example
 * const seed = createDefaultSlackSeed();
 * seed.channels.push({ id: 'C0PRIVATE', name: 'secret', isPrivate: true, members: [REQUESTER_USER_ID] });
 * const twin = await startSlackTwin({ seed });
 */
export function createDefaultSlackSeed(): SlackSeed {
  return {
    team: { id: SANDBOX_TEAM_ID, domain: SANDBOX_TEAM_DOMAIN, name: 'Modelgate Sandbox' },
    bot: { userId: BOT_USER_ID, botId: BOT_ID, appId: SANDBOX_APP_ID, name: 'modelgate' },
    users: [
      { id: BOT_USER_ID, name: 'modelgate', realName: 'Modelgate', isBot: true },
      { id: REQUESTER_USER_ID, name: 'riley', realName: 'Riley Requester' },
      { id: APPROVER_USER_ID, name: 'avery', realName: 'Avery Approver' },
      { id: VIEWER_USER_ID, name: 'vic', realName: 'Vic Viewer' },
    ],
    channels: [
      {
        id: MLOPS_CHANNEL_ID,
        name: 'mlops',
        topic: 'Model serving operations',
        members: [BOT_USER_ID, REQUESTER_USER_ID, APPROVER_USER_ID, VIEWER_USER_ID],
      },
      {
        id: APPROVALS_CHANNEL_ID,
        name: 'mlops-approvals',
        topic: 'Pending approvals',
        members: [BOT_USER_ID, REQUESTER_USER_ID, APPROVER_USER_ID],
      },
    ],
    usergroups: [
      { id: APPROVERS_USERGROUP_ID, handle: 'ml-approvers', name: 'ML approvers', users: [APPROVER_USER_ID] },
    ],
  };
}
