/*
 * The alert rules file (DATASAFE_ALERT_RULES, default indexer/alert-rules.default.json): what a
 * regulator configures. Parsed and checked here, with the local-time arithmetic the rules and the
 * daily statistics share. No Ponder import: the API and the tests read rules through this module.
 */
import { readFileSync } from "node:fs";

import { z } from "zod";

const severity = z.enum(["info", "warning", "critical"]);
const ruleId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes");
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM (24-hour)");

/** More than `limit` reads by one consumer within one clock hour (local time). */
const readsPerHour = z.object({
  id: ruleId,
  kind: z.literal("reads-per-hour"),
  severity,
  description: z.string().optional(),
  limit: z.number().int().positive(),
});

/** A read outside office hours (local time); one alert per consumer per local day. */
const offHours = z.object({
  id: ruleId,
  kind: z.literal("off-hours"),
  severity,
  description: z.string().optional(),
  /** Start of office hours, inclusive. */
  start: clock,
  /** End of office hours, exclusive. */
  end: clock,
  /** Working days, 0 = Sunday ... 6 = Saturday. */
  days: z.array(z.number().int().min(0).max(6)).min(1),
});

/** One consumer reading more than `limit` distinct holders for one purpose within a window. */
const manyHolders = z.object({
  id: ruleId,
  kind: z.literal("many-holders"),
  severity,
  description: z.string().optional(),
  limit: z.number().int().positive(),
  /** Window length; windows are aligned to multiples of it since 1970 (tumbling windows). */
  windowSeconds: z.number().int().positive(),
  /** Only these purposes (all when absent). */
  purposes: z.array(z.number().int().min(0).max(65535)).optional(),
});

/** Reads with no outcome reported `afterDays` days later. */
const missingOutcome = z.object({
  id: ruleId,
  kind: z.literal("missing-outcome"),
  severity,
  description: z.string().optional(),
  afterDays: z.number().positive(),
  /** How often (chain time) the rule looks for overdue reads. */
  checkEverySeconds: z.number().int().positive().default(3600),
  purposes: z.array(z.number().int().min(0).max(65535)).optional(),
});

/** A grant lasting more than `ratio` times the duration the consumer requested. */
const longGrant = z.object({
  id: ruleId,
  kind: z.literal("long-grant"),
  severity,
  description: z.string().optional(),
  ratio: z.number().gt(1),
});

const rule = z.discriminatedUnion("kind", [readsPerHour, offHours, manyHolders, missingOutcome, longGrant]);

const rulesFile = z
  .object({
    /** The supervising authority's time zone, minutes east of UTC (China: 480). */
    timeZoneOffsetMinutes: z
      .number()
      .int()
      .min(-14 * 60)
      .max(14 * 60),
    rules: z.array(rule),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    for (const [index, { id }] of file.rules.entries()) {
      if (seen.has(id)) ctx.addIssue({ code: "custom", path: ["rules", index, "id"], message: `duplicate id ${id}` });
      seen.add(id);
    }
  });

export type AlertRule = z.infer<typeof rule>;
export type AlertRules = z.infer<typeof rulesFile>;
export type AlertRuleKind = AlertRule["kind"];

/** A rules file that cannot be used; the message lists every problem with its path. */
export class AlertRulesError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`alert rules ${file}: ${problems.join("; ")}`);
    this.name = "AlertRulesError";
  }
}

/** Checks a parsed rules document. @throws AlertRulesError naming each problem */
export function parseAlertRules(document: unknown, source = "alert rules"): AlertRules {
  const result = rulesFile.safeParse(document);
  if (!result.success) {
    throw new AlertRulesError(
      source,
      result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
    );
  }
  return result.data;
}

/** Reads and checks a rules file. @throws AlertRulesError */
export function loadAlertRules(file: string): AlertRules {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new AlertRulesError(file, [(error as Error).message]);
  }
  return parseAlertRules(document, file);
}

const DAY = 86_400;

/** Local calendar facts of a unix time in a zone `offsetMinutes` east of UTC. */
export function localTime(
  timestamp: number,
  offsetMinutes: number,
): {
  /** Days since 1970-01-01 (local). */
  day: number;
  /** Unix seconds of the local day's start. */
  dayStart: number;
  /** Minutes since local midnight. */
  minuteOfDay: number;
  /** 0 = Sunday ... 6 = Saturday. */
  weekday: number;
  /** Unix seconds of the local clock hour's start. */
  hourStart: number;
} {
  const local = timestamp + offsetMinutes * 60;
  const day = Math.floor(local / DAY);
  const secondOfDay = local - day * DAY;
  return {
    day,
    dayStart: day * DAY - offsetMinutes * 60,
    minuteOfDay: Math.floor(secondOfDay / 60),
    // 1970-01-01 was a Thursday.
    weekday: (((day + 4) % 7) + 7) % 7,
    hourStart: timestamp - (secondOfDay % 3600),
  };
}

function minutes(hhmm: string): number {
  const [hours, mins] = hhmm.split(":").map(Number);
  return hours! * 60 + mins!;
}

/** Whether a time falls outside the rule's office hours (an overnight span like 22:00-06:00 works). */
export function isOffHours(
  rule: Extract<AlertRule, { kind: "off-hours" }>,
  timestamp: number,
  offsetMinutes: number,
): boolean {
  const { minuteOfDay, weekday } = localTime(timestamp, offsetMinutes);
  if (!rule.days.includes(weekday)) return true;
  const start = minutes(rule.start);
  const end = minutes(rule.end);
  const inside = start <= end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
  return !inside;
}
