import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, statSync, truncateSync, writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import { type Provider, type Signer, SigningKey, getAddress, keccak256, toQuantity } from "ethers";

import type { ImportRow } from "./bulk-input.js";
import type { DataSafeClient } from "./client.js";
import { ContractRevertedError, DataSafeError, InvalidInputError, TransactionFailedError } from "./errors.js";
import { signRawTransaction } from "./raw-transaction.js";
import { decodeRevert } from "./revert.js";
import type { Address, Hex } from "./types.js";

/*
 * Bulk issuance at network speed: a department's rows (see bulk-input.ts) issued with
 * `issueAssets` batches sized by measured gas, signed locally with the department's key and sent
 * pipelined (local nonces, a bounded number in flight), idempotent and resumable:
 *
 * - Asset ids are content-addressed (`assetIdOf`), so `areIssued` tells which rows are on chain
 *   already, and the contract refuses an asset issued twice (`AssetAlreadyIssued`, the whole batch
 *   reverts): a re-run, a retried send or a concurrent run never duplicates an asset.
 * - Every transaction is signed before it is sent, so its hash is known even when the RPC call
 *   fails: after an error the import looks the hash up (receipt, pool) before sending the same
 *   signed bytes again, never a second transaction for the same rows at another nonce while the
 *   first may still land. A transaction the node refuses outright leaves its nonce to a zero-value
 *   filler, so the later nonces in flight do not stall behind a gap.
 * - A journal file (append-only JSONL, fsync'd after each line, written before each send) records
 *   the rows on chain before the import, each transaction signed (with its raw bytes) and its
 *   receipt. A killed import re-run with the same journal re-sends what was signed but never
 *   landed, waits for what is pending, then checks the chain and issues only what is missing.
 * - Rows the chain refuses (the catalog changed since the file was checked, a validity date
 *   passed) are isolated by `estimateGas` on halves of the reverted batch and reported, not retried.
 */

/** A transaction's gas cap by default: 2^24, EIP-7825's per-transaction limit (Osaka). */
export const DEFAULT_MAX_GAS_PER_TRANSACTION = 16_777_216;
/** Default calldata cap per transaction: under the 128 KiB most clients' pools accept. */
export const DEFAULT_MAX_CALLDATA_BYTES = 120_000;

/** How `importAssets` sends. Every option has a default. */
export interface ImportOptions {
  /**
   * Journal file (created if absent): makes the import resumable after a crash or kill. Re-run
   * with the same rows and journal to finish; a journal of other rows, another department, chain
   * or contract is refused (`ImportJournalError`). Without it an interrupted import is still
   * idempotent (a re-run skips what is on chain) but cannot re-send what it had signed.
   */
  journal?: string;
  /** Gas limit of one transaction (default 2^24), lowered to the block gas limit. */
  maxGasPerTransaction?: number;
  /** Assets per transaction at most (default: as many as the gas and calldata caps allow). */
  maxBatchSize?: number;
  /** Calldata bytes of one transaction at most (default 120,000). */
  maxCalldataBytes?: number;
  /** Transactions sent and not yet mined at once (default 8). */
  maxInFlight?: number;
  /** Attempts of one RPC call before the import gives up on it (default 8). */
  retries?: number;
  /** How long a sent transaction may stay unmined before the round ends without it (default 120 s). */
  receiptTimeoutMs?: number;
  /** Interval of receipt polling (default 100 ms). */
  pollIntervalMs?: number;
  /** Rounds of send-then-check before unissued rows make the import fail (default 5). */
  maxRounds?: number;
  /** Fee fields of every transaction; default from the node (`getFeeData`). */
  fees?: { gasPrice: bigint } | { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
  /** Called after the initial check and after each mined transaction (for a progress bar). */
  onProgress?: (progress: ImportProgress) => void;
  /** Stops sending; the transactions in flight are awaited and journaled, then `ImportIncompleteError`. */
  signal?: AbortSignal;
}

/** Where an import stands. `done` counts issued, already issued and refused rows. */
export interface ImportProgress {
  done: number;
  total: number;
  issued: number;
  alreadyIssued: number;
  refused: number;
  transactions: number;
}

/** A row the chain refused, and why (the contract's error). */
export interface RefusedRow {
  /** The row's line in the file. */
  row: number;
  assetId: Hex;
  reason: string;
}

/** What an import did, over every run of it (a resumed import counts its earlier runs too). */
export interface ImportReport {
  total: number;
  /** Rows issued by this import. */
  issued: number;
  /** Rows that were on chain before the import started (an earlier import of them, another tool). */
  alreadyIssued: number;
  refused: RefusedRow[];
  /** `issueAssets` transactions mined (reverted ones included). */
  transactions: number;
  /** Gas used by those transactions. */
  gasUsed: bigint;
  /** The largest batch sent (assets in one transaction). */
  batchSize: number;
  /** The in-flight bound used. */
  maxInFlight: number;
  /** Measured gas of one `issueAssets` transaction: `base + perAsset × assets`. */
  gasModel: { base: number; perAsset: number } | undefined;
  /** Whether a journal of an earlier run was continued. */
  resumed: boolean;
  /** Wall-clock time of this run. */
  elapsedMs: number;
}

/** An import stopped before every row was issued or refused: `report` says how far it got. */
export class ImportIncompleteError extends DataSafeError {
  /** `aborted`: the signal fired; `failed`: sending failed for good (see `cause`). */
  readonly reason: "aborted" | "failed";
  readonly report: ImportReport;
  /** Rows neither issued nor refused. */
  readonly remaining: number;

