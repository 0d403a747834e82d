import { createHash } from "node:crypto";

import { createSiweMessage } from "viem/siwe";

import { DataSafeError } from "./errors.js";
import type { Hex } from "./types.js";

/**
 * The supervision API (issue 8): the routes, their typed answers, the refusals (one error class per
 * stable problem code), the canonical serialisation and digest of exports, and `SupervisionClient`,
 * a typed client of it with EIP-4361 sign-in. The API (`indexer/src/api/`) and the integrity command
 * (`scripts/integrity.ts`) read this one copy, so the three never disagree about a code, a column or
 * a digest.
 *
 * @example
 * const api = new SupervisionClient("http://127.0.0.1:42069");
 * await api.signIn(regulatorSigner);
 * const { items } = await api.trail(subjectId);
 * const { digest, rows } = await api.export({ dataset: "reads", fromBlock: 0, toBlock: 900 });
 */

/** The API's routes, under `/api`. */
export const SUPERVISION_ROUTES = {
  status: "/api/status",
  nonce: "/api/auth/nonce",
  verify: "/api/auth/verify",
  trail: "/api/holders/:subjectId/trail",
  reads: "/api/reads",
  grants: "/api/grants",
  requests: "/api/requests",
  governance: "/api/governance",
  stats: "/api/stats",
  alerts: "/api/alerts",
  alertRules: "/api/alert-rules",
  search: "/api/search",
  export: "/api/export",
} as const;

// ---------------------------------------------------------------------------------------------
// Refusals

/**
 * Every refusal of the supervision API: HTTP status and title by stable code. Bodies are
 * `application/problem+json` (RFC 9457) with `code`; a bad query parameter also names it in
 * `parameter`.
 */
export const SUPERVISION_PROBLEMS = {
  "invalid-parameter": { status: 400, title: "A query parameter or body field is malformed" },
  "invalid-cursor": { status: 400, title: "The cursor is not one this API issued for this query" },
  "token-missing": { status: 401, title: "The route needs a session token (Authorization: Bearer)" },
  "token-invalid": { status: 401, title: "The session token is not one this API signed" },
  "token-expired": { status: 401, title: "The session token has expired: sign in again" },
  "signin-malformed": { status: 401, title: "The sign-in message is not a complete EIP-4361 message" },
  "signin-wrong-domain": { status: 401, title: "The sign-in message is for another domain" },
  "signin-wrong-uri": { status: 401, title: "The sign-in message names another URI" },
  "signin-wrong-chain": { status: 401, title: "The sign-in message is for another chain" },
  "signin-expired": { status: 401, title: "The sign-in message has expired" },
  "signin-not-yet-valid": { status: 401, title: "The sign-in message is not valid yet" },
  "signin-bad-nonce": { status: 401, title: "The sign-in nonce was not issued by this API or has expired" },
  "signin-replayed": { status: 401, title: "The sign-in nonce was used already" },
  "signin-bad-signature": { status: 401, title: "The signature is not the message's address's" },
  "not-authorised": {
    status: 403,
    title: "The account is neither an active regulator nor the controller of the subject",
  },
  "regulator-only": { status: 403, title: "Only a regulator's session may use this route" },
  "not-your-subject": { status: 403, title: "A holder's session sees only its own subject" },
  "no-match": { status: 404, title: "Nothing indexed has this id" },
  "not-found": { status: 404, title: "No such route" },
  "range-not-indexed": { status: 409, title: "The block range reaches past what is indexed" },
  "chain-unavailable": { status: 503, title: "The API cannot read the chain" },
  "internal-error": { status: 500, title: "The API failed" },
} as const satisfies Record<string, { status: number; title: string }>;

export type SupervisionProblemCode = keyof typeof SUPERVISION_PROBLEMS;

export const PROBLEM_MEDIA_TYPE = "application/problem+json";

/** A refusal's body (RFC 9457 with a stable `code`). */
export interface SupervisionProblem {
  type: string;
  title: string;
  status: number;
  code: SupervisionProblemCode;
  detail?: string;
  /** The query parameter or body field at fault (`invalid-parameter`). */
  parameter?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** The `type` URI of a problem code. */
export function supervisionProblemType(code: SupervisionProblemCode): string {
  return `urn:datasafe:supervision:${code}`;
}

export function isSupervisionProblemCode(code: unknown): code is SupervisionProblemCode {
  return typeof code === "string" && Object.hasOwn(SUPERVISION_PROBLEMS, code);
}

/** A refusal of the supervision API; one subclass per problem code. Switch on the class. */
export class SupervisionError extends DataSafeError {
  readonly status: number;
  readonly code: SupervisionProblemCode;
  readonly problem: SupervisionProblem;

