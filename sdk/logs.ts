import type { Log, Provider, TopicFilter } from "ethers";
import pRetry from "p-retry";

import { InvalidInputError, LogQueryError, type LogQueryFailure } from "./errors.js";
import { decodeRevert } from "./revert.js";

/**
 * Every `eth_getLogs` of the SDK goes through here. Nodes cap what one query may ask: Besu refuses
 * a block range wider than `--rpc-max-logs-range` (1,000 by default), hosted nodes cap ranges or
 * result counts, and any node under load times out or sheds requests. So a query is cut into
 * pages of at most `pageSize` blocks, a page that fails transiently is retried with exponential
 * backoff, a page the node calls too large is halved, and a page that still fails ends the whole
 * query with a `LogQueryError` naming its blocks: a trail with a hole in it is never returned.
 */

/** How history is read. Every field is optional; `LOG_QUERY_DEFAULTS` has the defaults. */
export interface LogQueryOptions {
  /** Most blocks one `eth_getLogs` asks for; default 1,000, Besu's default `--rpc-max-logs-range`. */
  pageSize?: number;
  /** Requests per page before giving up on transient errors, the first included; default 5. */
  maxAttempts?: number;
  /** Milliseconds before the first retry, doubled for each next one (with jitter); default 250. */
  retryDelay?: number;
  /** Longest wait between two tries, in milliseconds; default 8,000. */
  maxRetryDelay?: number;
  /** Most `eth_getLogs` in flight at once for one client; default 4. */
  concurrency?: number;
}

export const LOG_QUERY_DEFAULTS: Readonly<Required<LogQueryOptions>> = Object.freeze({
  pageSize: 1_000,
  maxAttempts: 5,
  retryDelay: 250,
  maxRetryDelay: 8_000,
  concurrency: 4,
});

/** An inclusive range of block numbers. */
export interface BlockSpan {
  fromBlock: number;
  toBlock: number;
}

/** What one query matches, apart from its blocks. */
export interface LogFilter {
  address: string;
  topics: TopicFilter;
}

/**
 * The first page of `fromBlock`..`toBlock`, at most `pageSize` blocks; `undefined` when the range
 * is empty (`fromBlock > toBlock`).
 */
export function nextPage(fromBlock: number, toBlock: number, pageSize: number): BlockSpan | undefined {
  if (fromBlock > toBlock) return undefined;
  return { fromBlock, toBlock: Math.min(toBlock, fromBlock + pageSize - 1) };
}

/**
 * The pages that cover `span` in order, each at most `pageSize` blocks, none overlapping.
 * @example pageRanges({ fromBlock: 0, toBlock: 2_499 }, 1_000) // 0-999, 1000-1999, 2000-2499
 */
export function pageRanges(span: BlockSpan, pageSize: number): BlockSpan[] {
  checkSpan("span", span);
  checkPositiveInteger("pageSize", pageSize);
  const pages: BlockSpan[] = [];
  for (let page = nextPage(span.fromBlock, span.toBlock, pageSize); page;) {
    pages.push(page);
    page = nextPage(page.toBlock + 1, span.toBlock, pageSize);
  }
  return pages;
}

/** `span` cut in two, the first half no shorter than the second; `undefined` for a single block. */
export function halves(span: BlockSpan): [BlockSpan, BlockSpan] | undefined {
  if (span.toBlock <= span.fromBlock) return undefined;
  const middle = span.fromBlock + Math.floor((span.toBlock - span.fromBlock) / 2);
  return [
    { fromBlock: span.fromBlock, toBlock: middle },
    { fromBlock: middle + 1, toBlock: span.toBlock },
  ];
}

/**
 * What to do about a failed `eth_getLogs`: `RangeTooLarge` and `ResultTooLarge` (the node refused
 * the size of the query: ask for less), `Transient` (try the same again later), `Permanent`.
 */
export type LogErrorKind = "RangeTooLarge" | "ResultTooLarge" | "Transient" | "Permanent";

// How nodes word "too many blocks" (Besu: "Requested range exceeds maximum RPC range limit") and
// "too many logs" ("query returned more than 10000 results", "Log response size exceeded").
const RESULT_TOO_LARGE =
  /more than \d+ (results|logs)|too many (results|logs)|response size|result set|(results|logs) (limit|exceed)/i;
const RANGE_TOO_LARGE = /\brange\b.*\b(exceed|limit|max|too)|\b(exceed|limit|max|too)\w*\b.*\brange\b|too many blocks/i;
const TRANSIENT_MESSAGE =
  /timed? ?out|rate limit|too many requests|limit exceeded|socket hang up|fetch failed|temporarily|unavailable/i;