  constructor(reason: "aborted" | "failed", report: ImportReport, options: { details?: string; cause?: unknown } = {}) {
    const remaining = report.total - report.issued - report.alreadyIssued - report.refused.length;
    super(`import ${reason} with ${remaining} of ${report.total} rows not issued; run it again to finish`, options);
    this.name = "ImportIncompleteError";
    this.reason = reason;
    this.report = report;
    this.remaining = remaining;
  }
}

/** The journal file is unreadable or belongs to another import. */
export class ImportJournalError extends DataSafeError {
  readonly path: string;

  constructor(path: string, shortMessage: string, options: { details?: string; cause?: unknown } = {}) {
    super(`${path}: ${shortMessage}`, options);
    this.name = "ImportJournalError";
    this.path = path;
  }
}

/**
 * Issues `rows` (from `readImportFile`) as the client's department: batches sized by measured gas,
 * pipelined, retried without duplicating, resumable from `options.journal`. Rows already on chain
 * are skipped; rows the chain refuses are reported.
 * @param department a client connected to the department's signer; it must sign locally (an ethers
 * `Wallet`, e.g. from an encrypted JSON keystore), so each transaction's hash is known before it is sent
 * @returns the report: issued, already issued, refused rows, transactions and gas
 * @throws ImportIncompleteError if aborted or if sending failed for good (the report says how far it got);
 * ImportJournalError if the journal is another import's
 * @example
 * const department = safe.connect(await Wallet.fromEncryptedJson(keystore, password, provider));
 * const rows = await readImportFile("returns.csv", department);
 * const report = await importAssets(department, rows, {
 *   journal: "returns.csv.journal",
 *   onProgress: ({ done, total }) => bar.update(done / total),
 * });
 * console.log(`${report.issued} issued, ${report.alreadyIssued} already issued, ${report.refused.length} refused`);
 */
export async function importAssets(
  department: DataSafeClient,
  rows: readonly ImportRow[],
  options: ImportOptions = {},
): Promise<ImportReport> {
  const run = await ImportRun.open(department, rows, options);
  try {
    return await run.execute();
  } finally {
    run.close();
  }
}

/**
 * The calldata of `issueAssets(rows)`, encoded directly: `NewAsset` is a static tuple, so the
 * array is its length then five words per asset (the same bytes as the ABI coder, much faster).
 */
export function issueAssetsCalldata(selector: string, rows: readonly ImportRow[]): Hex {
  const words: string[] = [selector, word(32), word(rows.length)];
  for (const r of rows) {
    words.push(
      r.subjectId.slice(2),
      word(r.dataType),
      r.contentCommitment.slice(2),
      r.payloadPointer.slice(2),
      word(r.validUntil),
    );
  }
  return words.join("");
}

function word(value: number): string {
  return value.toString(16).padStart(64, "0");
}

// ---------------------------------------------------------------------------------------------

/** A signed `issueAssets` (or filler) transaction. */
interface SignedTransaction {
  nonce: number;
  hash: Hex;
  raw: Hex;
  /** Indices into the import's rows; empty for a filler. */
  rows: number[];
}

/** How a sent transaction ended. */
type Outcome =
  | { kind: "mined"; status: number; gasUsed?: bigint; issued?: number[] }
  | { kind: "dropped"; reason: string; nonceFree: boolean }
  | { kind: "unsettled" };

type JournalRecord =
  | { type: "import"; version: 1; chainId: string; dataSafe: Address; issuer: Address; rows: number; digest: Hex }
  | { type: "preexisting"; rows: number[] }
  | { type: "sent"; nonce: number; hash: Hex; rows: number[]; raw: Hex }
  | { type: "mined"; hash: Hex; status: number; gasUsed?: string }
  | { type: "gas"; block: number; gasUsed: string }
  | { type: "dropped"; hash: Hex; reason: string }
  | { type: "refused"; row: number; reason: string };

const AREISSUED_CHUNK = 2_000;
/** Gas allowed for the issuer re-check `issueAssets` makes where the data type changes in a batch. */
const TYPE_SWITCH_GAS = 30_000;
/** Headroom over the measured model in each transaction's gas limit. */
const GAS_HEADROOM = 1.2;

/** One import, with its state and journal. */
class ImportRun {
  readonly #department: DataSafeClient;
  readonly #rows: readonly ImportRow[];
  readonly #options: Required<
    Pick<
      ImportOptions,
      "maxInFlight" | "retries" | "receiptTimeoutMs" | "pollIntervalMs" | "maxRounds" | "maxCalldataBytes"
    >
  > &
    ImportOptions;
  readonly #signer: Signer;
  readonly #provider: Provider;
  readonly #issuer: Address;
  readonly #chainId: bigint;
  readonly #journal: Journal | undefined;
  readonly #indexOfRow = new Map<number, number>();
  readonly #started = Date.now();
  readonly #selector: string;

