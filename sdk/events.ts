import { type Log, type Provider, getNumber, toBeHex, zeroPadValue } from "ethers";

import type { TypedContractEvent, TypedLogDescription } from "../typechain-types/common.js";
import { type AccessRequestStatus, type AssetStatus, enumName } from "./constants.js";
import { accessRequestOf } from "./consent.js";
import type { Context } from "./context.js";
import { InvalidInputError } from "./errors.js";
import type { BlockSpan } from "./logs.js";
import { bytes32 } from "./requests.js";
import type { AccessRequest, Address, AssetKey, GrantKey, Hex } from "./types.js";

/**
 * The trail, rebuilt from events alone (no contract state is read): what a holder's safe-box app
 * shows ("who used my data, when, for what") and what an auditor reconstructs. Names of members and
 * data types come from their registration events too. Every query is read in pages, with retries,
 * from the client's `fromBlock` (see logs.ts).
 */

/**
 * Blocks to search, both ends included; default from the client's `fromBlock` (its deployment
 * block when known) to the latest block, read once when the query starts.
 */
export interface BlockRange {
  fromBlock?: number;
  toBlock?: number | "latest";
}

/** One use of a holder's data. */
export interface UsageRecord {
  accessId: Hex;
  /** Unix seconds of the block that recorded the read. */
  readAt: number;
  blockNumber: number;
  transactionHash: Hex;
  consumer: Address;
  /** The consumer's registered name ("" if its registration is outside the range). */
  consumerName: string;
  assetId: Hex;
  dataType: number;
  dataTypeName: string;
  issuer: Address;
  issuerName: string;
  purpose: number;
  /** Fields read (what the payload gateway releases); 0n = whole record. */
  fields: bigint;
  /** This read's number in its grant version, and how many the version allows. */
  readNumber: number;
  maxReads: number;
  grantId: Hex;
  grantVersion: number;
  grantExpiresAt: number;
  /** The access request whose approval issued the grant; undefined for a direct grant. */
  requestId: Hex | undefined;
  /** The outcome the consumer reported; undefined while none. */
  outcome: number | undefined;
  outcomeReference: Hex | undefined;
}

/** A consumer's request to a holder, with where it stands. */
export interface HolderRequest {
  requestId: Hex;
  request: AccessRequest;
  consumerName: string;
  /** `Expired` when still open past its `expiresAt`: it can no longer be approved. */
  status: AccessRequestStatus | "Expired";
  requestedAt: number;
  blockNumber: number;
}

/** An asset of a holder, with its history. */
export interface HolderAsset {
  assetId: Hex;
  key: AssetKey;
  dataTypeName: string;
  issuerName: string;
  payloadPointer: Hex;
  issuedAt: number;
  validUntil: number;
  status: AssetStatus;
  /** Valid and not past its valid-until at the end of the range. */
  valid: boolean;
  /** The new version, for a superseded asset. */
  supersededBy: Hex | undefined;
  /** The reason code, for a revoked asset. */
  revocationReason: number | undefined;
}

/** A grant of a holder, in its latest version. */
export interface HolderGrant {
  grantId: Hex;
  key: GrantKey;
  consumerName: string;
  /** Fields the grant covers; 0n = whole record. */
  fields: bigint;
  version: number;
  grantedAt: number;
  expiresAt: number;
  maxReads: number;
  reads: number;
  /** `Exhausted` when every read is used, `Expired` past its expiry. */
  status: "Active" | "Revoked" | "Expired" | "Exhausted";
  requestId: Hex | undefined;
}

/** A log decoded with TypeChain's types, with where it is. */
type Decoded<E extends TypedContractEvent> = TypedLogDescription<E> & {
  blockNumber: number;
  logIndex: number;
  transactionHash: Hex;
};

type Topic = string | string[] | null;

/** Most values in one OR-topic of a log query; longer lists are split. */
const TOPIC_LIST_LIMIT = 64;