  constructor(problem: SupervisionProblem, options: { cause?: unknown } = {}) {
    super(`supervision API refused (${problem.status} ${problem.code}): ${problem.title}`, {
      details: problem.detail,
      cause: options.cause,
    });
    this.name = new.target.name;
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
  }
}

/** The API answered with something that is not one of its problems (or not at all). */
export class SupervisionUnavailableError extends DataSafeError {
  readonly status: number | undefined;

  constructor(shortMessage: string, options: { status?: number; details?: string; cause?: unknown } = {}) {
    super(shortMessage, options);
    this.name = "SupervisionUnavailableError";
    this.status = options.status;
  }
}

/** An export whose rows do not hash to the digest it carries. */
export class ExportDigestMismatchError extends DataSafeError {
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string) {
    super("the export's rows do not hash to its digest", { details: `carried ${expected}, computed ${actual}` });
    this.name = "ExportDigestMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

export class InvalidParameterError extends SupervisionError {
  /** The parameter at fault. */
  get parameter(): string | undefined {
    return this.problem.parameter;
  }
}
export class InvalidCursorError extends SupervisionError {}
export class TokenMissingError extends SupervisionError {}
export class TokenInvalidError extends SupervisionError {}
export class TokenExpiredError extends SupervisionError {}
export class SignInMalformedError extends SupervisionError {}
export class SignInWrongDomainError extends SupervisionError {}
export class SignInWrongUriError extends SupervisionError {}
export class SignInWrongChainError extends SupervisionError {}
export class SignInExpiredError extends SupervisionError {}
export class SignInNotYetValidError extends SupervisionError {}
export class SignInBadNonceError extends SupervisionError {}
export class SignInReplayedError extends SupervisionError {}
export class SignInBadSignatureError extends SupervisionError {}
export class NotAuthorisedError extends SupervisionError {}
export class RegulatorOnlyError extends SupervisionError {}
export class NotYourSubjectError extends SupervisionError {}
export class NoMatchError extends SupervisionError {}
export class SupervisionRouteNotFoundError extends SupervisionError {}
export class RangeNotIndexedError extends SupervisionError {}
export class SupervisionChainUnavailableError extends SupervisionError {}
export class SupervisionInternalError extends SupervisionError {}

/** The exception class of every problem code. */
export const SUPERVISION_ERRORS = {
  "invalid-parameter": InvalidParameterError,
  "invalid-cursor": InvalidCursorError,
  "token-missing": TokenMissingError,
  "token-invalid": TokenInvalidError,
  "token-expired": TokenExpiredError,
  "signin-malformed": SignInMalformedError,
  "signin-wrong-domain": SignInWrongDomainError,
  "signin-wrong-uri": SignInWrongUriError,
  "signin-wrong-chain": SignInWrongChainError,
  "signin-expired": SignInExpiredError,
  "signin-not-yet-valid": SignInNotYetValidError,
  "signin-bad-nonce": SignInBadNonceError,
  "signin-replayed": SignInReplayedError,
  "signin-bad-signature": SignInBadSignatureError,
  "not-authorised": NotAuthorisedError,
  "regulator-only": RegulatorOnlyError,
  "not-your-subject": NotYourSubjectError,
  "no-match": NoMatchError,
  "not-found": SupervisionRouteNotFoundError,
  "range-not-indexed": RangeNotIndexedError,
  "chain-unavailable": SupervisionChainUnavailableError,
  "internal-error": SupervisionInternalError,
} as const satisfies { [C in SupervisionProblemCode]: typeof SupervisionError };

/** The typed error of an answer: a `SupervisionError` subclass for a known problem, else `SupervisionUnavailableError`. */
export function supervisionErrorOf(status: number, body: unknown): DataSafeError {
  if (body !== null && typeof body === "object" && isSupervisionProblemCode((body as SupervisionProblem).code)) {
    const problem = body as SupervisionProblem;
    if (SUPERVISION_PROBLEMS[problem.code].status === status) return new SUPERVISION_ERRORS[problem.code](problem);
  }
  return new SupervisionUnavailableError(`the supervision API answered HTTP ${status} without a known problem code`, {
    status,
    details: typeof body === "string" ? body.slice(0, 500) : JSON.stringify(body)?.slice(0, 500),
  });
}

// ---------------------------------------------------------------------------------------------
// Answers

export interface Status {
  chainId: number;
  /** The chain's latest block, as the API's RPC sees it. */
  headBlock: number;
  /** The last block the indexer has written. */
  indexedBlock: number;
  lagBlocks: number;
  /** Head block's time minus the indexed block's time. */
  lagSeconds: number;
  /** Historical indexing is complete (Ponder's `/ready`). */
  ready: boolean;
}

export interface NonceAnswer {
  nonce: string;
  /** Unix seconds after which the nonce is refused. */
  expiresAt: number;
  /** What the sign-in message must carry. */
  domain: string;
  uri: string;
  chainId: number;
}

export type SessionRole = "regulator" | "holder";

export interface Session {
  token: string;
  role: SessionRole;
  address: string;
  subjectId?: Hex;
  expiresAt: number;
}

/** A page of a list; pass `nextCursor` back as `cursor` for the next one (null: the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One recorded read, with its grant's terms and the outcome reported. */
export interface ReadItem {
  accessId: Hex;
  grantId: Hex;
  grantVersion: number;
  subjectId: Hex;
  consumer: string;
  consumerName: string;
  assetId: Hex;
  dataType: number;
  dataTypeName: string;
  issuer: string;
  purpose: number;
  /** Fields read, decimal (uint64 bit mask; "0" = whole record). */
  fields: string;
  readNumber: number;
  maxReads: number;
  blockNumber: number;
  timestamp: number;
  txHash: Hex;
  /** The outcome code reported, null while none (1 = approved). */
  outcome: number | null;
  outcomeAt: number | null;
}

export type GrantStatus = "open" | "revoked" | "expired" | "exhausted";

export interface GrantItem {
  grantId: Hex;
  version: number;
  subjectId: Hex;
  consumer: string;
  scope: "asset" | "dataType";
  target: Hex;
  purpose: number;
  fields: string;
  maxReads: number;
  reads: number;
  expiresAt: number;
  /** Seconds the request asked for (null for a direct grant). */
  requestedDuration: number | null;
  /** Seconds from issue to expiry. */
  grantedDuration: number;
  requestId: Hex | null;
  issuedAt: number;
  revokedAt: number | null;
  status: GrantStatus;
}

export type RequestStatus = "pending" | "approved" | "rejected" | "cancelled" | "expired";

export interface RequestItem {
  requestId: Hex;
  subjectId: Hex;
  consumer: string;
  consumerName: string;
  scope: "asset" | "dataType";
  targets: Hex[];
  fields: string;
  purpose: number;
  grantDuration: number;
  maxReads: number;
  expiresAt: number;
  requestedAt: number;
  blockNumber: number;
  status: RequestStatus;
  decidedAt: number | null;
}

export interface GovernanceItem {
  kind: string;
  actor: string | null;
  target: string | null;
  detail: string;
  blockNumber: number;
  timestamp: number;
  txHash: Hex;
}

export type StatsDimension = "consumer" | "dataType" | "purpose" | "department" | "day";

export interface StatsRow {
  key: string;
  label: string;
  reads: number;
  outcomes: number;
  approved: number;
  /** approved / reads (0 when no reads). */
  outcomeRatio: number;
}

export interface Stats {
  by: StatsDimension;
  rows: StatsRow[];
  totals: { reads: number; outcomes: number; approved: number; outcomeRatio: number };
}

export interface AlertItem {
  id: string;
  rule: string;
  severity: string;
  summary: string;
  consumer: string | null;
  subjectId: Hex | null;
  blockNumber: number;
  timestamp: number;
  events: { kind: string; id: string; txHash: Hex }[];
}

export interface AlertRule {
  id: string;
  kind: string;
  severity: string;
  [parameter: string]: unknown;
}

export type SearchResult =
  | { kind: "holder"; id: Hex; reads: number; grants: number }
  | { kind: "consumer"; id: string; name: string; memberKind: number; reads: number }
  | { kind: "asset"; id: Hex; subjectId: Hex; issuer: string; dataType: number; reads: number }
  | { kind: "grant"; id: Hex; grant: GrantItem }
  | { kind: "read"; id: Hex; read: ReadItem };

// ---------------------------------------------------------------------------------------------
// Exports: columns, canonical serialisation, digest

export const EXPORT_DATASETS = ["reads", "grants", "requests", "governance", "alerts"] as const;
export type ExportDataset = (typeof EXPORT_DATASETS)[number];

/**
 * The columns of each dataset, in order. Every value of an exported row is a string: integers in
 * decimal, ids and hashes as lower-case 0x-hex, addresses EIP-55 checksummed, absent values "".
 * Rows are facts of the chain up to the export's `toBlock`: a read's outcome, a grant's revocation or
 * reads, a request's decision appear only if they happened by then, so an export of a range can be
 * recomputed from the chain at any later time (see `scripts/integrity.ts`).
 */
export const EXPORT_COLUMNS = {
  /** One row per `AccessRecorded` in the range. */
  reads: [
    "blockNumber",
    "logIndex",
    "txHash",
    "timestamp",
    "accessId",
    "grantId",
    "grantVersion",
    "subjectId",
    "consumer",
    "assetId",
    "dataType",
    "issuer",
    "purpose",
    "fields",
    "readNumber",
    "maxReads",
    "outcome",
    "outcomeReference",
    "outcomeBlock",
  ],
  /** One row per `GrantIssued` (a grant version) in the range; `reads` and `revokedAt` as of `toBlock`. */
  grants: [
    "blockNumber",
    "txHash",
    "timestamp",
    "grantId",
    "version",
    "subjectId",
    "consumer",
    "scope",
    "target",
    "purpose",
    "fields",
    "maxReads",
    "expiresAt",
    "requestId",
    "reads",
    "revokedAt",
  ],
  /** One row per `AccessRequested` in the range; `decision` as of `toBlock`. */
  requests: [
    "blockNumber",
    "txHash",
    "timestamp",
    "requestId",
    "subjectId",
    "consumer",
    "scope",
    "targets",
    "fields",
    "purpose",
    "grantDuration",
    "maxReads",
    "expiresAt",
    "decision",
    "decisionBlock",
  ],
  /** One row per governance event in the range (see indexer/README.md for the kinds). */
  governance: ["blockNumber", "logIndex", "txHash", "timestamp", "kind", "actor", "target", "detail"],
  /** One row per alert raised by an event in the range (derived, not on chain). */
  alerts: ["blockNumber", "id", "rule", "severity", "consumer", "subjectId", "summary", "events"],
} as const satisfies Record<ExportDataset, readonly string[]>;

export type ExportRow = Record<string, string>;

/** What an export is: the JSON form of `GET /api/export`. */
export interface ExportDocument {
  format: typeof EXPORT_FORMAT;
  chainId: number;
  dataset: ExportDataset;
  fromBlock: number;
  toBlock: number;
  columns: string[];
  digest: string;
  rows: ExportRow[];
}

export const EXPORT_FORMAT = "datasafe-export/1";

/**
 * The canonical serialisation an export's digest is the SHA-256 of, as UTF-8, one JSON array per
 * line, each line ending in "\n":
 *   line 1: `["datasafe-export/1", chainId, dataset, fromBlock, toBlock]` (numbers as JSON numbers)
 *   line 2: the dataset's column names
 *   then one line per row: its values in column order (all strings), rows in the order exported.
 * `JSON.stringify` of an array of strings is deterministic, so any language can recompute it.
 */
export function canonicalExportLines(meta: ExportMeta, rows: Iterable<ExportRow>): Iterable<string> {
  const columns = EXPORT_COLUMNS[meta.dataset];
  return (function* () {
    yield JSON.stringify([EXPORT_FORMAT, meta.chainId, meta.dataset, meta.fromBlock, meta.toBlock]) + "\n";
    yield JSON.stringify(columns) + "\n";
    for (const row of rows) yield JSON.stringify(columns.map((column) => row[column] ?? "")) + "\n";
  })();
}

export interface ExportMeta {
  chainId: number;
  dataset: ExportDataset;
  fromBlock: number;
  toBlock: number;
}

/** `sha256:<hex>` of the canonical serialisation of `rows`. */
export function exportDigest(meta: ExportMeta, rows: Iterable<ExportRow>): string {
  const hash = createHash("sha256");
  for (const line of canonicalExportLines(meta, rows)) hash.update(line, "utf8");
  return `sha256:${hash.digest("hex")}`;
}

/** The CSV form of an export (RFC 4180, header line, "\r\n" line ends, quoted where needed). */
export function exportCsv(dataset: ExportDataset, rows: Iterable<ExportRow>): string {
  const columns = EXPORT_COLUMNS[dataset];
  const lines = [columns.join(",")];
  for (const row of rows) lines.push(columns.map((column) => csvField(row[column] ?? "")).join(","));
  return lines.join("\r\n") + "\r\n";
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The rows of an export's CSV form (the inverse of `exportCsv`). */
export function parseExportCsv(dataset: ExportDataset, text: string): ExportRow[] {
  const records = parseCsv(text);
  const columns = EXPORT_COLUMNS[dataset];
  const header = records.shift();
  if (header === undefined || header.join(",") !== columns.join(",")) {
    throw new DataSafeError(`not a ${dataset} export: its header is not ${columns.join(",")}`);
  }
  return records.map((record, line) => {
    if (record.length !== columns.length) {
      throw new DataSafeError(`CSV record ${line + 2} has ${record.length} fields, expected ${columns.length}`);
    }
    return Object.fromEntries(columns.map((column, i) => [column, record[i]]));
  });
}

function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += char;
  }
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/**
 * Checks that an export document's rows hash to its digest.
 * @throws ExportDigestMismatchError when they do not
 */
export function verifyExport(document: ExportDocument): void {
  const actual = exportDigest(document, document.rows);
  if (actual !== document.digest) throw new ExportDigestMismatchError(document.digest, actual);
}

// ---------------------------------------------------------------------------------------------
// Client

/** Signs the sign-in message: an ethers `Signer` fits. */
export interface MessageSigner {
  getAddress(): Promise<string>;
  signMessage(message: string): Promise<string>;
}

export interface ListQuery {
  /** Items per page, 1-500; default 100. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** Oldest first (default) or newest first. */
  order?: "asc" | "desc";
}

export interface BlockQuery {
  fromBlock?: number;
  toBlock?: number;
}

export interface ReadsQuery extends ListQuery, BlockQuery {
  consumer?: string;
  dataType?: number;
  purpose?: number;
  issuer?: string;
  subjectId?: Hex;
}

export interface GrantsQuery extends ListQuery {
  subjectId?: Hex;
  consumer?: string;
  status?: GrantStatus;
}

export interface RequestsQuery extends ListQuery {
  subjectId?: Hex;
  consumer?: string;
  status?: RequestStatus;
}

export interface StatsQuery {
  by: StatsDimension;
  fromTime?: number;
  toTime?: number;
}

export interface ExportQuery {
  dataset: ExportDataset;
  fromBlock?: number;
  toBlock?: number;
}

export interface SupervisionClientOptions {
  /** A session token from an earlier sign-in. */
  token?: string;
  /** Milliseconds per HTTP request; default 30 s. */
  timeoutMs?: number;
}

/**
 * A typed client of the supervision API. Sign in once (`signIn`), then call one method per route;
 * a refusal throws the `SupervisionError` subclass of its problem code.
 */
export class SupervisionClient {
  /** The API's base URL, without a trailing slash. */
  readonly url: string;
  #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(url: string, options: SupervisionClientOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The session token in use, if signed in. */
  get token(): string | undefined {
    return this.#token;
  }

  set token(token: string | undefined) {
    this.#token = token;
  }

  status(): Promise<Status> {
    return this.#get(SUPERVISION_ROUTES.status);
  }

  nonce(): Promise<NonceAnswer> {
    return this.#get(SUPERVISION_ROUTES.nonce);
  }

  /**
   * The EIP-4361 message to sign for a nonce the API issued; it lives `lifetimeSeconds` (default 300).
   */
  static signInMessage(address: string, nonce: NonceAnswer, options: { lifetimeSeconds?: number; now?: Date } = {}) {
    const now = options.now ?? new Date();
    const expiry = Math.min(nonce.expiresAt * 1000, now.getTime() + (options.lifetimeSeconds ?? 300) * 1000);
    return createSiweMessage({
      address: address as `0x${string}`,
      chainId: nonce.chainId,
      domain: nonce.domain,
      uri: nonce.uri,
      nonce: nonce.nonce,
      version: "1",
      issuedAt: now,
      expirationTime: new Date(expiry),
      statement: "Sign in to the datasafe supervision API.",
    });
  }

  /** Posts a signed sign-in message; keeps the session's token for later calls. */
  async verify(message: string, signature: string, subjectId?: Hex): Promise<Session> {
    const session = await this.#request<Session>("POST", SUPERVISION_ROUTES.verify, {
      message,
      signature,
      ...(subjectId === undefined ? {} : { subjectId }),
    });
    this.#token = session.token;
    return session;
  }