  // State over every run of the import.
  #preexisting: Set<number> | undefined;
  readonly #issued = new Set<number>();
  readonly #refused = new Map<number, string>();
  /** Rows of a transaction that reverted: checked for refusals before they are sent again. */
  readonly #suspects = new Set<number>();
  /** Signed transactions whose fate is not known yet (from the journal of a killed run). */
  readonly #unsettled = new Map<Hex, SignedTransaction>();
  #transactions = 0;
  #gasUsed = 0n;
  /** Hashes of every transaction this import signed. */
  readonly #signed = new Set<Hex>();
  /** Block each of them was seen mined in (by `#scanBlocks`). */
  readonly #minedIn = new Map<Hex, number>();
  /** The next block `#scanBlocks` reads. */
  #nextBlock: number | undefined;
  #scanning: Promise<void> | undefined;
  #batchSize = 0;
  #gasModel: { base: number; perAsset: number } | undefined;
  #resumed = false;
  #fees: NonNullable<ImportOptions["fees"]> | undefined;
  #fatal: unknown;

  private constructor(
    department: DataSafeClient,
    rows: readonly ImportRow[],
    options: ImportOptions,
    context: { signer: Signer; provider: Provider; issuer: Address; chainId: bigint; journal: Journal | undefined },
  ) {
    this.#department = department;
    this.#rows = rows;
    this.#options = {
      maxInFlight: 8,
      retries: 8,
      receiptTimeoutMs: 120_000,
      pollIntervalMs: 100,
      maxRounds: 5,
      maxCalldataBytes: DEFAULT_MAX_CALLDATA_BYTES,
      ...definedOnly(options),
    };
    this.#signer = context.signer;
    this.#provider = context.provider;
    this.#issuer = context.issuer;
    this.#chainId = context.chainId;
    this.#journal = context.journal;
    this.#selector = department.contracts.dataSafe.interface.getFunction("issueAssets")!.selector;
    rows.forEach((r, i) => this.#indexOfRow.set(r.row, i));
  }

  static async open(
    department: DataSafeClient,
    rows: readonly ImportRow[],
    options: ImportOptions,
  ): Promise<ImportRun> {
    checkOptions(options);
    const signer = department.runner as Signer;
    if (typeof signer.signTransaction !== "function" || typeof signer.getAddress !== "function") {
      throw new DataSafeError("importing needs the department's signer", {
        details: "connect the client to a Signer that signs locally (an ethers Wallet): safe.connect(wallet)",
      });
    }
    const provider = signer.provider;
    if (provider === null) throw new DataSafeError("the department's signer has no provider");
    const issuer = getAddress(await signer.getAddress());
    const chainId = (await provider.getNetwork()).chainId;
    const seen = new Set<number>();
    for (const r of rows) {
      if (seen.has(r.row)) throw new InvalidInputError("rows", `row ${r.row} is given twice`);
      seen.add(r.row);
    }
    const header: JournalRecord = {
      type: "import",
      version: 1,
      chainId: chainId.toString(),
      dataSafe: getAddress(department.address),
      issuer,
      rows: rows.length,
      digest: digestOf(rows),
    };
    const journal = options.journal === undefined ? undefined : Journal.open(options.journal, header);
    const run = new ImportRun(department, rows, options, { signer, provider, issuer, chainId, journal });
    if (journal !== undefined) run.#replay(journal.previous);
    return run;
  }

  close(): void {
    this.#journal?.close();
  }

