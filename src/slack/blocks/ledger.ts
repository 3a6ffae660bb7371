/**
 * The ledger's words, pure: the channel notice of an out-of-band change to a gated target
 * ("churn-endpoint changed outside modelgate: churn_model v3 100% → churn_model v4 100%; not
 * approved here") and the `/mlops history` answer. Every name from Databricks is escaped.
 */
import { describeTraffic } from '../../changes/plan/index.js';
import type { Reply } from '../../domain/vocabulary.js';
import type { HistoryView, LedgerEntry, LedgerTarget, LedgerViews, TargetState } from '../../ledger/types.js';
import type { SlackBlock } from './block-kit.js';
import { contextBlock, escapeMrkdwn, formatUtc, headerBlock, sectionBlock, shortModel } from './format.js';
import { BLOCK_LIMITS } from './limits.js';

/** 'churn-endpoint' or 'Production of churn_model'. */
export function targetName(target: LedgerTarget): string {
  return target.kind === 'endpoint' ? target.endpoint : `${target.alias} of ${shortModel(target.model)}`;
}

/** What a state holds, in words: 'churn_model v3 100%', 'v4', 'nothing', 'not set'. */
export function stateText(state: TargetState | null | undefined): string {
  if (!state) return 'unknown';
  if (state.kind === 'alias') return state.version === null ? 'not set' : `v${state.version}`;
  return state.config === null ? 'nothing (no live config)' : describeTraffic(state.config);
}

/** Who and how, in words: 'modelgate change `abc` applied by <@U1>' or 'outside modelgate (…)'. */
export function sourceText(entry: LedgerEntry): string {
  const s = entry.source;
  if (s.kind === 'baseline') return 'first seen by the ledger';
  if (s.kind === 'bot') {
    // An actor that is not a Slack user id (the bot itself) is shown as text, never as a mention.
    const by = /^[UW][A-Z0-9]{2,}$/.test(s.appliedBy) ? `<@${s.appliedBy}>` : escapeMrkdwn(s.appliedBy);
    return `modelgate change \`${escapeMrkdwn(s.changeId)}\` applied by ${by}`;
  }
  const facts: string[] = [];
  const f = s.facts;
  if (f.versionCreatedBy) facts.push(`version registered by ${escapeMrkdwn(f.versionCreatedBy)}`);
  if (f.endpointCreator) facts.push(`endpoint created by ${escapeMrkdwn(f.endpointCreator)}`);
  if (f.endpointUpdatedAt !== undefined)
    facts.push(`last updated ${formatUtc(new Date(f.endpointUpdatedAt))}`);
  if (f.configVersion !== undefined) facts.push(`config version ${f.configVersion}`);
  return `outside modelgate${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
}

function whenText(entry: LedgerEntry): string {
  if (entry.notBefore !== undefined && entry.at === entry.detectedAt) {
    return `between ${formatUtc(new Date(entry.notBefore))} and ${formatUtc(new Date(entry.detectedAt))}`;
  }
  return formatUtc(new Date(entry.at));
}

/**
 * @example buildOutOfBandMessage(entry).text // 'churn-endpoint changed outside modelgate: churn_model v3 100% → churn_model v4 100%; not approved here'
 */
export function buildOutOfBandMessage(entry: LedgerEntry): Pick<Reply, 'text' | 'blocks'> {
  const name = escapeMrkdwn(targetName(entry.target));
  const verb = entry.target.kind === 'alias' ? 'moved' : 'changed';
  const change = `${escapeMrkdwn(stateText(entry.before))} → ${escapeMrkdwn(stateText(entry.after))}`;
  const text = `${name} ${verb} outside modelgate: ${change}; not approved here`;
  const command = entry.target.kind === 'endpoint' ? entry.target.endpoint : shortModel(entry.target.model);
  return {
    text,
    blocks: [
      sectionBlock(`:warning: *${name}* ${verb} outside modelgate: ${change}; *not approved here*.`),
      contextBlock([
        `${whenText(entry)} · ${sourceText(entry)}`,
        `A policy gate covers this target. See \`/mlops history ${escapeMrkdwn(command)}\`.`,
      ]),
    ],
  };
}

function entryLine(entry: LedgerEntry): string {
  const when = formatUtc(new Date(entry.at));
  if (entry.source.kind === 'baseline') {
    return `• ${when} · ${escapeMrkdwn(stateText(entry.after))} · first seen by the ledger`;
  }
  const icon = entry.source.kind === 'out_of_band' ? ':warning: ' : '';
  return `• ${icon}${when} · ${escapeMrkdwn(stateText(entry.before))} → ${escapeMrkdwn(stateText(entry.after))} · ${sourceText(entry)}`;
}

/**
 * @example buildHistoryReply(ledger.history({ endpoint: 'churn-endpoint', text: 'churn-endpoint' }, at, now))
 */
export function buildHistoryReply(view: HistoryView): Reply {
  const subject = escapeMrkdwn(view.subject);
  if (view.targets.length === 0) {
    const text = `The ledger has nothing about ${view.subject} yet: it records the endpoints and models the policy names and those the bot changed, from its first run on.`;
    return { text, blocks: [sectionBlock(escapeMrkdwn(text))], visibility: 'ephemeral' };
  }
  const when = view.at !== undefined ? formatUtc(new Date(view.at)) : 'now';
  const blocks: SlackBlock[] = [headerBlock(`History of ${view.subject}`)];
  const summary: string[] = [];
  for (const t of view.targets) {
    const name = escapeMrkdwn(targetName(t.target));
    const verb = t.target.kind === 'endpoint' ? 'served' : 'pointed at';
    const state = t.stateAt
      ? `*${name}* ${verb} *${escapeMrkdwn(stateText(t.stateAt))}* (${when})`
      : `*${name}*: unknown at ${when}; the ledger first saw it ${formatUtc(new Date(t.since))}`;
    summary.push(state);
    blocks.push(sectionBlock(state));
    let chunk: string[] = [];
    for (const line of t.entries.map(entryLine)) {
      if ([...chunk, line].join('\n').length > BLOCK_LIMITS.sectionText - 50) {
        blocks.push(sectionBlock(chunk.join('\n')));
        chunk = [];
      }
      chunk.push(line);
    }
    if (chunk.length > 0) blocks.push(sectionBlock(chunk.join('\n')));
  }
  blocks.push(contextBlock(['Newest first. Changes made outside modelgate are marked :warning:.']));
  // Keep within Slack's block limit: the newest targets' entries come first anyway.
  const capped = blocks.slice(0, BLOCK_LIMITS.blocksPerMessage);
  return { text: `History of ${subject}: ${summary.join('; ')}`, blocks: capped, visibility: 'ephemeral' };
}

/** The ledger's views (LedgerViews), for the composition root. */
export const ledgerViews: LedgerViews = { outOfBand: buildOutOfBandMessage };