  /**
   * Signs in: as a regulator (no `subjectId`), or as the holder of `subjectId` with its controller key.
   * @example const session = await api.signIn(wallet, { subjectId });
   */
  async signIn(signer: MessageSigner, options: { subjectId?: Hex } = {}): Promise<Session> {
    const nonce = await this.nonce();
    const message = SupervisionClient.signInMessage(await signer.getAddress(), nonce);
    return this.verify(message, await signer.signMessage(message), options.subjectId);
  }

  trail(subjectId: Hex, query: ListQuery & BlockQuery = {}): Promise<Page<ReadItem>> {
    return this.#get(SUPERVISION_ROUTES.trail.replace(":subjectId", subjectId), query);
  }

  reads(query: ReadsQuery = {}): Promise<Page<ReadItem>> {
    return this.#get(SUPERVISION_ROUTES.reads, query);
  }

  grants(query: GrantsQuery = {}): Promise<Page<GrantItem>> {
    return this.#get(SUPERVISION_ROUTES.grants, query);
  }

  requests(query: RequestsQuery = {}): Promise<Page<RequestItem>> {
    return this.#get(SUPERVISION_ROUTES.requests, query);
  }

  governance(query: ListQuery & BlockQuery = {}): Promise<Page<GovernanceItem>> {
    return this.#get(SUPERVISION_ROUTES.governance, query);
  }

