/** Bolt action ids of the buttons the bot posts; the listeners in app.ts route on them. */

/** Apply a proposed change; the button's value is the change id. */
export const ACTION_APPLY = 'change-apply';
/** Cancel a proposed change; the button's value is the change id. */
export const ACTION_CANCEL = 'change-cancel';
/** Ask for a gated retraining run from a drift alert; the button's value is the alert id. */
export const ACTION_DRIFT_RETRAIN = 'drift-retrain';
/** Silence a drift alert's thread updates for 24 hours; the value is the alert id. */
export const ACTION_DRIFT_SNOOZE = 'drift-snooze';
/** Record that someone is on a drift alert; the value is the alert id. */
export const ACTION_DRIFT_ACKNOWLEDGE = 'drift-acknowledge';
/** Show a drift alert's per-window table and how the counting works, to the clicker only; value = alert id. */
export const ACTION_DRIFT_DETAILS = 'drift-details';
/** Approve an approval request (asks for confirmation first); the value is the request id. */
export const ACTION_APPROVAL_APPROVE = 'approval-approve';
/** Reject an approval request: opens a modal for the reason (an ephemeral prompt when it cannot); value = request id. */
export const ACTION_APPROVAL_REJECT = 'approval-reject';
/** The prompt's confirming button; the reason is read from the prompt's input block. */
export const ACTION_APPROVAL_REJECT_CONFIRM = 'approval-reject-confirm';
/** The prompt's "never mind" button: removes the prompt. */
export const ACTION_APPROVAL_REJECT_DISMISS = 'approval-reject-dismiss';
/** The reason input of the prompt (a plain_text_input; no listener, read from `state.values`). */
export const ACTION_APPROVAL_REJECT_REASON = 'approval-reject-reason-input';
/** Canary rollout buttons (src/rollouts); the value of each is the rollout id. */
export const ACTION_ROLLOUT_START = 'rollout-start';
export const ACTION_ROLLOUT_CANCEL = 'rollout-cancel';
export const ACTION_ROLLOUT_APPROVE = 'rollout-approve';
export const ACTION_ROLLOUT_PAUSE = 'rollout-pause';
export const ACTION_ROLLOUT_RESUME = 'rollout-resume';
export const ACTION_ROLLOUT_PROMOTE = 'rollout-promote-now';
export const ACTION_ROLLOUT_ABORT = 'rollout-abort';

/** Modals (callback ids) and their inputs (action ids); the view listeners in app.ts route on them. */
export const CALLBACK_QUERY_MODAL = 'query-modal';
export const CALLBACK_REJECT_MODAL = 'reject-modal';
export const CALLBACK_DEPLOY_MODAL = 'deploy-modal';
/** The records input of the query modal (a multi-line plain_text_input). */
export const ACTION_QUERY_RECORDS = 'query-records-input';
/** The external selects of the deploy modal: options come from the registry and serving. */
export const ACTION_DEPLOY_MODEL = 'deploy-model-select';
export const ACTION_DEPLOY_VERSION = 'deploy-version-select';
export const ACTION_DEPLOY_ENDPOINT = 'deploy-endpoint-select';
/** The obvious next step on a change's message (promote to Production, roll back); value = change id. */
export const ACTION_CHANGE_NEXT_STEP = 'change-next-step';
/** Create the monitor a `/mlops monitor create` plan shows; the value is the plan's id. */
export const ACTION_MONITOR_CREATE = 'monitor-create';
/** Cancel that plan; the value is the plan's id. */
export const ACTION_MONITOR_CANCEL = 'monitor-cancel';
