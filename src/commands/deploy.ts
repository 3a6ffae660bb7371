/**
 * `/mlops deploy <model> <version|@alias> [to <endpoint>] [size=…] [scale-to-zero=on|off] [--dry-run]`:
 * make an endpoint serve one version at 100 %, creating the endpoint when it does not exist.
 */
import { z } from 'zod';
import { buildDeployPlan } from '../changes/plan/index.js';
import { UserError } from '../domain/errors.js';
import type { Actor, DeployCommand, Origin, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import type { CommandWords, ParseDefaults } from './parse.js';
import { endpointNameSchema, modelRefSchema, onOffSchema, sizeSchema, versionRefSchema } from './schemas.js';
import { type CommandSpec, usageOf } from './spec.js';

/** The words of a deploy command; `model` is resolved against the defaults by `parse`. */
export const deployInputSchema = z
  .object({
    subcommand: z.literal('deploy'),
    model: modelRefSchema,
    target: versionRefSchema,
    endpoint: endpointNameSchema.optional(),
    size: sizeSchema.optional(),
    scaleToZero: onOffSchema.optional(),
    dryRun: z.boolean(),
  })
  .strict();

export type DeployInput = DeployCommand;

/** Positional model and version, `to <endpoint>`, `size=` and `scale-to-zero=`, in any order. */
function parseDeploy(w: CommandWords, defaults: ParseDefaults): DeployInput {
  const { words, dryRun } = w.split();
  const positional: string[] = [];
  const options: { endpoint?: string; size?: string; scaleToZero?: string } = {};
  const setOption = (name: keyof typeof options, value: string, shown: string) => {
    if (options[name] !== undefined) w.add(`${shown} is given twice; give it once.`);
    options[name] = value;
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const lower = word.text.toLowerCase();
    if (!word.quoted && lower === 'to') {
      const next = words[i + 1];
      if (!next) w.add('Say which endpoint after "to".');
      else setOption('endpoint', next.text, 'The endpoint');
      i++;
    } else if (word.text.includes('=')) {
      const eq = word.text.indexOf('=');
      const key = word.text.slice(0, eq).toLowerCase();
      const value = word.text.slice(eq + 1);
      if (key === 'size') setOption('size', value, 'size=');
      else if (['scale-to-zero', 'scale_to_zero', 'scaletozero'].includes(key)) {
        setOption('scaleToZero', value, 'scale-to-zero=');
      } else if (key === 'to' || key === 'endpoint') setOption('endpoint', value, 'The endpoint');
      else w.add(`Unknown option "${word.text.slice(0, eq)}"; deploy takes size= and scale-to-zero=.`);
    } else {
      positional.push(word.text);
    }
  }
  if (positional.length > 2) {
    w.add(
      `Unexpected ${positional
        .slice(2)
        .map((p) => `"${p}"`)
        .join(' ')}; to name the endpoint write "to <endpoint>".`,
    );
  }
  const [model, target] = positional;
  const endpoint = options.endpoint ?? defaults.endpoint;
  if (endpoint === undefined && model !== undefined && target !== undefined) {
    w.add('Say which endpoint with "to <endpoint>": the policy has no default endpoint.');
  }
  const parsed = w.validate(deployInputSchema, {
    subcommand: 'deploy',
    model,
    target,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(options.size !== undefined ? { size: options.size } : {}),
    ...(options.scaleToZero !== undefined ? { scaleToZero: options.scaleToZero } : {}),
    dryRun,
  });
  return { ...parsed, model: w.resolveModel(parsed.model, defaults) };
}

/** Plans the deploy and hands it to the change pipeline, which shows it with Apply / Cancel. */
export async function handleDeploy(
  input: DeployInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  if (!(input.endpoint ?? deps.defaults.endpoint)) {
    throw new UserError('bad_input', {
      problems: ['Say which endpoint to deploy to: there is no default endpoint in the policy.'],
      hint: usageOf(deployCommand),
    });
  }
  const plan = await buildDeployPlan(input, deps);
  return deps.changes.propose({ input, plan, actor, origin, dryRun: input.dryRun });
}

export const deployCommand: CommandSpec<'deploy'> = {
  name: 'deploy',
  summary: 'Make an endpoint serve one model version at 100% (creates the endpoint if needed)',
  usage:
    '/mlops deploy <model> <version|@alias> [to <endpoint>] [size=Small|Medium|Large] [scale-to-zero=on|off] [--dry-run]',
  mutating: true,
  takesDryRun: true,
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
  schema: deployInputSchema,
  parse: parseDeploy,
  handle: handleDeploy,
  endpointOf: (input, defaults) => input.endpoint ?? defaults.endpoint,
};
