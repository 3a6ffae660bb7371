import { ConfigError, type ConfigIssue, type ResolveOptions } from './databricks-connection.js';
import { type AppConfig, displayPath, parseEnv } from './env.js';
import { loadPolicy, type Policy } from './policy.js';

export interface LoadOptions extends ResolveOptions {
  /** Reads the policy file; defaults to the file system. */
  readPolicy?: (path: string) => string;
}

/**
 * Parses the environment and loads the policy file it names, reporting the problems of both in
 * one ConfigError. Policy problems carry the file in their key: `modelgate.yml: access.deploy.users[1]`.
 *
 * @example
 * try { const { config, policy } = loadConfig(process.env); } catch (e) { if (e instanceof ConfigError) console.error(formatConfigError(e)); }
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): { config: AppConfig; policy: Policy } {
  const { readPolicy, ...resolveOptions } = options;
  const issues: ConfigIssue[] = [];
  let config: AppConfig | undefined;
  try {
    config = parseEnv(env, resolveOptions);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    issues.push(...e.issues);
  }
  // The policy is worth checking even when the environment is not: report both at once.
  const policyPath = config?.policyPath ?? env.MODELGATE_CONFIG?.trim();
  let policy: Policy | undefined;
  if (policyPath) {
    try {
      policy = loadPolicy(policyPath, readPolicy);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      issues.push(
        ...e.issues.map((i) =>
          i.key === 'MODELGATE_CONFIG' ? i : { ...i, key: `${displayPath(policyPath)}: ${i.key}` },
        ),
      );
    }
  }
  if (issues.length > 0 || !config || !policy) throw new ConfigError(issues);
  return { config, policy };
}
