/**
 * The Block Kit implementations of the views the domain services take (PipelineViews,
 * ApprovalViews, DriftViews, CommandViews): wiring only, the builders live next door.
 */
import type { ApprovalViews } from '../../approvals/service.js';
import type { PipelineViews } from '../../changes/pipeline.js';
import type { CommandViews } from '../../commands/views.js';
import type { DriftViews } from '../../drift/types.js';
import {
  buildApprovalDryRunReply,
  buildApprovalMessage,
  buildApprovalNotice,
  buildApprovalsListReply,
  buildRejectPrompt,
  buildRequestedReply,
} from './approval.js';
import { buildAuditReply } from './approval-audit.js';
import { notifyViews } from './approval-dm.js';
import { approvalNotices, buildExecutionProgress } from './approval-notices.js';
import {
  buildCancelledReply,
  buildChangeBusyNote,
  buildChangeBusyNotice,
  buildChangeStatusNotice,
  buildNoLongerApplicableReply,
  buildOnlyRequesterNotice,
  buildRestartingNotice,
} from './change-notices.js';
import {
  buildDriftAlertMessage,
  buildDriftFailureRecoveredMessage,
  buildDriftRecoveryMessage,
  buildDriftReportMessage,
  buildDriftUpdateMessage,
  driftCheckReply,
  driftFailureMessage,
} from './drift.js';
import { buildEndpointListReply } from './endpoint-list.js';
import { describeError } from './errors.js';
import { buildHelpReply, buildSubcommandHelpReply } from './help.js';
import { buildHistoryReply } from './ledger.js';
import { buildModelsReply } from './models.js';
import { buildPlanReply } from './plan.js';
import { buildProgressMessage } from './progress.js';
import { buildQueryReply } from './query.js';
import { buildStatusReply } from './status.js';

export const pipelineViews: PipelineViews = {
  planReply: buildPlanReply,
  progress: buildProgressMessage,
  statusNotice: buildChangeStatusNotice,
  busy: buildChangeBusyNotice,
  busyNote: buildChangeBusyNote,
  onlyRequester: buildOnlyRequesterNotice,
  restarting: buildRestartingNotice,
  noLongerApplicable: (e, plan) => {
    const words = describeError(e);
    return buildNoLongerApplicableReply(words.text, words.hint, plan);
  },
  cancelled: buildCancelledReply,
  describeError,
};

export const approvalViews: ApprovalViews = {
  describeError,
  message: buildApprovalMessage,
  dryRun: buildApprovalDryRunReply,
  requested: buildRequestedReply,
  notice: buildApprovalNotice,
  notices: approvalNotices,
  rejectPrompt: buildRejectPrompt,
  progress: buildExecutionProgress,
  notify: notifyViews,
};

export const driftViews: DriftViews = {
  alert: buildDriftAlertMessage,
  update: buildDriftUpdateMessage,
  recovery: buildDriftRecoveryMessage,
  failure: driftFailureMessage,
  failureRecovered: buildDriftFailureRecoveredMessage,
  report: buildDriftReportMessage,
  checkReply: driftCheckReply,
};

export const commandViews: CommandViews = {
  help: buildHelpReply,
  subcommandHelp: buildSubcommandHelpReply,
  endpointList: buildEndpointListReply,
  status: buildStatusReply,
  models: buildModelsReply,
  query: buildQueryReply,
  approvals: buildApprovalsListReply,
  audit: buildAuditReply,
  history: buildHistoryReply,
};

export { ledgerViews } from './ledger.js';
