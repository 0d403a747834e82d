import { sql } from "ponder";
import { getAddress } from "viem";

import type {
  AlertItem,
  ExportDataset,
  ExportRow,
  GovernanceItem,
  GrantItem,
  GrantStatus,
  ReadItem,
  RequestItem,
  RequestStatus,
  SearchResult,
  Stats,
  StatsDimension,
} from "../../../sdk/supervision.js";

/**
 * The API's SQL, one function per question, over the indexer's tables (indexer/ponder.schema.ts).
 * Every list is keyset-paginated on the columns of an index (`(subject_id, block_number,
 * log_index)` for a trail, `(consumer, block_number, log_index)` for a consumer's reads...), so a
 * page costs an index range scan whatever its depth. Raw SQL rather than the query builder: the
 * index each query needs is visible in its text, and `EXPLAIN` in the tests checks it is used.
 */

/** A query: what drizzle's `sql` tag (re-exported by Ponder) makes. */
export type SQL = ReturnType<typeof sql>;
export type Row = Record<string, unknown>;
/** Runs a query on the API's read-only handle. */
export type Run = (query: SQL) => Promise<Row[]>;

/**
 * The schema the indexer writes (Ponder's `--schema`): every table the API reads is named with it.
 * On PGlite the API shares the indexer's one database session, in which Ponder's cache flush leaves
 * (truncated, empty) TEMP tables named like the tables it bulk-updates (`stat_daily`,
 * `consent_grant`, `grant_version`…); temporary tables come first in PostgreSQL's search path, so
 * unqualified names read those and the statistics and grants came back empty after a large backfill.
 */
let indexerSchema: string | undefined;

/** Names the schema of the indexer's tables (the API's entry does, from Ponder's namespace). */
export function useIndexerSchema(schema: string): void {
  indexerSchema = schema;
}

function table(name: string): SQL {
  if (indexerSchema === undefined) return sql.raw(`"${name}"`);
  return sql.raw(`"${indexerSchema.replaceAll('"', '""')}"."${name}"`);
}

/** A page position: the sort key of the last row served. */
export type Cursor = [number, number | string];

export interface PageRequest {
  limit: number;
  cursor?: Cursor;
  order: "asc" | "desc";
}

const checksums = new Map<string, string>();

/** EIP-55 form of a lower-case address from the database (memoised: a page repeats a few). */
export function checksum(address: unknown): string {
  if (typeof address !== "string") return "";
  let known = checksums.get(address);
  if (known === undefined) {
    known = getAddress(address);
    if (checksums.size > 100_000) checksums.clear();
    checksums.set(address, known);
  }
  return known;
}

export function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

