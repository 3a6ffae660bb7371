/** What building a plan reads: the ports a planner needs, and nothing that changes anything. */
import type { Registry } from '../../domain/ports/registry.js';
import type { EndpointConfig, InferenceTableInput, Serving } from '../../domain/ports/serving.js';

/** The reads behind every plan. The command handlers' deps include these. */
export interface PlanDeps {
  serving: Serving;
  registry: Registry;
  /** Previous config of an endpoint from the bot's own history, for rollback. */
  history: { previousConfig(endpoint: string): Promise<EndpointConfig | undefined> };
  /** Where `deploy` goes without `to <endpoint>`, and the names short model names resolve against. */
  defaults: { catalog: string; schema: string; endpoint?: string };
  /** The inference table a deploy to this endpoint turns on (the policy's `enableOnDeploy`), if any. */
  enableOnDeploy?: (endpoint: string) => Extract<InferenceTableInput, { enabled: true }> | undefined;
}