  async execute(): Promise<ImportReport> {
    const { signal } = this.#options;
    await this.#settleJournalled();
    if (this.#preexisting === undefined) {
      const onChain = await this.#areIssued(this.#rows.map((_, i) => i));
      this.#preexisting = new Set(onChain);
      this.#journal?.append({ type: "preexisting", rows: onChain.map((i) => this.#rows[i].row) });
    }
    this.#progress();

    let checked = this.#unsettled.size === 0 && this.#transactions === 0;
    for (let round = 1; ; round++) {
      let pending = this.#pending();
      if (pending.length > 0 && !checked) {
        for (const i of await this.#areIssued(pending)) this.#issued.add(i);
        pending = this.#pending();
      }
      checked = false;
      if (pending.length > 0 && this.#suspects.size > 0) {
        const suspects = pending.filter((i) => this.#suspects.has(i));
        await this.#isolateRefusals(suspects);
        this.#suspects.clear();
        pending = this.#pending();
        // Reverted rows the chain accepts one by one ran out of gas: the model was short; widen it.
        const left = new Set(pending);
        if (this.#gasModel !== undefined && suspects.some((i) => left.has(i))) {
          const { base, perAsset } = this.#gasModel;
          this.#gasModel = { base: Math.ceil(base * 1.25), perAsset: Math.ceil(perAsset * 1.25) };
        }
      }
      this.#progress();
      if (pending.length === 0) break;
      if (signal?.aborted) throw new ImportIncompleteError("aborted", this.#report(), { cause: signal.reason });
      if (round > this.#options.maxRounds) {
        throw new ImportIncompleteError("failed", this.#report(), {
          details: `${pending.length} rows still unissued after ${this.#options.maxRounds} rounds`,
          cause: this.#fatal,
        });
      }
      await this.#sendRound(pending);
      if (this.#fatal !== undefined) {
        throw new ImportIncompleteError("failed", this.#report(), { cause: this.#fatal });
      }
    }
    return this.#report();
  }

  // -- sending ---------------------------------------------------------------------------------

  async #sendRound(pending: number[]): Promise<void> {
    const model = (this.#gasModel ??= await this.#measure(pending));
    const cap = await this.#gasCap();
    this.#fees ??= this.#options.fees ?? (await this.#feesFromNode());
    const batches = this.#pack(pending, model, cap);
    let nonce = await this.#retrying(() => this.#provider.getTransactionCount(this.#issuer, "pending"));
    this.#nextBlock ??= (await this.#retrying(() => this.#provider.getBlockNumber())) + 1;
    const inFlight = new Set<Promise<void>>();
    for (const batch of batches) {
      if (this.#options.signal?.aborted || this.#fatal !== undefined) break;
      while (inFlight.size >= this.#options.maxInFlight) await Promise.race(inFlight);
      if (this.#options.signal?.aborted || this.#fatal !== undefined) break;
      const tx = await this.#sign(batch.rows, nonce++, batch.gasLimit);
      this.#batchSize = Math.max(this.#batchSize, batch.rows.length);
      const landing: Promise<void> = this.#land(tx).finally(() => inFlight.delete(landing));
      inFlight.add(landing);
    }
    await Promise.all(inFlight);
  }

  /** Sends a signed transaction and follows it to its end; records what happened. */
  async #land(tx: SignedTransaction): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.#follow(tx);
    } catch (error) {
      this.#fatal ??= error;
      return;
    }
    this.#record(tx, outcome);
    if (outcome.kind === "dropped" && outcome.nonceFree) {
      // Refused outright: its nonce is still free and the transactions after it wait on it.
      const filler = await this.#signFiller(tx.nonce);
      try {
        const fill = await this.#follow(filler);
        if (fill.kind === "dropped" && fill.nonceFree) {
          this.#fatal ??= new TransactionFailedError("issueAssets", { details: `nonce ${tx.nonce}: ${fill.reason}` });
        }
      } catch (error) {
        this.#fatal ??= error;
      }
    }
  }

  /**
   * Broadcasts (again, if the journal says it was signed before) and waits until it is mined: by
   * following blocks for this run's transactions, by their receipts for an earlier run's.
   */
  async #follow(tx: SignedTransaction, byReceipt = false): Promise<Outcome> {
    const sent = await this.#broadcast(tx);
    if (sent !== undefined) return sent;
    return byReceipt ? this.#awaitReceipt(tx) : this.#awaitBlock(tx);
  }

  /**
   * Waits for the block that includes `tx`, then asks the chain which of its rows are issued.
   * Receipts are not read: a receipt of a 400-asset batch carries 400 logs, which costs the node as
   * much to serve as the transaction cost to mine. Blocks (hashes only) and `areIssued` are small.
   */
  async #awaitBlock(tx: SignedTransaction): Promise<Outcome> {
    const deadline = Date.now() + this.#options.receiptTimeoutMs;
    for (let polls = 1; ; polls++) {
      await this.#scanBlocks().catch(() => undefined); // a failed poll is retried at the next interval
      if (this.#minedIn.has(tx.hash)) {
        if (tx.rows.length === 0) return { kind: "mined", status: 1 };
        const issued = await this.#areIssued(tx.rows);
        return { kind: "mined", status: issued.length === tx.rows.length ? 1 : 0, issued };
      }
      // A transaction neither mined nor in the pool for a while was dropped (pool restart, replaced).
      if (polls % 50 === 0 && !(await this.#known(tx.hash))) {
        return { kind: "dropped", reason: "no longer in the node's pool", nonceFree: false };
      }
      if (Date.now() > deadline) return { kind: "unsettled" };
      await sleep(this.#options.pollIntervalMs);
    }
  }

  /** Reads the blocks mined since the last call (one reader at a time): which of ours they hold, and their gas. */
  async #scanBlocks(): Promise<void> {
    this.#scanning ??= this.#scanOnce().finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  async #scanOnce(): Promise<void> {
    const latest = Number(await this.#rpc("eth_blockNumber", []));
    while (this.#nextBlock !== undefined && this.#nextBlock <= latest) {
      const numbers: number[] = [];
      for (let n = this.#nextBlock; n <= latest && numbers.length < 16; n++) numbers.push(n);
      const blocks = (await Promise.all(
        numbers.map((n) => this.#rpc("eth_getBlockByNumber", [toQuantity(n), false])),
      )) as ({ transactions: Hex[]; gasUsed: string } | null)[];
      for (const [k, block] of blocks.entries()) {
        if (block === null) throw new DataSafeError(`the node has no block ${numbers[k]} yet`);
        const ours = block.transactions.filter((h) => this.#signed.has(h));
        if (ours.length === 0) continue;
        // A block of ours alone: its gas is ours. Otherwise our transactions' receipts say.
        let gas = BigInt(block.gasUsed);
        if (ours.length < block.transactions.length) {
          const receipts = (await Promise.all(ours.map((h) => this.#rpc("eth_getTransactionReceipt", [h])))) as {
            gasUsed: string;
          }[];
          gas = receipts.reduce((sum, r) => sum + BigInt(r.gasUsed), 0n);
        }
        this.#gasUsed += gas;
        this.#journal?.append({ type: "gas", block: numbers[k], gasUsed: gas.toString() });
        for (const h of ours) this.#minedIn.set(h, numbers[k]);
      }
      this.#nextBlock = numbers.at(-1)! + 1;
    }
  }

  /**
   * Sends the signed bytes; after an error, looks the hash up before sending them again, so a send
   * that reached the node despite the error is never taken for a lost one.
   * @returns an outcome if the transaction will never be mined, else undefined
   */
  async #broadcast(tx: SignedTransaction): Promise<Outcome | undefined> {
    let lastError: unknown;
    let failures = 0;
    const deadline = Date.now() + this.#options.receiptTimeoutMs;
    for (;;) {
      try {
        await this.#rpc("eth_sendRawTransaction", [tx.raw]);
        return undefined;
      } catch (error) {
        lastError = error;
      }
      if (await this.#known(tx.hash)) return undefined;
      const kind = classifySendError(lastError);
      if (kind === "alreadyKnown") return undefined;
      if (kind === "nonceUsed") {
        return { kind: "dropped", reason: `nonce ${tx.nonce} already used: ${messageOf(lastError)}`, nonceFree: false };
      }
      if (kind === "refused") return { kind: "dropped", reason: messageOf(lastError), nonceFree: true };
      if (kind === "nonceAhead") {
        // A node that does not queue (Hardhat automining) got it before its predecessor: wait for that.
        if (Date.now() > deadline) break;
        await sleep(20);
        continue;
      }
      if (++failures >= this.#options.retries) break;
      await sleep(backoff(failures - 1, 100));
    }
    if (await this.#known(tx.hash)) return undefined;
    throw new TransactionFailedError("issueAssets", {
      hash: tx.hash,
      details: `sending nonce ${tx.nonce} failed: ${messageOf(lastError)}`,
      cause: lastError,
    });
  }

  async #awaitReceipt(tx: SignedTransaction): Promise<Outcome> {
    const deadline = Date.now() + this.#options.receiptTimeoutMs;
    let missing = 0;
    for (;;) {
      const receipt = (await this.#rpc("eth_getTransactionReceipt", [tx.hash]).catch(
        () => null, // a failed poll is retried at the next interval
      )) as { status: string; gasUsed: string } | null;
      if (receipt !== null) return { kind: "mined", status: Number(receipt.status), gasUsed: BigInt(receipt.gasUsed) };
      // A transaction neither mined nor in the pool for a while was dropped (pool restart, replaced).
      if (++missing % 20 === 0 && !(await this.#known(tx.hash))) {
        return { kind: "dropped", reason: "no longer in the node's pool", nonceFree: false };
      }
      if (Date.now() > deadline) return { kind: "unsettled" };
      await sleep(this.#options.pollIntervalMs);
    }
  }

  /** Whether the node has the transaction (mined or pending); an unanswered look-up counts as no. */
  async #known(hash: Hex): Promise<boolean> {
    try {
      const [receipt, pending] = await Promise.all([
        this.#rpc("eth_getTransactionReceipt", [hash]),
        this.#rpc("eth_getTransactionByHash", [hash]),
      ]);
      return receipt !== null || pending !== null;
    } catch {
      return false;
    }
  }

  #record(tx: SignedTransaction, outcome: Outcome): void {
    if (outcome.kind === "mined") {
      this.#journal?.append({
        type: "mined",
        hash: tx.hash,
        status: outcome.status,
        ...(outcome.gasUsed === undefined ? {} : { gasUsed: outcome.gasUsed.toString() }),
      });
      this.#unsettled.delete(tx.hash);
      this.#applyMined(tx.rows, outcome.status, outcome.gasUsed ?? 0n, outcome.issued);
      this.#progress();
    } else if (outcome.kind === "dropped") {
      this.#journal?.append({ type: "dropped", hash: tx.hash, reason: outcome.reason });
      this.#unsettled.delete(tx.hash);
    }
    // Unsettled: the next round's check of the chain decides its rows.
  }

  /** A mined transaction's rows: issued, or suspects to check for refusals before they are sent again. */
  #applyMined(rows: number[], status: number, gasUsed: bigint, issued?: number[]): void {
    if (rows.length === 0) return; // a filler
    this.#transactions++;
    this.#gasUsed += gasUsed;
    const onChain = new Set(status === 1 ? rows : (issued ?? []));
    for (const i of rows) (onChain.has(i) ? this.#issued : this.#suspects).add(i);
  }

  async #sign(rows: number[], nonce: number, gasLimit: number): Promise<SignedTransaction> {
    const data = issueAssetsCalldata(
      this.#selector,
      rows.map((i) => this.#rows[i]),
    );
    return this.#signAndJournal({ to: this.#department.address, data, gasLimit, nonce }, rows);
  }

  async #signFiller(nonce: number): Promise<SignedTransaction> {
    return this.#signAndJournal({ to: this.#issuer, data: "0x", gasLimit: 21_000, nonce }, []);
  }

  async #signAndJournal(
    fields: { to: Address; data: Hex; gasLimit: number; nonce: number },
    rows: number[],
  ): Promise<SignedTransaction> {
    const fees = this.#fees!;
    const key = (this.#signer as { signingKey?: SigningKey }).signingKey;
    // A local key (an ethers Wallet) signs through the byte-level path, five times faster on large
    // batches; any other signer through its own signTransaction.
    const { raw, hash } =
      key instanceof SigningKey
        ? signRawTransaction(key, {
            ...fields,
            chainId: this.#chainId,
            data: Buffer.from(fields.data.slice(2), "hex"),
            fees,
          })
        : await this.#signer
            .signTransaction({
              ...fields,
              from: this.#issuer,
              chainId: this.#chainId,
              value: 0n,
              ...fees,
              type: "gasPrice" in fees ? 0 : 2,
            })
            .then((signed) => ({ raw: signed, hash: keccak256(signed) }));
    const tx = { nonce: fields.nonce, hash, raw, rows };
    this.#signed.add(hash);
    // Written (and synced) before the send: a kill after it leaves the journal knowing the hash.
    this.#journal?.append({
      type: "sent",
      nonce: tx.nonce,
      hash: tx.hash,
      rows: rows.map((i) => this.#rows[i].row),
      raw,
    });
    this.#unsettled.set(tx.hash, tx);
    return tx;
  }

  // -- sizing ----------------------------------------------------------------------------------

  /** Gas of `issueAssets` with one asset and with several, from `estimateGas`: a line through both. */
  async #measure(pending: number[]): Promise<{ base: number; perAsset: number }> {
    const sample = pending.slice(0, Math.min(8, pending.length));
    const estimate = (indices: number[]) =>
      this.#retrying(() =>
        this.#provider.estimateGas({
          from: this.#issuer,
          to: this.#department.address,
          data: issueAssetsCalldata(
            this.#selector,
            indices.map((i) => this.#rows[i]),
          ),
        }),
      ).then(Number);
    try {
      const one = await estimate(sample.slice(0, 1));
      if (sample.length === 1) return { base: Math.round(one / 2), perAsset: Math.round(one / 2) };
      const many = await estimate(sample);
      const perAsset = Math.ceil((many - one) / (sample.length - 1));
      return { base: Math.max(0, one - perAsset), perAsset };
    } catch {
      // A sample row the chain refuses: a conservative model; the reverted batch is then bisected.
      return { base: 100_000, perAsset: 60_000 };
    }
  }

  async #gasCap(): Promise<number> {
    const block = await this.#retrying(() => this.#provider.getBlock("latest"));
    const blockLimit = block === null ? Number.MAX_SAFE_INTEGER : Number(block.gasLimit);
    return Math.min(this.#options.maxGasPerTransaction ?? DEFAULT_MAX_GAS_PER_TRANSACTION, blockLimit);
  }

  /** Rows in batches of one data type run where possible, each within the gas and calldata caps. */
  #pack(pending: number[], model: { base: number; perAsset: number }, cap: number) {
    const byType = [...pending].sort((a, b) => this.#rows[a].dataType - this.#rows[b].dataType || a - b);
    const maxByCalldata = Math.floor((this.#options.maxCalldataBytes - 4 - 64) / 160);
    const maxBatch = Math.min(this.#options.maxBatchSize ?? Number.MAX_SAFE_INTEGER, maxByCalldata);
    const batches: { rows: number[]; gasLimit: number }[] = [];
    let current: number[] = [];
    let gas = 0;
    const close = () => {
      if (current.length > 0) batches.push({ rows: current, gasLimit: Math.min(cap, Math.ceil(gas * GAS_HEADROOM)) });
      current = [];
      gas = 0;
    };
    for (const i of byType) {
      const switching = current.length > 0 && this.#rows[current.at(-1)!].dataType !== this.#rows[i].dataType;
      const added = model.perAsset + (switching ? TYPE_SWITCH_GAS : 0);
      if (current.length > 0 && (current.length >= maxBatch || (gas + added) * GAS_HEADROOM > cap)) close();
      gas = current.length === 0 ? model.base + model.perAsset : gas + added;
      current.push(i);
    }
    close();
    return batches;
  }

  async #feesFromNode(): Promise<NonNullable<ImportOptions["fees"]>> {
    const fee = await this.#retrying(() => this.#provider.getFeeData());
    if (fee.maxFeePerGas !== null && fee.maxPriorityFeePerGas !== null) {
      return { maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas };
    }
    return { gasPrice: fee.gasPrice ?? 0n };
  }

  // -- checking --------------------------------------------------------------------------------

  /** The indices among `indices` whose assets the chain has. */
  async #areIssued(indices: number[]): Promise<number[]> {
    const chunks: number[][] = [];
    for (let i = 0; i < indices.length; i += AREISSUED_CHUNK) chunks.push(indices.slice(i, i + AREISSUED_CHUNK));
    const found: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++];
        const issued = await this.#retrying(() =>
          this.#department.assets.areIssued(chunk.map((i) => this.#rows[i].assetId)),
        );
        chunk.forEach((index, k) => issued[k] && found.push(index));
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, chunks.length) }, worker));
    return found.sort((a, b) => a - b);
  }

  /**
   * Finds the rows of reverted batches that the chain refuses: an error naming a data type refuses
   * every row of it, one naming an asset that row; otherwise the rows are halved until each
   * refused row is alone (`estimateGas` simulates without sending).
   */
  async #isolateRefusals(indices: number[]): Promise<void> {
    if (indices.length === 0) return;
    const reason = await this.#simulate(indices);
    if (reason === undefined) return;
    if (reason instanceof ContractRevertedError) {
      const args = reason.args as Record<string, unknown>;
      if (reason.errorName === "MemberNotPermitted") {
        this.#fatal ??= reason;
        return;
      }
      if (reason.errorName === "AssetAlreadyIssued") {
        const i = this.#indexOfAsset(args.assetId as string);
        if (i !== undefined) {
          this.#issued.add(i);
          return this.#isolateRefusals(indices.filter((k) => k !== i));
        }
      }
      if (reason.errorName === "IssuerNotAuthorised" || reason.errorName === "DataTypeNotDefined") {
        const type = Number(args.dataType);
        const ofType = indices.filter((i) => this.#rows[i].dataType === type);
        if (ofType.length > 0) {
          for (const i of ofType) this.#refuse(i, describe(reason));
          return this.#isolateRefusals(indices.filter((i) => this.#rows[i].dataType !== type));
        }
      }
    }
    if (indices.length === 1) {
      this.#refuse(indices[0], describe(reason));
      return;
    }
    const half = Math.ceil(indices.length / 2);
    await this.#isolateRefusals(indices.slice(0, half));
    await this.#isolateRefusals(indices.slice(half));
  }

  /** The revert `issueAssets(rows)` would end in now, or undefined if it would succeed. */
  async #simulate(indices: number[]): Promise<DataSafeError | undefined> {
    const data = issueAssetsCalldata(
      this.#selector,
      indices.map((i) => this.#rows[i]),
    );
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#provider.estimateGas({ from: this.#issuer, to: this.#department.address, data });
        return undefined;
      } catch (error) {
        const decoded = decodeRevert(error, "issueAssets");
        if (!(decoded instanceof TransactionFailedError)) return decoded;
        if (attempt + 1 >= this.#options.retries) throw decoded;
        await sleep(backoff(attempt, 100));
      }
    }
  }

  #refuse(index: number, reason: string): void {
    this.#refused.set(index, reason);
    this.#journal?.append({ type: "refused", row: this.#rows[index].row, reason });
  }

  #indexOfAsset(assetId: string): number | undefined {
    const id = assetId.toLowerCase();
    const i = this.#rows.findIndex((r) => r.assetId === id);
    return i < 0 ? undefined : i;
  }

  // -- resuming --------------------------------------------------------------------------------

  #replay(records: JournalRecord[]): void {
    const sent = new Map<Hex, SignedTransaction>();
    const toIndices = (rows: number[]) => rows.map((r) => this.#indexOfRow.get(r)).filter((i) => i !== undefined);
    for (const record of records) {
      this.#resumed = true;
      switch (record.type) {
        case "preexisting":
          this.#preexisting = new Set(toIndices(record.rows));
          break;
        case "sent":
          sent.set(record.hash, {
            nonce: record.nonce,
            hash: record.hash,
            raw: record.raw,
            rows: toIndices(record.rows),
          });
          break;
        case "mined": {
          const tx = sent.get(record.hash);
          sent.delete(record.hash);
          if (tx !== undefined) this.#applyMined(tx.rows, record.status, BigInt(record.gasUsed ?? 0));
          break;
        }
        case "dropped":
          sent.delete(record.hash);
          break;
        case "gas":
          this.#gasUsed += BigInt(record.gasUsed);
          break;
        case "refused": {
          const i = this.#indexOfRow.get(record.row);
          if (i !== undefined) this.#refused.set(i, record.reason);
          break;
        }
        case "import":
          break;
      }
    }
    for (const [hash, tx] of sent) this.#unsettled.set(hash, tx);
  }

  /**
   * Follows the transactions a killed run signed but never saw mined: the node may hold them, may
   * have mined them, or never got them; their signed bytes are sent again (same nonce, same hash:
   * at most one of them can ever land), which also fills any nonce gap they left.
   */
  async #settleJournalled(): Promise<void> {
    if (this.#unsettled.size === 0) return;
    const mined = await this.#retrying(() => this.#provider.getTransactionCount(this.#issuer, "latest"));
    const ordered = [...this.#unsettled.values()].sort((a, b) => a.nonce - b.nonce);
    const outcomes = await Promise.all(
      ordered.map(async (tx) => {
        if (tx.nonce < mined && !(await this.#known(tx.hash))) {
          return { tx, outcome: { kind: "dropped", reason: "nonce used by another transaction", nonceFree: false } };
        }
        return { tx, outcome: await this.#follow(tx, true) };
      }),
    );
    for (const { tx, outcome } of outcomes) this.#record(tx, outcome as Outcome);
  }

  // -- reporting -------------------------------------------------------------------------------

  #pending(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#rows.length; i++) {
      if (!this.#preexisting?.has(i) && !this.#issued.has(i) && !this.#refused.has(i)) out.push(i);
    }
    return out;
  }

  #counts() {
    let issued = 0;
    for (const i of this.#issued) if (!this.#preexisting?.has(i)) issued++;
    return { issued, alreadyIssued: this.#preexisting?.size ?? 0, refused: this.#refused.size };
  }

  #progress(): void {
    const counts = this.#counts();
    this.#options.onProgress?.({
      done: counts.issued + counts.alreadyIssued + counts.refused,
      total: this.#rows.length,
      ...counts,
      transactions: this.#transactions,
    });
  }

  #report(): ImportReport {
    const counts = this.#counts();
    return {
      total: this.#rows.length,
      issued: counts.issued,
      alreadyIssued: counts.alreadyIssued,
      refused: [...this.#refused]
        .sort(([a], [b]) => a - b)
        .map(([i, reason]) => ({ row: this.#rows[i].row, assetId: this.#rows[i].assetId, reason })),
      transactions: this.#transactions,
      gasUsed: this.#gasUsed,
      batchSize: this.#batchSize,
      maxInFlight: this.#options.maxInFlight,
      gasModel: this.#gasModel,
      resumed: this.#resumed,
      elapsedMs: Date.now() - this.#started,
    };
  }

  // -- transport -------------------------------------------------------------------------------

  async #rpc(method: string, params: unknown[]): Promise<unknown> {
    const provider = this.#provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> };
    if (typeof provider.send !== "function") {
      throw new DataSafeError("importing needs a JSON-RPC provider (JsonRpcProvider)");
    }
    return provider.send(method, params);
  }

  /** Runs a read, retrying transport failures with backoff; a revert is not retried. */
  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const kind = classifySendError(error);
        if (kind !== "transient" || attempt + 1 >= this.#options.retries) throw error;
        await sleep(backoff(attempt, 100));
      }
    }
  }
}

