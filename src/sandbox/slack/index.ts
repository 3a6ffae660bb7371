export {
  BLOCK_LIMITS,
  type BlockProblem,
  checkBlocks,
  formatBlockProblem,
} from '../../slack/blocks/limits.js';
export type { RecordedCall } from './call-log.js';
export type { SlackFault } from './faults.js';
export { SUPPORTED_METHODS } from './methods.js';
export { RESPONSE_URL_MAX_USES, type ResponseUrlTarget } from './response-urls.js';
export * from './seed.js';
export { type SlackSignatureHeaders, signSlackRequest } from './sign.js';
export {
  type SlackTwin,
  type SlackTwinOptions,
  startSlackTwin,
  type TokenGrant,
  type TwinRoute,
} from './start-slack-twin.js';
export type { SlackChange, SlackChangeListener, TwinFile, TwinFileInfo, TwinMessage } from './state.js';
export { SlackState } from './state.js';