  stats(query: StatsQuery): Promise<Stats> {
    return this.#get(SUPERVISION_ROUTES.stats, query);
  }

  alerts(query: ListQuery & { rule?: string; since?: number } = {}): Promise<Page<AlertItem>> {
    return this.#get(SUPERVISION_ROUTES.alerts, query);
  }

  alertRules(): Promise<{ rules: AlertRule[] }> {
    return this.#get(SUPERVISION_ROUTES.alertRules);
  }

  search(q: string): Promise<SearchResult> {
    return this.#get(SUPERVISION_ROUTES.search, { q });
  }

  /**
   * An export as JSON, its digest checked against its rows and its headers.
   * @throws ExportDigestMismatchError when the rows do not hash to the digest
   */
  async export(query: ExportQuery): Promise<ExportDocument> {
    const { body, headers } = await this.#fetch("GET", SUPERVISION_ROUTES.export, { ...query, format: "json" });
    const document = JSON.parse(body) as ExportDocument;
    verifyExport(document);
    const headerDigest = headers.get("x-datasafe-digest");
    if (headerDigest !== document.digest) throw new ExportDigestMismatchError(headerDigest ?? "", document.digest);
    return document;
  }

  /** An export as CSV, with the digest and block range its headers carry. */
  async exportCsv(query: ExportQuery): Promise<{ csv: string; digest: string; fromBlock: number; toBlock: number }> {
    const { body, headers } = await this.#fetch("GET", SUPERVISION_ROUTES.export, { ...query, format: "csv" });
    const [fromBlock, toBlock] = (headers.get("x-datasafe-block-range") ?? "").split("-").map(Number);
    return { csv: body, digest: headers.get("x-datasafe-digest") ?? "", fromBlock, toBlock };
  }

  /**
   * Every item of a paged list, following cursors.
   * @example for await (const read of api.all((cursor) => api.reads({ consumer, cursor }))) count++;
   */
  async *all<T>(page: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const { items, nextCursor } = await page(cursor);
      yield* items;
      cursor = nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  async #get<T>(path: string, query: object = {}): Promise<T> {
    return this.#request<T>("GET", path, undefined, query);
  }

  async #request<T>(method: "GET" | "POST", path: string, body?: unknown, query: object = {}): Promise<T> {
    const { body: text } = await this.#fetch(method, path, query, body);
    return JSON.parse(text) as T;
  }

  async #fetch(
    method: "GET" | "POST",
    path: string,
    query: object = {},
    body?: unknown,
  ): Promise<{ body: string; headers: Headers }> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
    const url = `${this.url}${path}${search.size > 0 ? `?${search}` : ""}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new SupervisionUnavailableError(`cannot reach the supervision API at ${this.url}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: reported as it came
      }
      throw supervisionErrorOf(response.status, parsed);
    }
    return { body: text, headers: response.headers };
  }
}