const ZERO32 = "0x" + "0".repeat(64);

/**
 * Reads the trail from events.
 * @example
 * for (const use of await app.events.usageOf(subjectId)) {
 *   console.log(`${use.consumerName} read ${use.dataTypeName} (${use.readNumber}/${use.maxReads})`);
 * }
 */
export class Events {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /**
   * A holder's usage record: every read of its data, oldest first, with who read what, when, for
   * which purpose, read n of m, under which grant, and the outcome reported.
   */
  async usageOf(subjectId: Hex, range: BlockRange = {}): Promise<UsageRecord[]> {
    return this.accessTrail({ subjectId }, range);
  }

  /**
   * Every recorded read matching a holder and/or a consumer (both optional: the whole trail for a
   * regulator), oldest first.
   */
  async accessTrail(filter: { subjectId?: Hex; consumer?: Address }, blocks: BlockRange = {}): Promise<UsageRecord[]> {
    const range = await this.#span(blocks);
    const ds = this.#ctx.dataSafe;
    const reads = await this.#logs(
      ds,
      ds.getEvent("AccessRecorded"),
      [
        null,
        filter.subjectId ? bytes32("subjectId", filter.subjectId) : null,
        filter.consumer ? addressTopic(filter.consumer) : null,
      ],
      range,
    );
    if (reads.length === 0) return [];
    const assetIds = unique(reads.map((r) => r.args.assetId));
    const grantIds = unique(reads.map((r) => r.args.grantId));
    // The assets and grant versions a read names may predate the range.
    const [issued, grants, outcomes] = await Promise.all([
      this.#logs(ds, ds.getEvent("AssetIssued"), [assetIds], this.#sinceDeployment(range)),
      this.#logs(ds, ds.getEvent("GrantIssued"), [grantIds], this.#sinceDeployment(range)),
      this.#logs(ds, ds.getEvent("AccessOutcomeRecorded"), [reads.map((r) => r.args.accessId)], range),
    ]);
    const assetById = new Map(issued.map((a) => [a.args.assetId, a.args]));
    const outcomeById = new Map(outcomes.map((o) => [o.args.accessId, o.args]));
    // A read names its grant version; its terms are in that version's GrantIssued.
    const grantByVersion = new Map(grants.map((g) => [`${g.args.grantId}/${g.args.version}`, g]));
    const [names, typeNames, times] = await Promise.all([
      this.#memberNames([...reads.map((r) => r.args.consumer), ...issued.map((a) => a.args.issuer)], range),
      this.#dataTypeNames(
        issued.map((a) => Number(a.args.dataType)),
        range,
      ),
      this.#timestamps(reads.map((r) => r.blockNumber)),
    ]);
    return reads.map((read) => {
      const { args } = read;
      const asset = assetById.get(args.assetId);
      const grant = grantByVersion.get(`${args.grantId}/${args.version}`);
      const outcome = outcomeById.get(args.accessId);
      const dataType = asset ? Number(asset.dataType) : 0;
      return {
        accessId: args.accessId,
        readAt: times.get(read.blockNumber) ?? 0,
        blockNumber: read.blockNumber,
        transactionHash: read.transactionHash,
        consumer: args.consumer,
        consumerName: names.get(args.consumer.toLowerCase()) ?? "",
        assetId: args.assetId,
        dataType,
        dataTypeName: typeNames.get(dataType) ?? "",
        issuer: asset?.issuer ?? "",
        issuerName: asset ? (names.get(asset.issuer.toLowerCase()) ?? "") : "",
        purpose: Number(args.purpose),
        fields: args.fields,
        readNumber: Number(args.readNumber),
        maxReads: Number(args.maxReads),
        grantId: args.grantId,
        grantVersion: Number(args.version),
        grantExpiresAt: grant ? Number(grant.args.expiresAt) : 0,
        requestId: grant && grant.args.requestId !== ZERO32 ? grant.args.requestId : undefined,
        outcome: outcome ? Number(outcome.outcome) : undefined,
        outcomeReference: outcome?.outcomeReference,
      };
    });
  }

  /** The access requests made to a holder, oldest first, with their status. */
  async requestsOf(subjectId: Hex, blocks: BlockRange = {}): Promise<HolderRequest[]> {
    const range = await this.#span(blocks);
    const ds = this.#ctx.dataSafe;
    const id = bytes32("subjectId", subjectId);
    const requested = await this.#logs(ds, ds.getEvent("AccessRequested"), [null, id], range);
    if (requested.length === 0) return [];
    const requestIds = requested.map((r) => r.args.requestId);
    const [approved, rejected, cancelled, names, times, now] = await Promise.all([
      this.#logs(ds, ds.getEvent("AccessRequestApproved"), [requestIds], range),
      this.#logs(ds, ds.getEvent("AccessRequestRejected"), [requestIds], range),
      this.#logs(ds, ds.getEvent("AccessRequestCancelled"), [requestIds], range),
      this.#memberNames(
        requested.map((r) => r.args.consumer),
        range,
      ),
      this.#timestamps(requested.map((r) => r.blockNumber)),
      this.#endTime(range),
    ]);
    const decided = new Map<string, AccessRequestStatus>();
    for (const e of approved) decided.set(e.args.requestId, "Approved");
    for (const e of rejected) decided.set(e.args.requestId, "Rejected");
    for (const e of cancelled) decided.set(e.args.requestId, "Cancelled");
    return requested.map((log) => {
      const request = accessRequestOf(log.args.request);
      const status = decided.get(log.args.requestId) ?? (now > request.expiresAt ? "Expired" : "Open");
      return {
        requestId: log.args.requestId,
        request,
        consumerName: names.get(request.consumer.toLowerCase()) ?? "",
        status,
        requestedAt: times.get(log.blockNumber) ?? 0,
        blockNumber: log.blockNumber,
      };
    });
  }

  /** A holder's assets (its digital safe), oldest first, with their current status. */
  async assetsOf(subjectId: Hex, blocks: BlockRange = {}): Promise<HolderAsset[]> {
    const range = await this.#span(blocks);
    const ds = this.#ctx.dataSafe;
    const id = bytes32("subjectId", subjectId);
    const issued = await this.#logs(ds, ds.getEvent("AssetIssued"), [null, id], range);
    if (issued.length === 0) return [];
    const assetIds = issued.map((a) => a.args.assetId);
    const [revoked, superseded, names, typeNames, times, now] = await Promise.all([
      this.#logs(ds, ds.getEvent("AssetRevoked"), [assetIds], range),
      this.#logs(ds, ds.getEvent("AssetSuperseded"), [assetIds], range),
      this.#memberNames(
        issued.map((a) => a.args.issuer),
        range,
      ),
      this.#dataTypeNames(
        issued.map((a) => Number(a.args.dataType)),
        range,
      ),
      this.#timestamps(issued.map((a) => a.blockNumber)),
      this.#endTime(range),
    ]);
    const revokedBy = new Map(revoked.map((r) => [r.args.assetId, Number(r.args.reason)]));
    const supersededBy = new Map(superseded.map((s) => [s.args.previousAssetId, s.args.newAssetId]));
    return issued.map(({ args, blockNumber }) => {
      const status: AssetStatus = revokedBy.has(args.assetId)
        ? "Revoked"
        : supersededBy.has(args.assetId)
          ? "Superseded"
          : "Valid";
      const validUntil = Number(args.validUntil);
      return {
        assetId: args.assetId,
        key: {
          issuer: args.issuer,
          subjectId: args.subjectId,
          dataType: Number(args.dataType),
          contentCommitment: args.contentCommitment,
        },
        dataTypeName: typeNames.get(Number(args.dataType)) ?? "",
        issuerName: names.get(args.issuer.toLowerCase()) ?? "",
        payloadPointer: args.payloadPointer,
        issuedAt: times.get(blockNumber) ?? 0,
        validUntil,
        status,
        valid: status === "Valid" && (validUntil === 0 || now <= validUntil),
        supersededBy: supersededBy.get(args.assetId),
        revocationReason: revokedBy.get(args.assetId),
      };
    });
  }

  /** A holder's grants in their latest versions, with reads used. */
  async grantsOf(subjectId: Hex, blocks: BlockRange = {}): Promise<HolderGrant[]> {
    const range = await this.#span(blocks);
    const ds = this.#ctx.dataSafe;
    const id = bytes32("subjectId", subjectId);
    const [issued, revoked, reads, now] = await Promise.all([
      this.#logs(ds, ds.getEvent("GrantIssued"), [null, id], range),
      this.#logs(ds, ds.getEvent("GrantRevoked"), [null, id], range),
      this.#logs(ds, ds.getEvent("AccessRecorded"), [null, id], range),
      this.#endTime(range),
    ]);
    const latest = new Map<string, (typeof issued)[number]>();
    for (const g of issued) latest.set(g.args.grantId, g);
    const [names, times] = await Promise.all([
      this.#memberNames(
        issued.map((g) => g.args.consumer),
        range,
      ),
      this.#timestamps([...latest.values()].map((g) => g.blockNumber)),
    ]);
    return [...latest.values()].map((g) => {
      const { args } = g;
      const version = Number(args.version);
      const used = reads.filter((r) => r.args.grantId === args.grantId && r.args.version === args.version).length;
      const wasRevoked = revoked.some((r) => r.args.grantId === args.grantId && Number(r.args.version) === version);
      const expiresAt = Number(args.expiresAt);
      const maxReads = Number(args.maxReads);
      const status = wasRevoked ? "Revoked" : used >= maxReads ? "Exhausted" : now > expiresAt ? "Expired" : "Active";
      return {
        grantId: args.grantId,
        key: {
          subjectId: args.subjectId,
          consumer: args.consumer,
          scope: enumName("GrantScope", args.scope),
          target: args.target,
          purpose: Number(args.purpose),
        },
        consumerName: names.get(args.consumer.toLowerCase()) ?? "",
        fields: args.fields,
        version,
        grantedAt: times.get(g.blockNumber) ?? 0,
        expiresAt,
        maxReads,
        reads: used,
        status,
        requestId: args.requestId !== ZERO32 ? args.requestId : undefined,
      };
    });
  }

  /** The blocks a query reads: `requested`, its open ends filled from the client and the chain. */
  async #span(requested: BlockRange): Promise<BlockSpan> {
    const fromBlock = requested.fromBlock ?? this.#ctx.fromBlock;
    const toBlock =
      requested.toBlock === undefined || requested.toBlock === "latest"
        ? await this.#ctx.logs.read("getBlockNumber", () => latestBlockNumber(this.#ctx.provider))
        : requested.toBlock;
    for (const [field, value] of [
      ["range.fromBlock", fromBlock],
      ["range.toBlock", toBlock],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new InvalidInputError(field, `expected a block number, got ${String(value)}`);
      }
    }
    return { fromBlock, toBlock };
  }

  /** Logs of `event` from `contract` matching `topics` (after the event's own), oldest first. */
  async #logs<E extends TypedContractEvent>(
    contract: { interface: { parseLog(log: Log): unknown }; target: unknown },
    event: E,
    topics: Topic[],
    range: BlockSpan,
  ): Promise<Decoded<E>[]> {
    const listAt = topics.findIndex((t) => Array.isArray(t));
    const list = listAt >= 0 ? unique(topics[listAt] as string[]) : [];
    if (listAt >= 0 && list.length === 0) return [];
    const batches: Topic[][] = [];
    if (listAt < 0) batches.push(topics);
    for (let i = 0; i < list.length; i += TOPIC_LIST_LIMIT) {
      batches.push(topics.map((t, j) => (j === listAt ? list.slice(i, i + TOPIC_LIST_LIMIT) : t)));
    }
    const results = await Promise.all(
      batches.map((batch) =>
        this.#ctx.logs.getLogs(
          `getLogs ${event.fragment.name}`,
          { address: String(contract.target), topics: [event.fragment.topicHash, ...batch] },
          range,
        ),
      ),
    );
    return results
      .flat()
      .sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)
      .map((log) => {
        const parsed = contract.interface.parseLog(log) as TypedLogDescription<E>;
        return Object.assign(parsed, {
          blockNumber: log.blockNumber,
          logIndex: log.index,
          transactionHash: log.transactionHash,
        });
      });
  }

  /**
   * Registered names of members, lower-case address to name (the latest update wins), read from
   * the deployment on: a member registered before the range still has its name.
   */
  async #memberNames(accounts: Address[], range: BlockSpan): Promise<Map<string, string>> {
    const ds = this.#ctx.dataSafe;
    const topics = unique(accounts.map(addressTopic));
    const from = this.#sinceDeployment(range);
    const [registered, updated] = await Promise.all([
      this.#logs(ds, ds.getEvent("MemberRegistered"), [topics], from),
      this.#logs(ds, ds.getEvent("MemberUpdated"), [topics], from),
    ]);
    const names = new Map<string, string>();
    for (const e of [...registered, ...updated].sort(
      (a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex,
    )) {
      names.set(e.args.account.toLowerCase(), e.args.name);
    }
    return names;
  }

  /** Names of data types, from the catalog's `DataTypeDefined` events since the deployment. */
  async #dataTypeNames(dataTypes: number[], range: BlockSpan): Promise<Map<number, string>> {
    const catalog = this.#ctx.catalog;
    const defined = await this.#logs(
      catalog,
      catalog.getEvent("DataTypeDefined"),
      [unique(dataTypes.map((t) => zeroPadValue(toBeHex(t), 32)))],
      this.#sinceDeployment(range),
    );
    return new Map(defined.map((e) => [Number(e.args.dataType), e.args.name]));
  }

  /** `range` widened back to the client's first block, for what the range's events name but may predate it. */
  #sinceDeployment(range: BlockSpan): BlockSpan {
    return { fromBlock: Math.min(this.#ctx.fromBlock, range.fromBlock), toBlock: range.toBlock };
  }

  async #timestamps(blockNumbers: number[]): Promise<Map<number, number>> {
    const distinct = [...new Set(blockNumbers)];
    const blocks = await Promise.all(
      distinct.map((n) => this.#ctx.logs.read("getBlock", () => this.#ctx.provider.getBlock(n))),
    );
    return new Map(distinct.map((n, i) => [n, blocks[i]?.timestamp ?? 0]));
  }

  /** The time at the end of the range: when statuses like "Expired" are judged. */
  async #endTime(range: BlockSpan): Promise<number> {
    const block = await this.#ctx.logs.read("getBlock", () => this.#ctx.provider.getBlock(range.toBlock));
    return block?.timestamp ?? 0;
  }
}

function addressTopic(account: Address): string {
  return zeroPadValue(account.toLowerCase(), 32);
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/**
 * The latest block number, asked of the node itself. ethers' providers answer `getBlockNumber` from a
 * cache of 250 ms, and a `JsonRpcSigner` asks it before every send: a trail read right after a write
 * would stop at the block before that write. A provider that speaks JSON-RPC is asked directly.
 */
async function latestBlockNumber(provider: Provider): Promise<number> {
  const rpc = provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> };
  if (typeof rpc.send === "function")
    return getNumber((await rpc.send("eth_blockNumber", [])) as string, "eth_blockNumber");
  return provider.getBlockNumber();
}