/** The journal: append-only JSONL, each line synced before the call returns. */
class Journal {
  readonly previous: JournalRecord[];
  #fd: number | undefined;

  private constructor(fd: number, previous: JournalRecord[]) {
    this.#fd = fd;
    this.previous = previous;
  }

  static open(file: string, header: Extract<JournalRecord, { type: "import" }>): Journal {
    let previous: JournalRecord[] = [];
    let fresh = true;
    if (existsSync(file)) {
      const lines = readFileSync(file, "utf8").split("\n");
      // A kill can cut the last line short; every earlier line was synced whole.
      const whole = lines.slice(0, -1).filter((l) => l.trim() !== "");
      try {
        previous = whole.map((l) => JSON.parse(l) as JournalRecord);
      } catch (error) {
        throw new ImportJournalError(file, "is not an import journal (a line is not JSON)", { cause: error });
      }
      const first = previous[0];
      if (first !== undefined) {
        if (first.type !== "import") throw new ImportJournalError(file, "is not an import journal");
        for (const key of ["chainId", "dataSafe", "issuer", "rows", "digest"] as const) {
          if (first[key] !== header[key]) {
            throw new ImportJournalError(
              file,
              `belongs to another import (its ${key} is ${first[key]}, not ${header[key]})`,
              {
                details: "use another journal file for these rows, or the rows this journal was written for",
              },
            );
          }
        }
        previous = previous.slice(1);
        fresh = false;
      }
      const cut = lines.at(-1) ?? "";
      if (cut !== "") {
        // Drop the torn line so the next append starts a line of its own.
        truncateSync(file, statSync(file).size - Buffer.byteLength(cut));
      }
    }
    const fd = openSync(file, "a");
    const journal = new Journal(fd, previous);
    if (fresh) journal.append(header);
    return journal;
  }

