/**
 * What one user's App Home shows, as facts: the views (slack/blocks/home.ts) word them.
 */
import type { ApprovalRequest } from '../approvals/store.js';
import type { Change } from '../changes/store.js';
import type { DriftAlert } from '../drift/state-store.js';

/** An endpoint as the Home lists it: served versions, with traffic where the bot knows it. */
export interface HomeEndpoint {
  name: string;
  ready: boolean;
  updating: boolean;
  served: Array<{ modelName: string; modelVersion: string; percent?: number }>;
}

export interface HomeData {
  userId: string;
  now: number;
  /** Show the "getting started" (their first opening). */
  firstVisit: boolean;
  /** The answer to their last click on the Home (a vote, say), already worded. */
  notice?: string;
  /** Pending requests this user may vote on. */
  toApprove: ApprovalRequest[];
  /** Their own pending requests. */
  myRequests: ApprovalRequest[];
  /** Their changes in flight. */
  myChanges: Change[];
  endpoints: HomeEndpoint[];
  /** Databricks could not be read: endpoints are left out, and the Home says so. */
  endpointsUnavailable?: boolean;
  alerts: DriftAlert[];
}

/** Renders and sends one user's Home (the Slack edge: builders + views.publish). */
export type PublishHome = (data: HomeData) => Promise<void>;
