/**
 * The views the /mlops handlers answer with: a port, so commands never import Slack. The Block
 * Kit implementation is `commandViews` in slack/blocks/views.ts; the composition root passes it in
 * `CommandDeps.views`, as it does PipelineViews and ApprovalViews for the pipeline and approvals.
 */
import type { AuditItem } from '../approvals/audit-trail.js';
import type { ApprovalRequest } from '../approvals/store.js';
import type { ModelVersionInfo } from '../domain/ports/registry.js';
import type { Endpoint, EndpointSummary } from '../domain/ports/serving.js';
import type { Reply, Subcommand } from '../domain/vocabulary.js';
import type { HistoryView } from '../ledger/types.js';

/** What help says about one subcommand (every spec is one). */
export interface CommandHelp {
  name: Subcommand;
  /** One line for the help overview. */
  summary: string;
  /** The exact usage line shown in help and in every parse error, without the 'Usage: ' prefix. */
  usage: string;
  /** Whether it changes something through the change pipeline (shows a plan first). */
  mutating: boolean;
  /** Longer explanation lines for `/mlops help <subcommand>`. */
  details: readonly string[];
  examples: readonly string[];
}

/**
 * Key of a model version in the alias map of a StatusView: lower-case model name and version.
 *
 * @example servedKey('acme.mlops.Churn_Model', 3) // 'acme.mlops.churn_model@3'
 */
export const servedKey = (modelName: string, version: string | number) =>
  `${modelName.toLowerCase()}@${version}`;

export interface StatusView {
  endpoint: Endpoint;
  /** Aliases per `servedKey(model, version)`. */
  aliases: Map<string, string[]>;
  workspaceHost: string;
}

export interface ModelsView {
  /** Three-part model name. */
  model: string;
  /** Newest first. */
  versions: ModelVersionInfo[];
  workspaceHost: string;
}

export interface QueryView {
  endpoint: string;
  /** How many records were sent. */
  records: number;
  predictions: unknown[];
  /** The served entity that answered, as Databricks named it. */
  servedName?: string;
  /** The model version behind that served entity, when known. */
  answeredBy?: { modelName: string; modelVersion: string };
  workspaceHost: string;
}

/** Every reply a read-only subcommand gives; the changing ones answer through the pipeline's views. */
export interface CommandViews {
  /** Every subcommand at a glance, in the order given. */
  help(commands: readonly CommandHelp[]): Reply;
  /** One subcommand in detail. */
  subcommandHelp(command: CommandHelp): Reply;
  /** `/mlops status` without an endpoint: one line per endpoint. */
  endpointList(endpoints: EndpointSummary[], workspaceHost: string): Reply;
  status(view: StatusView): Reply;
  models(view: ModelsView): Reply;
  query(view: QueryView): Reply;
  /** The approval requests still pending. */
  approvals(requests: readonly ApprovalRequest[], now: number): Reply;
  audit(items: readonly AuditItem[], options: { now: number; subject?: string }): Reply;
  /** `/mlops history`: states at a time and the ledger's entries. */
  history(view: HistoryView): Reply;
}
