/*
 * Where the auditor's trail comes from. Today: the chain's events through the SDK (every node
 * can answer, nothing else to run). The supervision indexer's API will be a second source with
 * the same shape (`--api URL`): commands take a TrailSource and do not care which.
 */
import type { DataSafeClient, UsageRecord } from "../sdk/index.js";

/** A block range; `toBlock` "latest" by default. */
export interface TrailRange {
  fromBlock?: number;
  toBlock?: number | "latest";
}

/** Who the trail is about: a holder, a consumer, or (neither) everyone. */
export interface TrailFilter {
  subjectId?: string;
  consumer?: string;
}

/** A source of recorded reads, oldest first. */
export interface TrailSource {
  /** For the output: `events` or the API's URL. */
  readonly name: string;
  reads(filter: TrailFilter, range: TrailRange): Promise<UsageRecord[]>;
}

/** The trail read from the chain's AccessRecorded (and related) events. */
export class EventTrailSource implements TrailSource {
  readonly name = "events";
  readonly #client: DataSafeClient;

  constructor(client: DataSafeClient) {
    this.#client = client;
  }

  reads(filter: TrailFilter, range: TrailRange): Promise<UsageRecord[]> {
    return this.#client.events.accessTrail(filter, range);
  }
}

/** One group of reads in the statistics. */
export interface ReadStats {
  key: string;
  reads: number;
  /** Reads whose consumer reported an outcome. */
  withOutcome: number;
  /** withOutcome / reads, 0..1. */
  outcomeRatio: number;
  /** Reads by outcome code reported (`none` for none yet). */
  outcomes: Record<string, number>;
}

export type StatsDimension = "consumer" | "dataType" | "purpose" | "day";

/** Reads grouped by `dimension`, with the share that has an outcome and the outcomes' spread. */
export function statsBy(reads: UsageRecord[], dimension: StatsDimension): ReadStats[] {
  const keyOf: Record<StatsDimension, (r: UsageRecord) => string> = {
    consumer: (r) => (r.consumerName === "" ? r.consumer : `${r.consumerName} (${r.consumer})`),
    dataType: (r) => (r.dataTypeName === "" ? String(r.dataType) : `${r.dataType} ${r.dataTypeName}`),
    purpose: (r) => String(r.purpose),
    day: (r) => new Date(r.readAt * 1000).toISOString().slice(0, 10),
  };
  const groups = new Map<string, ReadStats>();
  for (const read of reads) {
    const key = keyOf[dimension](read);
    const group = groups.get(key) ?? { key, reads: 0, withOutcome: 0, outcomeRatio: 0, outcomes: {} };
    group.reads += 1;
    if (read.outcome !== undefined) group.withOutcome += 1;
    const outcome = read.outcome === undefined ? "none" : String(read.outcome);
    group.outcomes[outcome] = (group.outcomes[outcome] ?? 0) + 1;
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, outcomeRatio: g.reads === 0 ? 0 : Math.round((g.withOutcome / g.reads) * 10_000) / 10_000 }))
    .sort((a, b) => b.reads - a.reads || a.key.localeCompare(b.key));
}

/** The export's columns, in order. */
export const EXPORT_COLUMNS = [
  "accessId",
  "readAt",
  "blockNumber",
  "transactionHash",
  "consumer",
  "consumerName",
  "assetId",
  "dataType",
  "dataTypeName",
  "issuer",
  "issuerName",
  "purpose",
  "fields",
  "readNumber",
  "maxReads",
  "grantId",
  "grantVersion",
  "grantExpiresAt",
  "requestId",
  "outcome",
  "outcomeReference",
] as const satisfies readonly (keyof UsageRecord)[];

/** RFC 4180 CSV of the reads: a header, then one line per read. */
export function toCsv(reads: UsageRecord[]): string {
  const escape = (value: unknown): string => {
    const text = value === undefined || value === null ? "" : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [EXPORT_COLUMNS.join(",")];
  for (const read of reads) lines.push(EXPORT_COLUMNS.map((column) => escape(read[column])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
