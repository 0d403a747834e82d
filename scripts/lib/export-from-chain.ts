import {
  type Interface,
  type Log,
  type LogDescription,
  type Provider,
  getAddress,
  toBeHex,
  zeroPadValue,
} from "ethers";

import { LogReader, type LogQueryOptions } from "../../sdk/logs.js";
import type { ExportDataset, ExportRow } from "../../sdk/supervision.js";
import { DataSafe__factory } from "../../typechain-types/index.js";

/**
 * The rows of a supervision export recomputed from the chain alone, with the SDK's paged, retried
 * `eth_getLogs` (sdk/logs.ts): what the integrity command compares the API's export with. Each row
 * follows `EXPORT_COLUMNS` (sdk/supervision.ts): facts of the chain up to `toBlock`, values as the
 * canonical strings the export uses.
 */

export interface ChainSource {
  provider: Provider;
  dataSafe: string;
  /** The suite's deployment block: nothing the range's events name can predate it. */
  startBlock: number;
  logQuery?: LogQueryOptions;
}

type Decoded = LogDescription & { log: Log };

/** Most values in one OR-topic list; longer lists are split (as the SDK's events module does). */
const TOPIC_LIST_LIMIT = 64;
const ZERO32 = "0x" + "0".repeat(64);
const SCOPES = ["asset", "dataType"];

export class ChainExporter {
  readonly #source: ChainSource;
  readonly #reader: LogReader;
  readonly #dataSafe: Interface = DataSafe__factory.createInterface();
  readonly #timestamps = new Map<number, number>();

  constructor(source: ChainSource) {
    this.#source = source;
    this.#reader = new LogReader(() => source.provider, source.logQuery);
  }

  /** The rows of `dataset` for `fromBlock`..`toBlock`, in export order (block, log index). */
  async rows(dataset: ExportDataset, fromBlock: number, toBlock: number): Promise<ExportRow[]> {
    switch (dataset) {
      case "reads":
        return this.#reads(fromBlock, toBlock);
      case "grants":
        return this.#grants(fromBlock, toBlock);
      case "requests":
        return this.#requests(fromBlock, toBlock);
      default:
        throw new Error(`the ${dataset} dataset cannot be recomputed from the chain`);
    }
  }

