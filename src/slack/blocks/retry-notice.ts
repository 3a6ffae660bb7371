/**
 * The note a command shows while a Databricks call inside it is being retried: what failed, and
 * that the bot keeps trying. The command's answer replaces it.
 */
import {
  DatabricksApiError,
  DatabricksTransportError,
  isUnavailable,
} from '../../domain/ports/databricks-errors.js';
import type { Reply } from '../../domain/vocabulary.js';
import { contextBlock, sectionBlock } from './format.js';

/** What a retried call met, in a few words. */
function whatFailed(cause: unknown): string {
  if (cause instanceof DatabricksApiError) {
    if (cause.status === 429) return `Databricks is rate-limiting the bot (429 ${cause.errorCode})`;
    if (isUnavailable(cause)) {
      return cause.gateway
        ? `Databricks is unavailable (${cause.status} from a gateway)`
        : `Databricks is unavailable (${cause.status} ${cause.errorCode})`;
    }
    return `Databricks answered ${cause.status} ${cause.errorCode}`;
  }
  if (cause instanceof DatabricksTransportError) {
    return cause.kind === 'timeout' ? 'Databricks did not answer in time' : 'Databricks could not be reached';
  }
  return 'A call to Databricks failed';
}

/**
 * @example buildRetryNotice(gateway502).text // 'Databricks is unavailable (502 from a gateway); retrying…'
 */
export function buildRetryNotice(cause: unknown): Reply {
  const text = `${whatFailed(cause)}; retrying…`;
  return {
    text,
    blocks: [sectionBlock(text), contextBlock(['The answer will replace this message.'])],
    visibility: 'ephemeral',
  };
}
