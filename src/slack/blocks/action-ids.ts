/** Bolt action ids of the buttons the bot posts; the listeners in app.ts route on them. */

/** Apply a proposed change; the button's value is the change id. */
export const ACTION_APPLY = 'change-apply';
/** Cancel a proposed change; the button's value is the change id. */
export const ACTION_CANCEL = 'change-cancel';
