/**
 * The bot token scopes modelgate asks for, each with the Web API calls that need it. manifest.yml
 * lists exactly these (test/unit/manifest.test.ts checks it) and `npm run doctor` checks the
 * installed app was granted them. Add a scope here only together with the code that calls a
 * method needing it; a scope change means reinstalling the app.
 */
export const BOT_SCOPE_USES = {
  commands: 'the /mlops slash command',
  'chat:write': 'chat.postMessage, chat.update, chat.postEphemeral: plans, rollout progress, private notices',
  'chat:write.public':
    'chat.postMessage into a public channel the bot has not joined, where someone typed /mlops and pressed Apply',
  'usergroups:read': 'usergroups.list and usergroups.users.list: the user groups named in the policy',
  'im:write':
    'conversations.open: the DM of each approver (when the gate says notify: dm) and of the requester, told how their request ended',
  'files:write':
    'files.uploadV2 (getUploadURLExternal, completeUploadExternal): drift charts drawn by the bot, uploaded into the alert thread',
} as const satisfies Record<string, string>;

export type BotScope = keyof typeof BOT_SCOPE_USES;

/** The scopes in manifest.yml's `oauth_config.scopes.bot`, in that order. */
export const BOT_SCOPES = Object.keys(BOT_SCOPE_USES) as BotScope[];

/**
 * The Events API events the app listens to (app.ts registers exactly these); manifest.yml's
 * `settings.event_subscriptions.bot_events` lists exactly them. None needs a scope.
 */
export const BOT_EVENT_USES = {
  app_home_opened: 'publishes the App Home of whoever opens it (views.publish)',
} as const satisfies Record<string, string>;

export const BOT_EVENTS = Object.keys(BOT_EVENT_USES) as Array<keyof typeof BOT_EVENT_USES>;
