/*
 * Alert rule evaluation, as events are indexed. The rules come from the rules file (alerts-rules.ts);
 * its digest is part of Ponder's build id (ponder.config.ts), so a change of rules is a reindex and
 * every alert row is the verdict of one rules file over the whole history.
 *
 * Every rule works on windows of chain time (block timestamps), never on the indexer's clock, so
 * a reindex, a restart or a reorg gives the same alerts. An alert is one row per rule × key ×
 * window: the event that crosses the rule's threshold raises it; later events of the same window
 * add to its count and (up to 100) to its event list.
 *
 * - reads-per-hour: a counter per consumer per local clock hour; the read after the limit raises.
 * - off-hours: every read outside office hours; one alert per consumer per local day.
 * - many-holders: a set of holders per consumer × purpose × window (tumbling windows of
 *   windowSeconds); the first holder over the limit raises.
 * - missing-outcome: a sweep over reads that became overdue since the last sweep. It runs when the
 *   chain time has advanced checkEverySeconds since the previous sweep, checked on every read,
 *   every outcome and every AlertClock block (each 100th block, ponder.config.ts), so it fires
 *   even when no read arrives; a read counts as overdue if its outcome was not recorded by the
 *   time of the sweep, and an outcome reported later does not withdraw the alert.
 * - long-grant: a grant whose duration exceeds ratio × the duration its request asked for (for a
 *   grant given directly: the consumer's latest request to that holder for that purpose).
 */
import type { Context } from "ponder:registry";
import { access, alert, alertCounter, alertSeen, alertSweep } from "ponder:schema";
import { and, asc, gt, isNull, lte } from "ponder";

import { alertRulesPath } from "../settings.js";
import { type AlertRule, isOffHours, loadAlertRules, localTime } from "./alerts-rules.js";

/** The rules in force for this run. */
export const ALERT_RULES = loadAlertRules(alertRulesPath());

/** Events listed on one alert at most (its count goes on). */
export const MAX_ALERT_EVENTS = 100;

/** An event an alert names. */
export interface AlertEvent {
  kind: "read" | "grant" | "outcome";
  id: string;
  txHash: string;
}

type RuleOf<kind extends AlertRule["kind"]> = Extract<AlertRule, { kind: kind }>;

function rulesOf<kind extends AlertRule["kind"]>(kind: kind): RuleOf<kind>[] {
  return ALERT_RULES.rules.filter((rule): rule is RuleOf<kind> => rule.kind === kind);
}

/** Raises an alert, or adds `events` to the one of the same rule, key and window. */
async function raise(
  context: Context,
  rule: AlertRule,
  raised: {
    key: string;
    windowStart: number;
    summary: (count: number) => string;
    consumer: `0x${string}` | null;
    subjectId: `0x${string}` | null;
    blockNumber: number;
    timestamp: number;
    events: AlertEvent[];
  },
): Promise<void> {
  const id = `${rule.id}:${raised.key}:${raised.windowStart}`;
  const existing = await context.db.find(alert, { id });
  if (existing === null) {
    await context.db.insert(alert).values({
      id,
      rule: rule.id,
      kind: rule.kind,
      severity: rule.severity,
      summary: raised.summary(raised.events.length),
      consumer: raised.consumer,
      subjectId: raised.subjectId,
      blockNumber: raised.blockNumber,
      timestamp: raised.timestamp,
      windowStart: raised.windowStart,
      count: raised.events.length,
      events: raised.events.slice(0, MAX_ALERT_EVENTS),
      updatedBlock: raised.blockNumber,
    });
    return;
  }
  const count = existing.count + raised.events.length;
  await context.db.update(alert, { id }).set({
    count,
    summary: raised.summary(count),
    events: [...existing.events, ...raised.events].slice(0, MAX_ALERT_EVENTS),
    updatedBlock: raised.blockNumber,
  });
}

/** Adds one to a window counter and returns the new count. */
async function increment(context: Context, id: string): Promise<number> {
  const row = await context.db
    .insert(alertCounter)
    .values({ id, count: 1 })
    .onConflictDoUpdate((current) => ({ count: current.count + 1 }));
  return row.count;
}

/** A read as the rules see it. */
export interface ReadFacts {
  accessId: `0x${string}`;
  consumer: `0x${string}`;
  subjectId: `0x${string}`;
  purpose: number;
  blockNumber: number;
  timestamp: number;
  txHash: `0x${string}`;
}

