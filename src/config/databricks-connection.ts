/**
 * Where the Databricks workspace is and how to authenticate: from the environment or a
 * `~/.databrickscfg` profile, every problem reported at once as a ConfigError.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** One problem in the configuration: which key, what is wrong, how to fix it. */
export interface ConfigIssue {
  key: string;
  problem: string;
  fix: string;
}

/** Thrown with every configuration problem found at once, so a user fixes them in one go. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.key}: ${i.problem} (fix: ${i.fix})`).join('\n'));
  }
}

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const databricksEnvSchema = z.object({
  DATABRICKS_HOST: optionalString,
  DATABRICKS_TOKEN: optionalString,
  DATABRICKS_CLIENT_ID: optionalString,
  DATABRICKS_CLIENT_SECRET: optionalString,
  DATABRICKS_CONFIG_PROFILE: optionalString,
  DATABRICKS_CONFIG_FILE: optionalString,
  DATABRICKS_WAREHOUSE_ID: optionalString,
  DATABRICKS_HTTP_PATH: optionalString,
});

export type DatabricksAuth =
  | { kind: 'pat'; token: string }
  | { kind: 'oauth-m2m'; clientId: string; clientSecret: string };

export interface DatabricksConnection {
  /** Workspace base URL, no trailing slash, e.g. https://adb-1.2.azuredatabricks.net */
  host: string;
  auth: DatabricksAuth;
  warehouseId?: string;
  httpPath?: string;
  /** Where the settings came from, for `doctor` and start-up logs (never the secret itself). */
  source: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True when a hostname is on this machine, where plain http cannot leak a token. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Normalises a workspace host to `https://host[:port]`, refusing http:// to anything but loopback.
 *
 * @example normaliseHost('adb-1.azuredatabricks.net') // 'https://adb-1.azuredatabricks.net'
 */
export function normaliseHost(raw: string): { host?: string; problem?: string } {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { problem: `"${raw}" is not a host name or URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { problem: `scheme ${url.protocol} is not supported` };
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return { problem: `plain http:// to ${url.hostname} would send the token in clear` };
  }
  return { host: `${url.protocol}//${url.host}` };
}

/** Parses the INI format of ~/.databrickscfg into sections of key/value pairs. */
export function parseDatabricksCfg(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = {};
      sections.set(header[1]!.trim(), current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current) current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return sections;
}

export interface ResolveOptions {
  readFile?: (path: string) => string;
  home?: string;
}

/**
 * Finds the Databricks connection from the environment, then from a ~/.databrickscfg profile.
 * Returns undefined when nothing at all is configured (the caller then uses the local twin).
 * Throws ConfigError listing every problem when something is configured but unusable.
 */
export function resolveDatabricksConnection(
  rawEnv: Record<string, string | undefined>,
  { readFile = (p) => readFileSync(p, 'utf8'), home = homedir() }: ResolveOptions = {},
): DatabricksConnection | undefined {
  const env = databricksEnvSchema.parse(rawEnv);
  const issues: ConfigIssue[] = [];
  let values = {
    host: env.DATABRICKS_HOST,
    token: env.DATABRICKS_TOKEN,
    clientId: env.DATABRICKS_CLIENT_ID,
    clientSecret: env.DATABRICKS_CLIENT_SECRET,
    warehouseId: env.DATABRICKS_WAREHOUSE_ID,
    httpPath: env.DATABRICKS_HTTP_PATH,
  };
  let source = 'environment';

  const anyEnv = values.host || values.token || values.clientId || values.clientSecret;
  if (!anyEnv || env.DATABRICKS_CONFIG_PROFILE) {
    const file = env.DATABRICKS_CONFIG_FILE ?? join(home, '.databrickscfg');
    const profile = env.DATABRICKS_CONFIG_PROFILE ?? 'DEFAULT';
    let text: string | undefined;
    try {
      text = readFile(file);
    } catch {
      if (env.DATABRICKS_CONFIG_PROFILE) {
        issues.push({
          key: 'DATABRICKS_CONFIG_PROFILE',
          problem: `profile "${profile}" was asked for but ${file} cannot be read`,
          fix: `create ${file} with a [${profile}] section, or unset DATABRICKS_CONFIG_PROFILE`,
        });
      }
    }
    const section = text === undefined ? undefined : parseDatabricksCfg(text).get(profile);
    if (text !== undefined && !section && env.DATABRICKS_CONFIG_PROFILE) {
      issues.push({
        key: 'DATABRICKS_CONFIG_PROFILE',
        problem: `${file} has no [${profile}] section`,
        fix: `add a [${profile}] section to ${file} or set DATABRICKS_CONFIG_PROFILE to an existing one`,
      });
    }
    if (section) {
      // Environment variables win over the profile, as in the Databricks CLI and SDKs.
      values = {
        host: values.host ?? section.host,
        token: values.token ?? section.token,
        clientId: values.clientId ?? section.client_id,
        clientSecret: values.clientSecret ?? section.client_secret,
        warehouseId: values.warehouseId ?? section.warehouse_id,
        httpPath: values.httpPath ?? section.http_path,
      };
      source = `profile [${profile}] in ${file}`;
    }
  }

  if (!values.host && !values.token && !values.clientId && !values.clientSecret && issues.length === 0) {
    return undefined;
  }

  let host: string | undefined;
  if (!values.host) {
    issues.push({
      key: 'DATABRICKS_HOST',
      problem: 'credentials are set but the workspace host is not',
      fix: 'set DATABRICKS_HOST to your workspace URL, e.g. https://adb-123.4.azuredatabricks.net',
    });
  } else {
    const n = normaliseHost(values.host);
    if (n.problem) {
      issues.push({ key: 'DATABRICKS_HOST', problem: n.problem, fix: 'use an https:// workspace URL' });
    }
    host = n.host;
  }

  let auth: DatabricksAuth | undefined;
  if (values.clientId || values.clientSecret) {
    if (!values.clientId || !values.clientSecret) {
      const missing = values.clientId ? 'DATABRICKS_CLIENT_SECRET' : 'DATABRICKS_CLIENT_ID';
      issues.push({
        key: missing,
        problem: 'OAuth machine-to-machine needs both the client id and the client secret',
        fix: `set ${missing} from the service principal's OAuth secret page`,
      });
    } else {
      auth = { kind: 'oauth-m2m', clientId: values.clientId, clientSecret: values.clientSecret };
    }
  } else if (values.token) {
    auth = { kind: 'pat', token: values.token };
  } else {
    issues.push({
      key: 'DATABRICKS_TOKEN',
      problem: 'no credentials: neither a token nor an OAuth client id and secret',
      fix: 'set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (recommended) or DATABRICKS_TOKEN',
    });
  }

  if (issues.length > 0 || !host || !auth) throw new ConfigError(issues);
  return {
    host,
    auth,
    source,
    ...(values.warehouseId ? { warehouseId: values.warehouseId } : {}),
    ...(values.httpPath ? { httpPath: values.httpPath } : {}),
  };
}
