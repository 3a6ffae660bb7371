/** The MLflow tracking port: the tags of the run a model version came from. Adapter: databricks/mlflow.ts. */
export interface MlflowRuns {
  /**
   * The run's tags, or undefined when the bot cannot see such a run here (another workspace, a
   * deleted run, or no read access to its experiment).
   */
  getRunTags(runId: string): Promise<Record<string, string> | undefined>;
}