/** Evaluates the read rules for one read, then the missing-outcome sweep. */
export async function evaluateRead(context: Context, read: ReadFacts): Promise<void> {
  const offset = ALERT_RULES.timeZoneOffsetMinutes;
  const consumer = read.consumer.toLowerCase() as `0x${string}`;
  const subjectId = read.subjectId.toLowerCase() as `0x${string}`;
  const event: AlertEvent = { kind: "read", id: read.accessId, txHash: read.txHash };
  const at = { blockNumber: read.blockNumber, timestamp: read.timestamp };

  for (const rule of rulesOf("reads-per-hour")) {
    const { hourStart } = localTime(read.timestamp, offset);
    const count = await increment(context, `${rule.id}:${consumer}:${hourStart}`);
    if (count > rule.limit) {
      await raise(context, rule, {
        key: consumer,
        windowStart: hourStart,
        summary: (over) => `${rule.limit + over} reads by ${consumer} in one hour (limit ${rule.limit})`,
        consumer,
        subjectId: null,
        ...at,
        events: [event],
      });
    }
  }

  for (const rule of rulesOf("off-hours")) {
    if (!isOffHours(rule, read.timestamp, offset)) continue;
    const { dayStart } = localTime(read.timestamp, offset);
    await raise(context, rule, {
      key: consumer,
      windowStart: dayStart,
      summary: (count) => `${count} read(s) by ${consumer} outside office hours (${rule.start}-${rule.end})`,
      consumer,
      subjectId: null,
      ...at,
      events: [event],
    });
  }

  for (const rule of rulesOf("many-holders")) {
    if (rule.purposes !== undefined && !rule.purposes.includes(read.purpose)) continue;
    const windowStart = Math.floor(read.timestamp / rule.windowSeconds) * rule.windowSeconds;
    const scope = `${rule.id}:${consumer}:${read.purpose}:${windowStart}`;
    const first = await context.db
      .insert(alertSeen)
      .values({ id: `${scope}:${subjectId}` })
      .onConflictDoNothing();
    if (first === null) continue; // this holder was already read in the window
    const holders = await increment(context, scope);
    if (holders > rule.limit) {
      await raise(context, rule, {
        key: `${consumer}:${read.purpose}`,
        windowStart,
        summary: (over) =>
          `${consumer} read ${rule.limit + over} different holders for purpose ${read.purpose} within ` +
          `${rule.windowSeconds} s (limit ${rule.limit})`,
        consumer,
        subjectId: null,
        ...at,
        events: [event],
      });
    }
  }

  await sweepMissingOutcomes(context, at);
}

/** Marks reads whose outcome is overdue; runs at most once per `checkEverySeconds` of chain time. */
export async function sweepMissingOutcomes(
  context: Context,
  at: { blockNumber: number; timestamp: number },
): Promise<void> {
  for (const rule of rulesOf("missing-outcome")) {
    const state = await context.db.find(alertSweep, { rule: rule.id });
    if (state !== null && at.timestamp - state.lastRunAt < rule.checkEverySeconds) continue;
    const checkedUntil = at.timestamp - Math.round(rule.afterDays * 86_400);
    const from = state?.checkedUntil ?? -1;
    if (checkedUntil > from) {
      const overdue = await context.db.sql
        .select({
          accessId: access.accessId,
          consumer: access.consumer,
          purpose: access.purpose,
          txHash: access.txHash,
        })
        .from(access)
        .where(and(isNull(access.outcome), gt(access.timestamp, from), lte(access.timestamp, checkedUntil)))
        .orderBy(asc(access.blockNumber), asc(access.logIndex));
      const byConsumer = new Map<`0x${string}`, AlertEvent[]>();
      for (const read of overdue) {
        if (rule.purposes !== undefined && !rule.purposes.includes(read.purpose)) continue;
        const events = byConsumer.get(read.consumer) ?? [];
        events.push({ kind: "read", id: read.accessId, txHash: read.txHash });
        byConsumer.set(read.consumer, events);
      }
      for (const [consumer, events] of byConsumer) {
        await raise(context, rule, {
          key: consumer,
          windowStart: checkedUntil,
          summary: (count) => `${count} read(s) by ${consumer} without an outcome after ${rule.afterDays} days`,
          consumer,
          subjectId: null,
          ...at,
          events,
        });
      }
    }
    await context.db
      .insert(alertSweep)
      .values({ rule: rule.id, checkedUntil: Math.max(from, checkedUntil), lastRunAt: at.timestamp })
      .onConflictDoUpdate({ checkedUntil: Math.max(from, checkedUntil), lastRunAt: at.timestamp });
  }
}

/** A grant as the long-grant rule sees it. */
export interface GrantFacts {
  grantId: `0x${string}`;
  version: number;
  consumer: `0x${string}`;
  subjectId: `0x${string}`;
  requestedDuration: number | null;
  grantedDuration: number;
  blockNumber: number;
  timestamp: number;
  txHash: `0x${string}`;
}

/** Evaluates the grant rules for one grant version. */
export async function evaluateGrant(context: Context, grant: GrantFacts): Promise<void> {
  if (grant.requestedDuration === null || grant.requestedDuration <= 0) return;
  const ratio = grant.grantedDuration / grant.requestedDuration;
  for (const rule of rulesOf("long-grant")) {
    if (ratio <= rule.ratio) continue;
    await raise(context, rule, {
      key: `${grant.grantId}:${grant.version}`,
      windowStart: grant.timestamp,
      summary: () =>
        `grant ${grant.grantId} lasts ${grant.grantedDuration} s, ${ratio.toFixed(1)}× the ` +
        `${grant.requestedDuration} s requested (limit ${rule.ratio}×)`,
      consumer: grant.consumer.toLowerCase() as `0x${string}`,
      subjectId: grant.subjectId.toLowerCase() as `0x${string}`,
      blockNumber: grant.blockNumber,
      timestamp: grant.timestamp,
      events: [{ kind: "grant", id: grant.grantId, txHash: grant.txHash }],
    });
  }
}