const TRANSIENT_SOCKET_ERRORS = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);
/** ethers' codes for a request that may well succeed if sent again. */
const TRANSIENT_ETHERS_CODES = new Set(["TIMEOUT", "NETWORK_ERROR"]);
/** JSON-RPC "limit exceeded": Besu and hosted nodes shedding load, when not about range or results. */
const LIMIT_EXCEEDED = -32005;

/** Sorts a failed `eth_getLogs` by what to do about it (see `LogErrorKind`). */
export function classifyLogError(error: unknown): LogErrorKind {
  const failure = failureOf(error);
  if (failure.rpcCode !== undefined || failure.rpcMessage !== undefined) {
    const message = failure.rpcMessage ?? "";
    if (RESULT_TOO_LARGE.test(message)) return "ResultTooLarge";
    if (RANGE_TOO_LARGE.test(message)) return "RangeTooLarge";
    if (failure.rpcCode === LIMIT_EXCEEDED || TRANSIENT_MESSAGE.test(message)) return "Transient";
  }
  if (failure.status !== undefined && (failure.status === 408 || failure.status === 429 || failure.status >= 500)) {
    return "Transient";
  }
  if (failure.codes.some((code) => TRANSIENT_ETHERS_CODES.has(code) || TRANSIENT_SOCKET_ERRORS.has(code))) {
    return "Transient";
  }
  if (failure.rpcMessage === undefined && TRANSIENT_MESSAGE.test(failure.message)) return "Transient";
  return "Permanent";
}

/** The node's message for a failed request, or the transport's when the node said nothing. */
export function rpcMessageOf(error: unknown): string {
  const failure = failureOf(error);
  if (failure.rpcMessage !== undefined) {
    return failure.rpcCode !== undefined ? `${failure.rpcMessage} (code ${failure.rpcCode})` : failure.rpcMessage;
  }
  return failure.message;
}

/**
 * Reads logs and the blocks around them for one client, within the options' page size, retries
 * and concurrency. Internal to the SDK: `Events` uses it; its options come from the client's.
 */
export class LogReader {
  readonly #provider: () => Provider;
  readonly #options: Readonly<Required<LogQueryOptions>>;
  readonly #slots: Slots;
  /** Shrinks when a node refuses a page's range, so later pages do not ask again. */
  #pageSize: number;

  /**
   * @param provider where to read (a function: a client's provider is looked up when first used)
   * @param options page size, retries and concurrency; checked here
   */
  constructor(provider: () => Provider, options: LogQueryOptions = {}) {
    const merged = { ...LOG_QUERY_DEFAULTS, ...definedOnly(options) };
    for (const [name, value] of Object.entries(merged)) {
      if (name === "retryDelay" || name === "maxRetryDelay") checkNonNegativeInteger(`logQuery.${name}`, value);
      else checkPositiveInteger(`logQuery.${name}`, value);
    }
    this.#provider = provider;
    this.#options = Object.freeze(merged);
    this.#slots = new Slots(merged.concurrency);
    this.#pageSize = merged.pageSize;
  }

  /** The options in force, defaults filled in. */
  get options(): Readonly<Required<LogQueryOptions>> {
    return this.#options;
  }

  /** The page size now: the configured one, or less after a node refused a range. */
  get pageSize(): number {
    return this.#pageSize;
  }

