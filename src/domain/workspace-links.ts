/**
 * Links to workspace pages, for Slack messages. Pure functions of the host and ids; `host` is the
 * workspace base URL without a trailing slash.
 */

const trimHost = (host: string): string => host.replace(/\/+$/, '');

/**
 * The Catalog Explorer page of one model version.
 *
 * @example modelVersionUrl('https://adb-1.2.azuredatabricks.net', 'acme.ml.churn_model', 3)
 * // 'https://adb-1.2.azuredatabricks.net/explore/data/models/acme/ml/churn_model/version/3'
 */
export function modelVersionUrl(host: string, fullName: string, version: number): string {
  const [catalog = '', schema = '', model = ''] = fullName.split('.');
  const path = [catalog, schema, model].map(encodeURIComponent).join('/');
  return `${trimHost(host)}/explore/data/models/${path}/version/${version}`;
}

/**
 * The page of a job run: the `run_page_url` the API gave when there is one (it carries the
 * workspace id), else one built from the ids.
 *
 * @example jobRunUrl(host, { jobId: 1001, runId: 5, pageUrl: run.pageUrl })
 */
export function jobRunUrl(host: string, run: { jobId: number; runId: number; pageUrl?: string }): string {
  return run.pageUrl ?? `${trimHost(host)}/jobs/${run.jobId}/runs/${run.runId}`;
}

/**
 * The Serving UI page of an endpoint.
 *
 * @example endpointUrl('https://adb-1.2.azuredatabricks.net', 'churn') // 'https://adb-1.2.azuredatabricks.net/ml/endpoints/churn'
 */
export function endpointUrl(host: string, name: string): string {
  return `${trimHost(host)}/ml/endpoints/${encodeURIComponent(name)}`;
}
