/** What the parts of the approvals service share: their deps, the store, background work, the message. */
import type { Background } from '../lib/background.js';
import type { ApprovalServiceDeps } from './contracts.js';
import type { RequestMessage } from './request-message.js';
import type { StepBuildDeps } from './request-plan.js';
import type { ApprovalStore } from './store.js';

export interface ApprovalContext {
  deps: ApprovalServiceDeps;
  approvals: ApprovalStore;
  background: Background;
  message: RequestMessage;
  /** How a change request's steps are (re)built. */
  stepDeps: StepBuildDeps;
}