  /**
   * Every log matching `filter` in `span`, oldest first, each once.
   * @param action what is read, for errors (e.g. `getLogs AccessRecorded`)
   * @throws LogQueryError when a page fails for good
   */
  async getLogs(action: string, filter: LogFilter, span: BlockSpan): Promise<Log[]> {
    checkSpan("range", span);
    const pages: { fromBlock: number; logs: Log[] }[] = [];
    let cursor = span.fromBlock;
    let failed = false;
    // Pages are cut as they are taken, so a page size lowered by a refusal applies to the rest.
    const take = (): BlockSpan | undefined => {
      const page = failed ? undefined : nextPage(cursor, span.toBlock, this.#pageSize);
      if (page !== undefined) cursor = page.toBlock + 1;
      return page;
    };
    const worker = async (): Promise<void> => {
      for (let page = take(); page !== undefined; page = take()) {
        try {
          pages.push({ fromBlock: page.fromBlock, logs: await this.#page(action, filter, page) });
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    const pageCount = Math.ceil((span.toBlock - span.fromBlock + 1) / this.#pageSize);
    await Promise.all(Array.from({ length: Math.min(this.#options.concurrency, Math.max(pageCount, 0)) }, worker));
    // Pages do not overlap and a node returns a page's logs in order: ordering the pages orders all.
    return pages.sort((a, b) => a.fromBlock - b.fromBlock).flatMap((page) => page.logs);
  }

  /**
   * Runs another read of the history (a block, the block number) with the same retries.
   * @throws the call's error as a `DataSafeError` when it fails for good
   */
  async read<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await pRetry(() => this.#slots.run(call), this.#retryOptions());
    } catch (error) {
      throw decodeRevert(error, action);
    }
  }

  /** One page, retried while the failure is transient and halved while the node calls it too large. */
  async #page(action: string, filter: LogFilter, page: BlockSpan): Promise<Log[]> {
    let attempts = 0;
    try {
      return await pRetry(() => {
        attempts++;
        return this.#slots.run(() =>
          this.#provider().getLogs({ ...filter, fromBlock: page.fromBlock, toBlock: page.toBlock }),
        );
      }, this.#retryOptions());
    } catch (error) {
      const kind = classifyLogError(error);
      const split = kind === "RangeTooLarge" || kind === "ResultTooLarge" ? halves(page) : undefined;
      if (split !== undefined) {
        // A range limit holds for every later page too; a result limit depends on how busy the blocks are.
        if (kind === "RangeTooLarge") this.#pageSize = Math.min(this.#pageSize, spanSize(split[0]));
        const [first, second] = await Promise.all(split.map((half) => this.#page(action, filter, half)));
        return [...first, ...second];
      }
      const reason: LogQueryFailure =
        kind === "Transient" ? "RetriesExhausted" : kind === "Permanent" ? "Rejected" : "TooLarge";
      throw new LogQueryError({
        action,
        fromBlock: page.fromBlock,
        toBlock: page.toBlock,
        reason,
        attempts,
        rpcMessage: rpcMessageOf(error),
        details: `address ${filter.address}, topics ${JSON.stringify(filter.topics)}`,
        cause: error,
      });
    }
  }

  #retryOptions() {
    const { maxAttempts, retryDelay, maxRetryDelay } = this.#options;
    return {
      retries: maxAttempts - 1,
      factor: 2,
      minTimeout: retryDelay,
      maxTimeout: maxRetryDelay,
      randomize: true,
      shouldRetry: ({ error }: { error: Error }) => classifyLogError(error) === "Transient",
    };
  }
}

/** At most `size` tasks running at once; the others wait their turn in order. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, or give it back.
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    }
  }
}

interface Failure {
  /** ethers' code and the socket's (`TIMEOUT`, `SERVER_ERROR`, `ECONNRESET`...), outermost first. */
  codes: string[];
  /** The HTTP status, when the node answered with one other than 200. */
  status: number | undefined;
  /** The JSON-RPC error's code and message, when the node answered with one. */
  rpcCode: number | undefined;
  rpcMessage: string | undefined;
  /** The outermost error's short message. */
  message: string;
}

/** What an error from ethers, node's HTTP client or a JSON-RPC node says, wherever it is nested. */
function failureOf(error: unknown): Failure {
  const failure: Failure = { codes: [], status: undefined, rpcCode: undefined, rpcMessage: undefined, message: "" };
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== "object" || value === null || seen.has(value) || depth > 6) return;
    seen.add(value);
    const v = value as Record<string, unknown>;
    if (typeof v.code === "string") failure.codes.push(v.code);
    if (typeof v.code === "number" && typeof v.message === "string" && failure.rpcCode === undefined) {
      failure.rpcCode = v.code;
      failure.rpcMessage = v.message;
    }
    const response = v.response as { statusCode?: unknown } | undefined;
    if (failure.status === undefined && typeof response?.statusCode === "number" && response.statusCode !== 200) {
      failure.status = response.statusCode;
    }
    const info = v.info as { responseStatus?: unknown } | undefined;
    const statusLine = typeof info?.responseStatus === "string" ? /^(\d{3})\b/.exec(info.responseStatus) : null;
    if (failure.status === undefined && statusLine !== null && statusLine[1] !== "200") {
      failure.status = Number(statusLine[1]);
    }
    if (failure.message === "") {
      const message = typeof v.shortMessage === "string" ? v.shortMessage : v.message;
      if (typeof message === "string") failure.message = message;
    }
    // ethers nests the node's error under `error` and `info.error`; node's fetch under `cause`.
    visit(v.error, depth + 1);
    visit(v.info, depth + 1);
    visit(v.cause, depth + 1);
  };
  visit(error, 0);
  if (failure.message === "") failure.message = String(error);
  return failure;
}

function spanSize(span: BlockSpan): number {
  return span.toBlock - span.fromBlock + 1;
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function checkSpan(field: string, span: BlockSpan): void {
  checkNonNegativeInteger(`${field}.fromBlock`, span.fromBlock);
  checkNonNegativeInteger(`${field}.toBlock`, span.toBlock);
}

function checkPositiveInteger(field: string, value: unknown): void {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new InvalidInputError(field, `expected a positive integer, got ${String(value)}`);
  }
}

function checkNonNegativeInteger(field: string, value: unknown): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidInputError(field, `expected a non-negative integer, got ${String(value)}`);
  }
}
