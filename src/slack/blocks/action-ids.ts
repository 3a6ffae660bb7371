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
/** Approve an approval request (asks for confirmation first); the value is the request id. */
export const ACTION_APPROVAL_APPROVE = 'approval-approve';
/** Reject an approval request: opens an ephemeral prompt for an optional reason; value = request id. */
export const ACTION_APPROVAL_REJECT = 'approval-reject';
/** The prompt's confirming button; the reason is read from the prompt's input block. */
export const ACTION_APPROVAL_REJECT_CONFIRM = 'approval-reject-confirm';
/** The prompt's "never mind" button: removes the prompt. */
export const ACTION_APPROVAL_REJECT_DISMISS = 'approval-reject-dismiss';
/** The reason input of the prompt (a plain_text_input; no listener, read from `state.values`). */
export const ACTION_APPROVAL_REJECT_REASON = 'approval-reject-reason-input';
/** Create the monitor a `/mlops monitor create` plan shows; the value is the plan's id. */
export const ACTION_MONITOR_CREATE = 'monitor-create';
/** Cancel that plan; the value is the plan's id. */
export const ACTION_MONITOR_CANCEL = 'monitor-cancel';
