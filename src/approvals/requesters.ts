/** Who asks for a deployment-job approval: the bot, on the job's behalf (never an approver). */
export const DEPLOYMENT_REQUESTER = 'modelgate';
