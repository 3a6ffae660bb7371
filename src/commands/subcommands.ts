/**
 * What each /mlops subcommand is called, does and expects: the one list parse errors, help and the
 * registry in index.ts read from. Kept in its own module so parse.ts and help.ts need not import
 * index.ts (which imports them).
 */
import type { Subcommand } from '../domain/vocabulary.js';

export interface SubcommandSpec {
  /** One line for the help overview. */
  summary: string;
  /** The exact usage line shown in help and in every parse error, without the 'Usage: ' prefix. */
  usage: string;
  /** Whether it changes something (and so goes through the change pipeline). */
  mutating: boolean;
  /** Longer explanation lines for `/mlops help <subcommand>`. */
  details: readonly string[];
  examples: readonly string[];
}

/** The slash command the app registers; manifest.yml must list exactly these. */
export const SLASH_COMMANDS = ['/mlops'] as const;

/** The subcommands, in the order help lists them. */
export const SUBCOMMANDS = {
  status: {
    summary: 'Show an endpoint: readiness, rollout, served versions, traffic and aliases',
    usage: '/mlops status [endpoint]',
    mutating: false,
    details: [
      'With an endpoint: whether it is ready, any rollout in progress and what is pending, the served versions with size and scale-to-zero, the traffic split, the aliases pointing at the served versions, and a link to the endpoint page.',
      'Without: every endpoint, one line each.',
    ],
    examples: ['/mlops status', '/mlops status churn-endpoint'],
  },
  models: {
    summary: 'List the versions of a model with status, creation time, creator and aliases',
    usage: '/mlops models <model>',
    mutating: false,
    details: [
      'Newest version first. A short name like churn_model uses the default catalog and schema; schema.model uses the default catalog.',
    ],
    examples: ['/mlops models churn_model', '/mlops models acme.mlops.churn_model'],
  },
  deploy: {
    summary: 'Make an endpoint serve one model version at 100% (creates the endpoint if needed)',
    usage:
      '/mlops deploy <model> <version|@alias> [to <endpoint>] [size=Small|Medium|Large] [scale-to-zero=on|off] [--dry-run]',
    mutating: true,
    details: [
      'The version is a number (3 or v3) or an alias (@Champion). Only READY versions can be deployed.',
      'Without "to <endpoint>" the default endpoint of the policy is used. Size and scale-to-zero default to those of the version of the same model already served, else Small with scale-to-zero on.',
      'The bot shows the plan first; nothing changes until you press Apply. --dry-run shows the plan only.',
    ],
    examples: [
      '/mlops deploy churn_model 3',
      '/mlops deploy churn_model @Challenger to churn-endpoint size=Medium',
      '/mlops deploy churn_model v3 scale-to-zero=off --dry-run',
    ],
  },
  split: {
    summary: 'Split the traffic of an endpoint between versions',
    usage: '/mlops split <endpoint> <version>=<percent> … [--dry-run]',
    mutating: true,
    details: [
      'Percentages are whole numbers adding up to 100; at most 10 versions. Versions not served yet are added (same size and scale-to-zero as the served ones); served versions you leave out are removed.',
    ],
    examples: ['/mlops split churn-endpoint 2=90 3=10', '/mlops split churn-endpoint v2=50 v3=50 --dry-run'],
  },
  query: {
    summary: 'Send records to an endpoint and show the predictions',
    usage: '/mlops query <endpoint> <records>',
    mutating: false,
    details: [
      'Records are a JSON list of objects, JSON {"columns": [...], "data": [[...], ...]}, or key=value pairs for one record (numbers are read as numbers; quote text with spaces).',
      'At most 100 records and 64 KB of text per query.',
    ],
    examples: [
      '/mlops query churn-endpoint tenure=2 monthly_charges=95.5 contract=Month-to-month senior_citizen=1',
      '/mlops query churn-endpoint [{"tenure": 60, "monthly_charges": 20, "contract": "Two year", "senior_citizen": 0}]',
    ],
  },
  promote: {
    summary: 'Move the Challenger, Champion or Production alias of a model to a version',
    usage: '/mlops promote <model> <version> <Challenger|Champion|Production> [--dry-run]',
    mutating: true,
    details: [
      'Only READY versions can carry an alias. The bot shows the plan first; nothing changes until Apply.',
      'Production needs a second person: the bot posts an approval request (in the approval channel when the policy names one) with the plan, the evidence and Approve / Reject buttons. When the policy binds Production to an endpoint, approval rolls the endpoint out to the version, then moves the alias.',
    ],
    examples: [
      '/mlops promote churn_model 3 Champion',
      '/mlops promote churn_model v4 Challenger --dry-run',
      '/mlops promote churn_model 4 Production',
    ],
  },
  rollback: {
    summary: "Restore an endpoint's previous served versions and traffic",
    usage: '/mlops rollback <endpoint> [--dry-run]',
    mutating: true,
    details: [
      'Uses the bot’s own history of the endpoint: the config it served before the last change made through the bot.',
    ],
    examples: ['/mlops rollback churn-endpoint', '/mlops rollback churn-endpoint --dry-run'],
  },
  drift: {
    summary: 'Run a drift check now and post the result with its charts',
    usage: '/mlops drift [monitor]',
    mutating: false,
    details: [
      'Reads the monitor’s metric tables now and checks its rules (see monitors: in the policy file). New violating windows become alerts in the monitor’s channel, as on the schedule; the result of the other rules, healthy or not, is posted here with its chart.',
      'Without a monitor, every monitor is checked.',
    ],
    examples: ['/mlops drift', '/mlops drift churn'],
  },
  retrain: {
    summary: "Ask for approval to run a monitor's or a model's retraining job",
    usage: '/mlops retrain <monitor|model> [reason] [--dry-run]',
    mutating: true,
    details: [
      'Uses the job the policy names (monitors.<name>.retrainJob, or retraining.<model>.job). The bot posts an approval request; once approved it runs the job (run-now, once, whatever the clicks), follows the run and posts how it ended, with a link and the model version it registered.',
      'Words after the name are the reason shown to approvers.',
    ],
    examples: ['/mlops retrain churn', '/mlops retrain churn_model F1 dropped below 0.5 last week'],
  },
  approvals: {
    summary: 'List the approval requests still pending, with age and who may approve',
    usage: '/mlops approvals',
    mutating: false,
    details: ['Requests expire after the time the policy sets (24 hours by default).'],
    examples: ['/mlops approvals'],
  },
  audit: {
    summary: 'Show the latest changes with requester, approver, time and outcome',
    usage: '/mlops audit [model|endpoint]',
    mutating: false,
    details: [
      'From the append-only audit log: changes applied through the bot and approval requests, newest first. With a model: its alias moves and retraining; with an endpoint: its changes.',
    ],
    examples: ['/mlops audit', '/mlops audit churn_model', '/mlops audit churn-endpoint'],
  },
  help: {
    summary: 'Explain the subcommands, or one of them',
    usage: '/mlops help [subcommand]',
    mutating: false,
    details: [],
    examples: ['/mlops help', '/mlops help deploy'],
  },
} as const satisfies Record<Subcommand, SubcommandSpec>;

export const SUBCOMMAND_NAMES = Object.keys(SUBCOMMANDS) as Subcommand[];

/** Other words people type for a subcommand. */
export const SUBCOMMAND_ALIASES: Readonly<Record<string, Subcommand>> = { versions: 'models' };

/** 'Usage: /mlops deploy …' — the hint of every parse error. */
export const usageOf = (subcommand: Subcommand): string => `Usage: ${SUBCOMMANDS[subcommand].usage}`;

export function isSubcommand(name: string): name is Subcommand {
  return Object.hasOwn(SUBCOMMANDS, name);
}