  async #reads(fromBlock: number, toBlock: number): Promise<ExportRow[]> {
    const reads = await this.#events("AccessRecorded", [], fromBlock, toBlock);
    if (reads.length === 0) return [];
    const [assets, outcomes] = await Promise.all([
      this.#events("AssetIssued", [reads.map((r) => r.args.assetId)], this.#source.startBlock, toBlock),
      this.#events("AccessOutcomeRecorded", [reads.map((r) => r.args.accessId)], fromBlock, toBlock),
    ]);
    const assetById = new Map(assets.map((a) => [a.args.assetId as string, a]));
    // One outcome per access (the contract refuses a second): the first is the one.
    const outcomeById = new Map<string, Decoded>();
    for (const o of outcomes) if (!outcomeById.has(o.args.accessId)) outcomeById.set(o.args.accessId, o);
    const times = await this.#blockTimes(reads.map((r) => r.log.blockNumber));
    return reads.map((read) => {
      const { args, log } = read;
      const asset = assetById.get(args.assetId);
      const outcome = outcomeById.get(args.accessId);
      return {
        ...where(log, times),
        accessId: hex(args.accessId),
        grantId: hex(args.grantId),
        grantVersion: dec(args.version),
        subjectId: hex(args.subjectId),
        consumer: getAddress(args.consumer),
        assetId: hex(args.assetId),
        dataType: asset ? dec(asset.args.dataType) : "",
        issuer: asset ? getAddress(asset.args.issuer) : "",
        purpose: dec(args.purpose),
        fields: dec(args.fields),
        readNumber: dec(args.readNumber),
        maxReads: dec(args.maxReads),
        outcome: outcome ? dec(outcome.args.outcome) : "",
        outcomeReference: outcome ? hex(outcome.args.outcomeReference) : "",
        outcomeBlock: outcome ? dec(outcome.log.blockNumber) : "",
      };
    });
  }

  async #grants(fromBlock: number, toBlock: number): Promise<ExportRow[]> {
    const issued = await this.#events("GrantIssued", [], fromBlock, toBlock);
    if (issued.length === 0) return [];
    const grantIds = issued.map((g) => g.args.grantId as string);
    const [revoked, reads] = await Promise.all([
      this.#events("GrantRevoked", [grantIds], fromBlock, toBlock),
      this.#events("AccessRecorded", [grantIds], fromBlock, toBlock),
    ]);
    const version = (grantId: string, v: unknown) => `${grantId.toLowerCase()}/${dec(v)}`;
    const revokedIn = new Map<string, number>();
    for (const r of revoked) {
      const key = version(r.args.grantId, r.args.version);
      if (!revokedIn.has(key)) revokedIn.set(key, r.log.blockNumber);
    }
    const readCount = new Map<string, number>();
    for (const r of reads) {
      const key = version(r.args.grantId, r.args.version);
      readCount.set(key, (readCount.get(key) ?? 0) + 1);
    }
    const times = await this.#blockTimes([...issued.map((g) => g.log.blockNumber), ...revokedIn.values()]);
    return issued.map(({ args, log }) => {
      const key = version(args.grantId, args.version);
      const revokedBlock = revokedIn.get(key);
      return {
        ...where(log, times),
        grantId: hex(args.grantId),
        version: dec(args.version),
        subjectId: hex(args.subjectId),
        consumer: getAddress(args.consumer),
        scope: SCOPES[Number(args.scope)] ?? dec(args.scope),
        target: hex(args.target),
        purpose: dec(args.purpose),
        fields: dec(args.fields),
        maxReads: dec(args.maxReads),
        expiresAt: dec(args.expiresAt),
        requestId: args.requestId === ZERO32 ? "" : hex(args.requestId),
        reads: String(readCount.get(key) ?? 0),
        revokedAt: revokedBlock === undefined ? "" : String(times.get(revokedBlock) ?? 0),
      };
    });
  }

  async #requests(fromBlock: number, toBlock: number): Promise<ExportRow[]> {
    const requested = await this.#events("AccessRequested", [], fromBlock, toBlock);
    if (requested.length === 0) return [];
    const ids = requested.map((r) => r.args.requestId as string);
    const [approved, rejected, cancelled] = await Promise.all([
      this.#events("AccessRequestApproved", [ids], fromBlock, toBlock),
      this.#events("AccessRequestRejected", [ids], fromBlock, toBlock),
      this.#events("AccessRequestCancelled", [ids], fromBlock, toBlock),
    ]);
    // A request is decided once (the contract refuses to decide an open request twice).
    const decision = new Map<string, { decision: string; block: number }>();
    for (const [list, name] of [
      [approved, "approved"],
      [rejected, "rejected"],
      [cancelled, "cancelled"],
    ] as const) {
      for (const e of list) {
        const id = (e.args.requestId as string).toLowerCase();
        if (!decision.has(id)) decision.set(id, { decision: name, block: e.log.blockNumber });
      }
    }
    const times = await this.#blockTimes(requested.map((r) => r.log.blockNumber));
    return requested.map(({ args, log }) => {
      const request = args.request;
      const decided = decision.get((args.requestId as string).toLowerCase());
      return {
        ...where(log, times),
        requestId: hex(args.requestId),
        subjectId: hex(args.subjectId),
        consumer: getAddress(args.consumer),
        scope: SCOPES[Number(request.scope)] ?? dec(request.scope),
        targets: (request.targets as string[]).map(hex).join(";"),
        fields: dec(request.fields),
        purpose: dec(request.purpose),
        grantDuration: dec(request.grantDuration),
        maxReads: dec(request.maxReads),
        expiresAt: dec(request.expiresAt),
        decision: decided?.decision ?? "",
        decisionBlock: decided === undefined ? "" : String(decided.block),
      };
    });
  }

  /**
   * The DataSafe's `name` events in the blocks, oldest first; `topics` after the event's own, a list
   * in one position is an OR (split into batches the node accepts).
   */
  async #events(name: string, topics: (string[] | null)[], fromBlock: number, toBlock: number): Promise<Decoded[]> {
    const event = this.#dataSafe.getEvent(name);
    if (event === null) throw new Error(`DataSafe has no event ${name}`);
    const list = topics.findIndex((t) => Array.isArray(t));
    const values = list >= 0 ? [...new Set(topics[list] as string[])] : [];
    const batches: (string[] | null)[][] = list < 0 ? [topics] : [];
    for (let i = 0; i < values.length; i += TOPIC_LIST_LIMIT) {
      batches.push(topics.map((t, j) => (j === list ? values.slice(i, i + TOPIC_LIST_LIMIT) : t)));
    }
    if (fromBlock > toBlock) return [];
    const pages = await Promise.all(
      batches.map((batch) =>
        this.#reader.getLogs(
          `getLogs ${name}`,
          { address: this.#source.dataSafe, topics: [event.topicHash, ...batch] },
          { fromBlock, toBlock },
        ),
      ),
    );
    return pages
      .flat()
      .sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)
      .map((log) => Object.assign(this.#dataSafe.parseLog(log) as LogDescription, { log }));
  }

  async #blockTimes(blockNumbers: number[]): Promise<Map<number, number>> {
    const missing = [...new Set(blockNumbers)].filter((n) => !this.#timestamps.has(n));
    const blocks = await Promise.all(
      missing.map((n) => this.#reader.read("getBlock", () => this.#source.provider.getBlock(n))),
    );
    missing.forEach((n, i) => this.#timestamps.set(n, blocks[i]?.timestamp ?? 0));
    return this.#timestamps;
  }
}

function where(log: Log, times: Map<number, number>): ExportRow {
  return {
    blockNumber: String(log.blockNumber),
    logIndex: String(log.index),
    txHash: log.transactionHash.toLowerCase(),
    timestamp: String(times.get(log.blockNumber) ?? 0),
  };
}

function dec(value: unknown): string {
  return BigInt(value as bigint | number | string).toString(10);
}

/** Lower-case 0x-hex of a bytes32 (or a number as bytes32). */
function hex(value: unknown): string {
  if (typeof value === "string") return value.toLowerCase();
  return zeroPadValue(toBeHex(value as bigint), 32).toLowerCase();
}