  append(record: JournalRecord): void {
    if (this.#fd === undefined) return;
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

// ---------------------------------------------------------------------------------------------

type SendErrorKind = "alreadyKnown" | "nonceUsed" | "nonceAhead" | "transient" | "refused";

/** What an RPC error means for a send, from the node's message (nodes have no common codes). */
export function classifySendError(error: unknown): SendErrorKind {
  const text = allMessages(error).toLowerCase();
  if (/already known|known transaction|already imported|alreadyknown|already in pool/.test(text)) return "alreadyKnown";
  if (/nonce too low|nonce has already been used|nonce_expired|replacement transaction underpriced/.test(text)) {
    return "nonceUsed";
  }
  if (/nonce too high|can't be queued|future nonce|nonce is too high/.test(text)) return "nonceAhead";
  if (
    /server_error|timeout|network_error|econnreset|econnrefused|socket hang up|fetch failed|limit exceeded|too many requests|429|502|503|504|bad response|missing response|other side closed/.test(
      text,
    )
  ) {
    return "transient";
  }
  return "refused";
}

function allMessages(error: unknown, depth = 0): string {
  if (depth > 5 || error === null || error === undefined) return "";
  if (typeof error !== "object") return String(error);
  const record = error as Record<string, unknown>;
  const own = [record.code, record.message, record.shortMessage].filter((v) => v !== undefined).join(" ");
  return [own, ...["error", "info", "cause"].map((k) => allMessages(record[k], depth + 1))].join(" ");
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return (error as { shortMessage?: string }).shortMessage ?? error.message;
  return String(error);
}

function describe(error: DataSafeError): string {
  if (error instanceof ContractRevertedError) return error.shortMessage.replace(/^issueAssets reverted with /, "");
  return error.shortMessage;
}

function backoff(attempt: number, baseMs: number): number {
  return Math.min(5_000, baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
}

/** A digest of the rows an import issues, in order: a journal is only continued for the same rows. */
function digestOf(rows: readonly ImportRow[]): Hex {
  const hash = createHash("sha256");
  for (const r of rows) hash.update(`${r.row}:${r.assetId}:${r.payloadPointer}:${r.validUntil}\n`);
  return `0x${hash.digest("hex")}`;
}

function checkOptions(options: ImportOptions): void {
  const positive = (name: keyof ImportOptions, min = 1) => {
    const value = options[name];
    if (value !== undefined && (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)) {
      throw new InvalidInputError(
        `options.${name}`,
        `expected a whole number of at least ${min}, got ${String(value)}`,
      );
    }
  };
  positive("maxGasPerTransaction", 100_000);
  positive("maxBatchSize");
  positive("maxCalldataBytes", 4 + 64 + 160);
  positive("maxInFlight");
  positive("retries");
  positive("receiptTimeoutMs");
  positive("pollIntervalMs");
  positive("maxRounds");
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