function str(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

/**
 * Keyset condition and order of a page over `(a, b)`. Text keys are compared `COLLATE "C"` (byte
 * order), so the order of ids, and so an export's digest, is the same on PGlite and PostgreSQL
 * whatever their locales.
 */
function keyset(a: SQL, b: SQL, page: PageRequest): { where: SQL; order: SQL } {
  const where =
    page.cursor === undefined
      ? sql`TRUE`
      : page.order === "asc"
        ? sql`(${a}, ${b}) > (${page.cursor[0]}, ${page.cursor[1]})`
        : sql`(${a}, ${b}) < (${page.cursor[0]}, ${page.cursor[1]})`;
  const order = page.order === "asc" ? sql`${a} ASC, ${b} ASC` : sql`${a} DESC, ${b} DESC`;
  return { where, order };
}

/** The rows of one page and the cursor of the next (null on the last page). */
function paged<T>(rows: Row[], page: PageRequest, map: (row: Row) => T, key: (row: Row) => Cursor) {
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  return { items: kept.map(map), next: more ? key(kept[kept.length - 1]) : null };
}

// ---------------------------------------------------------------------------------------------
// Reads (trail, consumer reads)

export interface ReadFilter {
  subjectId?: string;
  consumer?: string;
  dataType?: number;
  purpose?: number;
  issuer?: string;
  fromBlock?: number;
  toBlock?: number;
}

const READ_COLUMNS = sql`a.access_id, a.grant_id, a.grant_version, a.subject_id, a.consumer, a.asset_id, a.data_type,
  a.issuer, a.purpose, a.fields, a.read_number, a.max_reads, a.block_number, a.log_index, a.timestamp, a.tx_hash,
  a.outcome, a.outcome_at, m.name AS consumer_name, t.name AS data_type_name`;

function readItem(row: Row): ReadItem {
  return {
    accessId: row.access_id as string,
    grantId: row.grant_id as string,
    grantVersion: num(row.grant_version),
    subjectId: row.subject_id as string,
    consumer: checksum(row.consumer),
    consumerName: str(row.consumer_name),
    assetId: row.asset_id as string,
    dataType: num(row.data_type ?? 0),
    dataTypeName: str(row.data_type_name),
    issuer: checksum(row.issuer),
    purpose: num(row.purpose),
    fields: str(row.fields),
    readNumber: num(row.read_number),
    maxReads: num(row.max_reads),
    blockNumber: num(row.block_number),
    timestamp: num(row.timestamp),
    txHash: row.tx_hash as string,
    outcome: numOrNull(row.outcome),
    outcomeAt: numOrNull(row.outcome_at),
  };
}

export async function reads(run: Run, filter: ReadFilter, page: PageRequest) {
  const conditions: SQL[] = [];
  if (filter.subjectId !== undefined) conditions.push(sql`a.subject_id = ${filter.subjectId}`);
  if (filter.consumer !== undefined) conditions.push(sql`a.consumer = ${filter.consumer}`);
  if (filter.dataType !== undefined) conditions.push(sql`a.data_type = ${filter.dataType}`);
  if (filter.purpose !== undefined) conditions.push(sql`a.purpose = ${filter.purpose}`);
  if (filter.issuer !== undefined) conditions.push(sql`a.issuer = ${filter.issuer}`);
  if (filter.fromBlock !== undefined) conditions.push(sql`a.block_number >= ${filter.fromBlock}`);
  if (filter.toBlock !== undefined) conditions.push(sql`a.block_number <= ${filter.toBlock}`);
  const { where, order } = keyset(sql`a.block_number`, sql`a.log_index`, page);
  conditions.push(where);
  const rows = await run(sql`
    SELECT ${READ_COLUMNS}
    FROM ${table("access")} a
    LEFT JOIN ${table("member")} m ON m.account = a.consumer
    LEFT JOIN ${table("data_type")} t ON t.id = a.data_type
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY ${order}
    LIMIT ${page.limit + 1}`);
  return paged(rows, page, readItem, (row) => [num(row.block_number), num(row.log_index)]);
}

// ---------------------------------------------------------------------------------------------
// Grants and requests

export interface GrantFilter {
  subjectId?: string;
  consumer?: string;
  status?: GrantStatus;
}

/**
 * A grant's status at chain time `now`, as the contract judges a read: revoked, else exhausted
 * (every read used), else expired, else open.
 */
const GRANT_STATUS = (now: number) => sql`CASE
  WHEN g.status = 'revoked' THEN 'revoked'
  WHEN g.reads >= g.max_reads THEN 'exhausted'
  WHEN g.expires_at < ${now} THEN 'expired'
  ELSE 'open' END`;

function grantItem(row: Row): GrantItem {
  return {
    grantId: row.grant_id as string,
    version: num(row.version),
    subjectId: row.subject_id as string,
    consumer: checksum(row.consumer),
    scope: row.scope as "asset" | "dataType",
    target: row.target as string,
    purpose: num(row.purpose),
    fields: str(row.fields),
    maxReads: num(row.max_reads),
    reads: num(row.reads),
    expiresAt: num(row.expires_at),
    requestedDuration: numOrNull(row.requested_duration),
    grantedDuration: num(row.granted_duration),
    requestId: (row.request_id as string | null) ?? null,
    issuedAt: num(row.issued_at),
    revokedAt: numOrNull(row.revoked_at),
    status: row.grant_status as GrantStatus,
  };
}

export async function grants(run: Run, filter: GrantFilter, now: number, page: PageRequest) {
  const status = GRANT_STATUS(now);
  const conditions: SQL[] = [];
  if (filter.subjectId !== undefined) conditions.push(sql`g.subject_id = ${filter.subjectId}`);
  if (filter.consumer !== undefined) conditions.push(sql`g.consumer = ${filter.consumer}`);
  // Each status written so its own index condition can be used (status_idx is on (status, expires_at)).
  if (filter.status === "revoked") conditions.push(sql`g.status = 'revoked'`);
  if (filter.status === "exhausted") conditions.push(sql`g.status = 'active' AND g.reads >= g.max_reads`);
  if (filter.status === "expired") {
    conditions.push(sql`g.status = 'active' AND g.expires_at < ${now} AND g.reads < g.max_reads`);
  }
  if (filter.status === "open") {
    conditions.push(sql`g.status = 'active' AND g.expires_at >= ${now} AND g.reads < g.max_reads`);
  }
  const { where, order } = keyset(sql`g.issued_block`, sql`g.grant_id COLLATE "C"`, page);
  conditions.push(where);
  const rows = await run(sql`
    SELECT g.*, ${status} AS grant_status FROM ${table("consent_grant")} g
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY ${order}
    LIMIT ${page.limit + 1}`);
  return paged(rows, page, grantItem, (row) => [num(row.issued_block), String(row.grant_id)]);
}

export interface RequestFilter {
  subjectId?: string;
  consumer?: string;
  status?: RequestStatus;
}

function requestItem(row: Row): RequestItem {
  const status = row.status as string;
  return {
    requestId: row.request_id as string,
    subjectId: row.subject_id as string,
    consumer: checksum(row.consumer),
    consumerName: str(row.consumer_name),
    scope: row.scope as "asset" | "dataType",
    targets: row.targets as string[],
    fields: str(row.fields),
    purpose: num(row.purpose),
    grantDuration: num(row.grant_duration),
    maxReads: num(row.max_reads),
    expiresAt: num(row.expires_at),
    requestedAt: num(row.requested_at),
    blockNumber: num(row.requested_block),
    status: (status === "pending" && row.expired === true ? "expired" : status) as RequestStatus,
    decidedAt: numOrNull(row.resolved_at),
  };
}

export async function requests(run: Run, filter: RequestFilter, now: number, page: PageRequest) {
  const conditions: SQL[] = [];
  if (filter.subjectId !== undefined) conditions.push(sql`r.subject_id = ${filter.subjectId}`);
  if (filter.consumer !== undefined) conditions.push(sql`r.consumer = ${filter.consumer}`);
  if (filter.status === "expired") conditions.push(sql`r.status = 'pending' AND r.expires_at < ${now}`);
  else if (filter.status === "pending") conditions.push(sql`r.status = 'pending' AND r.expires_at >= ${now}`);
  else if (filter.status !== undefined) conditions.push(sql`r.status = ${filter.status}`);
  const { where, order } = keyset(sql`r.requested_block`, sql`r.request_id COLLATE "C"`, page);
  conditions.push(where);
  const rows = await run(sql`
    SELECT r.*, m.name AS consumer_name, (r.expires_at < ${now}) AS expired
    FROM ${table("access_request")} r LEFT JOIN ${table("member")} m ON m.account = r.consumer
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY ${order}
    LIMIT ${page.limit + 1}`);
  return paged(rows, page, requestItem, (row) => [num(row.requested_block), String(row.request_id)]);
}

// ---------------------------------------------------------------------------------------------
// Governance, alerts

function governanceItem(row: Row): GovernanceItem & { contract: string; logIndex: number } {
  return {
    kind: str(row.kind),
    contract: str(row.contract),
    actor: row.actor === null ? null : checksum(row.actor),
    target: row.target === null ? null : str(row.target),
    detail: canonicalJson(row.detail),
    blockNumber: num(row.block_number),
    logIndex: num(row.log_index),
    timestamp: num(row.timestamp),
    txHash: row.tx_hash as string,
  };
}

export async function governance(
  run: Run,
  filter: { fromBlock?: number; toBlock?: number; kind?: string },
  page: PageRequest,
) {
  const conditions: SQL[] = [];
  if (filter.fromBlock !== undefined) conditions.push(sql`block_number >= ${filter.fromBlock}`);
  if (filter.toBlock !== undefined) conditions.push(sql`block_number <= ${filter.toBlock}`);
  if (filter.kind !== undefined) conditions.push(sql`kind = ${filter.kind}`);
  const { where, order } = keyset(sql`block_number`, sql`log_index`, page);
  conditions.push(where);
  const rows = await run(sql`
    SELECT * FROM ${table("governance")} WHERE ${sql.join(conditions, sql` AND `)} ORDER BY ${order} LIMIT ${page.limit + 1}`);
  return paged(rows, page, governanceItem, (row) => [num(row.block_number), num(row.log_index)]);
}

function alertItem(row: Row): AlertItem & { kind: string; count: number } {
  return {
    id: str(row.id),
    rule: str(row.rule),
    kind: str(row.kind),
    severity: str(row.severity),
    summary: str(row.summary),
    consumer: row.consumer === null ? null : checksum(row.consumer),
    subjectId: (row.subject_id as string | null) ?? null,
    blockNumber: num(row.block_number),
    timestamp: num(row.timestamp),
    count: num(row.count),
    events: row.events as AlertItem["events"],
  };
}

export async function alerts(run: Run, filter: { rule?: string; since?: number }, page: PageRequest) {
  const conditions: SQL[] = [];
  if (filter.rule !== undefined) conditions.push(sql`rule = ${filter.rule}`);
  if (filter.since !== undefined) conditions.push(sql`timestamp >= ${filter.since}`);
  const { where, order } = keyset(sql`block_number`, sql`id COLLATE "C"`, page);
  conditions.push(where);
  const rows = await run(sql`
    SELECT * FROM ${table("alert")} WHERE ${sql.join(conditions, sql` AND `)} ORDER BY ${order} LIMIT ${page.limit + 1}`);
  return paged(rows, page, alertItem, (row) => [num(row.block_number), String(row.id)]);
}

// ---------------------------------------------------------------------------------------------
// Statistics

const DIMENSION_COLUMN: Record<StatsDimension, SQL> = {
  consumer: sql`s.consumer`,
  dataType: sql`s.data_type`,
  purpose: sql`s.purpose`,
  department: sql`s.department`,
  day: sql`s.day`,
};

/** Sums of the pre-aggregated daily table by one dimension, days starting in [fromTime, toTime]. */
export async function stats(
  run: Run,
  by: StatsDimension,
  range: { fromTime?: number; toTime?: number },
): Promise<Stats> {
  const key = DIMENSION_COLUMN[by];
  const conditions: SQL[] = [sql`TRUE`];
  if (range.fromTime !== undefined) conditions.push(sql`s.day_start >= ${range.fromTime}`);
  if (range.toTime !== undefined) conditions.push(sql`s.day_start <= ${range.toTime}`);
  const label =
    by === "consumer" || by === "department"
      ? sql`(SELECT name FROM ${table("member")} m WHERE m.account = k.key)`
      : by === "dataType"
        ? sql`(SELECT name FROM ${table("data_type")} t WHERE t.id = k.key)`
        : sql`NULL`;
  const rows = await run(sql`
    SELECT k.*, ${label} AS label FROM (
      SELECT ${key} AS key, SUM(s.reads) AS reads, SUM(s.outcomes) AS outcomes, SUM(s.approved) AS approved
      FROM ${table("stat_daily")} s WHERE ${sql.join(conditions, sql` AND `)} GROUP BY ${key}
    ) k ORDER BY k.reads DESC, k.key ASC`);
  const totals = { reads: 0, outcomes: 0, approved: 0, outcomeRatio: 0 };
  const out = rows.map((row) => {
    const reads = num(row.reads);
    const outcomes = num(row.outcomes);
    const approved = num(row.approved);
    totals.reads += reads;
    totals.outcomes += outcomes;
    totals.approved += approved;
    const rawKey = row.key;
    const keyText = by === "consumer" || by === "department" ? checksum(rawKey) : String(num(rawKey));
    return {
      key: keyText,
      label: row.label === null || row.label === undefined ? defaultLabel(by, num(rawKey), keyText) : str(row.label),
      reads,
      outcomes,
      approved,
      outcomeRatio: ratio(approved, reads),
    };
  });
  totals.outcomeRatio = ratio(totals.approved, totals.reads);
  return { by, rows: out, totals };
}

function defaultLabel(by: StatsDimension, key: number, keyText: string): string {
  if (by === "day") return new Date(key * 86_400_000).toISOString().slice(0, 10);
  if (by === "purpose") return `purpose ${key}`;
  return keyText;
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

// ---------------------------------------------------------------------------------------------
// Search

export async function search(run: Run, q: string, now: number): Promise<SearchResult | undefined> {
  if (/^0x[0-9a-f]{40}$/.test(q)) {
    const [member] = await run(sql`SELECT * FROM ${table("member")} WHERE account = ${q}`);
    if (member === undefined) return undefined;
    const [{ n }] = await run(sql`SELECT COUNT(*) AS n FROM ${table("access")} WHERE consumer = ${q}`);
    return { kind: "consumer", id: checksum(q), name: str(member.name), memberKind: num(member.kind), reads: num(n) };
  }
  const [read] = await run(sql`
    SELECT ${READ_COLUMNS} FROM ${table("access")} a LEFT JOIN ${table("member")} m ON m.account = a.consumer
    LEFT JOIN ${table("data_type")} t ON t.id = a.data_type WHERE a.access_id = ${q}`);
  if (read !== undefined) return { kind: "read", id: q, read: readItem(read) };
  const [grant] = await run(
    sql`SELECT g.*, ${GRANT_STATUS(now)} AS grant_status FROM ${table("consent_grant")} g WHERE g.grant_id = ${q}`,
  );
  if (grant !== undefined) return { kind: "grant", id: q, grant: grantItem(grant) };
  const [asset] = await run(sql`SELECT * FROM ${table("asset")} WHERE asset_id = ${q}`);
  if (asset !== undefined) {
    const [{ n }] = await run(sql`SELECT COUNT(*) AS n FROM ${table("access")} WHERE asset_id = ${q}`);
    return {
      kind: "asset",
      id: q,
      subjectId: asset.subject_id as string,
      issuer: checksum(asset.issuer),
      dataType: num(asset.data_type),
      reads: num(n),
    };
  }
  const [holder] = await run(sql`
    SELECT (SELECT COUNT(*) FROM ${table("access")} WHERE subject_id = ${q}) AS reads,
           (SELECT COUNT(*) FROM ${table("consent_grant")} WHERE subject_id = ${q}) AS grants,
           EXISTS (SELECT 1 FROM ${table("subject")} WHERE subject_id = ${q}) AS known`);
  if (holder.known === true || num(holder.reads) > 0) {
    return { kind: "holder", id: q, reads: num(holder.reads), grants: num(holder.grants) };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Exports (columns: EXPORT_COLUMNS in sdk/supervision.ts)

/** How many rows one export may hold: the whole export is hashed before the first byte is sent. */
export const EXPORT_ROW_LIMIT = 500_000;
const EXPORT_BATCH = 5_000;

/**
 * The rows of an export of `fromBlock`..`toBlock`, as facts of the chain up to `toBlock`: later
 * outcomes, revocations, reads and decisions are left out (see EXPORT_COLUMNS), so the same export
 * can be made again, and recomputed from the chain, at any later time. `toTime` is `toBlock`'s time
 * (block times strictly increase, so "at or before toTime" is "at or before toBlock").
 */
export async function exportRows(
  run: Run,
  dataset: ExportDataset,
  range: { fromBlock: number; toBlock: number; toTime: number },
): Promise<ExportRow[]> {
  const rows: ExportRow[] = [];
  let cursor: Cursor | undefined;
  for (;;) {
    const batch = await exportBatch(run, dataset, range, cursor);
    for (const row of batch.rows) rows.push(row);
    if (rows.length > EXPORT_ROW_LIMIT) throw new ExportTooLarge();
    if (batch.next === null) return rows;
    cursor = batch.next;
  }
}

export class ExportTooLarge extends Error {}

async function exportBatch(
  run: Run,
  dataset: ExportDataset,
  { fromBlock, toBlock, toTime }: { fromBlock: number; toBlock: number; toTime: number },
  cursor: Cursor | undefined,
): Promise<{ rows: ExportRow[]; next: Cursor | null }> {
  const page: PageRequest = { limit: EXPORT_BATCH, cursor, order: "asc" };
  const inRange = (column: SQL) => sql`${column} >= ${fromBlock} AND ${column} <= ${toBlock}`;
  switch (dataset) {
    case "reads": {
      const { where, order } = keyset(sql`a.block_number`, sql`a.log_index`, page);
      const rows = await run(sql`
        SELECT a.* FROM ${table("access")} a WHERE ${inRange(sql`a.block_number`)} AND ${where}
        ORDER BY ${order} LIMIT ${page.limit + 1}`);
      return exported(rows, page, readExportRow(toBlock), (r) => [num(r.block_number), num(r.log_index)]);
    }
    case "grants": {
      // Reads counted up to toBlock per version (access.grant_idx), revocations up to toTime.
      const { where, order } = keyset(sql`v.issued_block`, sql`v.id COLLATE "C"`, page);
      const rows = await run(sql`
        SELECT v.*, g.scope, g.target, g.purpose,
          (SELECT COUNT(*) FROM ${table("access")} a WHERE a.grant_id = v.grant_id AND a.grant_version = v.version
             AND a.block_number <= ${toBlock}) AS reads_then
        FROM ${table("grant_version")} v JOIN ${table("consent_grant")} g ON g.grant_id = v.grant_id
        WHERE ${inRange(sql`v.issued_block`)} AND ${where}
        ORDER BY ${order} LIMIT ${page.limit + 1}`);
      return exported(rows, page, grantExportRow(toTime), (r) => [num(r.issued_block), String(r.id)]);
    }
    case "requests": {
      const { where, order } = keyset(sql`r.requested_block`, sql`r.request_id COLLATE "C"`, page);
      const rows = await run(sql`
        SELECT r.* FROM ${table("access_request")} r WHERE ${inRange(sql`r.requested_block`)} AND ${where}
        ORDER BY ${order} LIMIT ${page.limit + 1}`);
      return exported(rows, page, requestExportRow(toBlock), (r) => [num(r.requested_block), String(r.request_id)]);
    }
    case "governance": {
      const { where, order } = keyset(sql`block_number`, sql`log_index`, page);
      const rows = await run(sql`
        SELECT * FROM ${table("governance")} WHERE ${inRange(sql`block_number`)} AND ${where}
        ORDER BY ${order} LIMIT ${page.limit + 1}`);
      return exported(rows, page, governanceExportRow, (r) => [num(r.block_number), num(r.log_index)]);
    }
    case "alerts": {
      const { where, order } = keyset(sql`block_number`, sql`id COLLATE "C"`, page);
      const rows = await run(sql`
        SELECT * FROM ${table("alert")} WHERE ${inRange(sql`block_number`)} AND ${where}
        ORDER BY ${order} LIMIT ${page.limit + 1}`);
      return exported(rows, page, alertExportRow, (r) => [num(r.block_number), String(r.id)]);
    }
  }
}

function exported(rows: Row[], page: PageRequest, map: (row: Row) => ExportRow, key: (row: Row) => Cursor) {
  const { items, next } = paged(rows, page, map, key);
  return { rows: items, next };
}

const readExportRow =
  (toBlock: number) =>
  (row: Row): ExportRow => {
    const outcomeKnown = row.outcome_block !== null && num(row.outcome_block) <= toBlock;
    return {
      blockNumber: str(row.block_number),
      logIndex: str(row.log_index),
      txHash: str(row.tx_hash),
      timestamp: str(row.timestamp),
      accessId: str(row.access_id),
      grantId: str(row.grant_id),
      grantVersion: str(row.grant_version),
      subjectId: str(row.subject_id),
      consumer: checksum(row.consumer),
      assetId: str(row.asset_id),
      dataType: str(row.data_type),
      issuer: row.issuer === null ? "" : checksum(row.issuer),
      purpose: str(row.purpose),
      fields: str(row.fields),
      readNumber: str(row.read_number),
      maxReads: str(row.max_reads),
      outcome: outcomeKnown ? str(row.outcome) : "",
      outcomeReference: outcomeKnown ? str(row.outcome_reference) : "",
      outcomeBlock: outcomeKnown ? str(row.outcome_block) : "",
    };
  };

const grantExportRow =
  (toTime: number) =>
  (row: Row): ExportRow => {
    const revokedThen = row.revoked_at !== null && num(row.revoked_at) <= toTime;
    return {
      blockNumber: str(row.issued_block),
      txHash: str(row.issued_tx),
      timestamp: str(row.issued_at),
      grantId: str(row.grant_id),
      version: str(row.version),
      subjectId: str(row.subject_id),
      consumer: checksum(row.consumer),
      scope: str(row.scope),
      target: str(row.target),
      purpose: str(row.purpose),
      fields: str(row.fields),
      maxReads: str(row.max_reads),
      expiresAt: str(row.expires_at),
      requestId: str(row.request_id),
      reads: str(row.reads_then),
      revokedAt: revokedThen ? str(row.revoked_at) : "",
    };
  };

const requestExportRow =
  (toBlock: number) =>
  (row: Row): ExportRow => {
    const decided = row.resolved_block !== null && num(row.resolved_block) <= toBlock && row.status !== "pending";
    return {
      blockNumber: str(row.requested_block),
      txHash: str(row.requested_tx),
      timestamp: str(row.requested_at),
      requestId: str(row.request_id),
      subjectId: str(row.subject_id),
      consumer: checksum(row.consumer),
      scope: str(row.scope),
      targets: (row.targets as string[]).join(";"),
      fields: str(row.fields),
      purpose: str(row.purpose),
      grantDuration: str(row.grant_duration),
      maxReads: str(row.max_reads),
      expiresAt: str(row.expires_at),
      decision: decided ? str(row.status) : "",
      decisionBlock: decided ? str(row.resolved_block) : "",
    };
  };

function governanceExportRow(row: Row): ExportRow {
  return {
    blockNumber: str(row.block_number),
    logIndex: str(row.log_index),
    txHash: str(row.tx_hash),
    timestamp: str(row.timestamp),
    kind: str(row.kind),
    actor: row.actor === null ? "" : checksum(row.actor),
    target: str(row.target),
    detail: JSON.stringify(canonicalJson(row.detail)),
  };
}

function alertExportRow(row: Row): ExportRow {
  return {
    blockNumber: str(row.block_number),
    id: str(row.id),
    rule: str(row.rule),
    severity: str(row.severity),
    consumer: row.consumer === null ? "" : checksum(row.consumer),
    subjectId: str(row.subject_id),
    summary: str(row.summary),
    events: JSON.stringify(row.events),
  };
}

/** A JSON value with its objects' keys sorted (PostgreSQL's jsonb orders keys its own way). */
function canonicalJson(value: unknown): never {
  if (Array.isArray(value)) return value.map(canonicalJson) as never;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonicalJson((value as Record<string, unknown>)[key])]),
    ) as never;
  }
  return value as never;
}

// ---------------------------------------------------------------------------------------------
// Status

/** The indexed block and its time (Ponder's checkpoint table), and whether historical sync is done. */
export async function indexedHead(run: Run): Promise<{ block: number; timestamp: number; ready: boolean }> {
  const [checkpoint] = await run(sql`SELECT latest_checkpoint FROM ${table("_ponder_checkpoint")} LIMIT 1`);
  const [meta] = await run(sql`SELECT value FROM ${table("_ponder_meta")} WHERE key = 'app'`);
  const ready = (meta?.value as { is_ready?: number } | undefined)?.is_ready === 1;
  if (checkpoint === undefined) return { block: 0, timestamp: 0, ready };
  // Ponder's checkpoint: 10 digits of block time, 16 of chain id, 16 of block number, then the position.
  const text = String(checkpoint.latest_checkpoint);
  return { timestamp: Number(text.slice(0, 10)), block: Number(text.slice(26, 42)), ready };
}
