/**
 * The `scoring` key of the policy file: the Databricks job that `/mlops score` runs (batch
 * inference, the reference's `spark_udf` / `score_batch` step), and where its output goes when the
 * command names no output table. Strict like the rest of the policy.
 */
import { z } from 'zod';
import { checked, show } from './checked.js';

const PART = /^[A-Za-z0-9_]{1,255}$/;

const schemaNameSchema = checked(
  (v) => {
    const parts = v.split('.');
    return parts.length === 2 && parts.every((p) => PART.test(p));
  },
  (v) => `${show(v)} is not a catalog.schema name`,
  () => 'write the catalog and schema the output tables go to, e.g. acme.mlops',
);

export const scoringSchema = z.strictObject({
  /** The batch-scoring job: takes job parameters model_uri, input_table, output_table (and request_id). */
  job: z
    .number({ error: 'should be the numeric job id, e.g. 1002' })
    .int('should be the numeric job id, e.g. 1002')
    .positive('should be the numeric job id, e.g. 1002'),
  /** Where `<input>_scored` goes when the command says no `into`; default: the input table's schema. */
  outputSchema: schemaNameSchema.optional(),
  /** Fixed job parameters passed on every run (values are text). */
  parameters: z
    .record(z.string(), z.string({ error: 'job parameter values are text: quote them' }))
    .optional(),
});
export type ScoringConfig = z.infer<typeof scoringSchema>;
