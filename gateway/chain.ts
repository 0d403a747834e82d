import { setTimeout as sleep } from "node:timers/promises";

import { Contract, type JsonRpcProvider, getAddress, getBytes } from "ethers";
import { LRUCache } from "lru-cache";

import { KeySuite, type PublicKey } from "../sdk/crypto/index.js";
import { ENUMS, enumValue } from "../sdk/index.js";
import {
  type DataCatalog,
  DataCatalog__factory,
  type DataSafe,
  DataSafe__factory,
  type KeyDirectory,
  KeyDirectory__factory,
} from "../typechain-types/index.js";
import { recoverSigner } from "./signatures.js";

/**
 * What the gateway reads from the chain, always at a confirmed block (`head - confirmations`), and
 * why memoising those reads is exact, not stale:
 *
 * - A read at a fixed block number answers for the state after that block, which never changes once
 *   the block is final. The gateway already rests on the confirmed block being final (it decides a
 *   release on it): on Besu/QBFT a block is final when produced (`confirmations: 0` is safe there);
 *   `hardhat node` never reorganises; on a chain with probabilistic finality `confirmations` must
 *   exceed the deepest reorg for the checks themselves to hold, and then the memo adds no
 *   assumption. So reads are keyed by (block number, query) in a bounded LRU and kept; a newer
 *   confirmed block is a new key, so nothing decided at block N+1 is answered from block N (a
 *   consumer suspended in block N+1 is refused as soon as N+1 is confirmed).
 * - Only blocks at or below the newest confirmed block seen are memoised: the upload route checks at
 *   the head, which is not final by this reasoning, and its reads are made afresh.
 * - Identical reads in flight are coalesced (one JSON-RPC call, many waiters); a failed read is
 *   forgotten at once, so a node that came back is asked again.
 * - The head itself is read at most once per `headCacheMs` in a process: a request that needs a
 *   newer head than the last read (an access younger than the confirmed block, an upload) waits for
 *   the next read, at most `headCacheMs` away, instead of asking the node itself.
 * - Receipts of mined transactions are immutable under the same finality, and one receipt may
 *   record several accesses (a consumer contract reading in a batch): they are memoised by hash, decoded once. A hash
 *   that is unknown or recorded no access is not memoised (it may be mined later).
 */

const ERC1271_ABI = ["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"];
const ERC1271_MAGIC = "0x1626ba7e";
/** Receipts memoised (each may carry several accesses). */
const RECEIPT_CACHE = 4_096;
/** (block, query) answers memoised: consumer status, member keys, controllers, schema hashes, code. */
const READ_CACHE = 50_000;
const CONSUMER = enumValue("MemberKind", "Consumer");
const ACCESS_RECORDED_LAYOUT = [
  "indexed bytes32 grantId",
  "indexed bytes32 subjectId",
  "indexed address consumer",
  "bytes32 accessId",
  "bytes32 assetId",
  "uint16 purpose",
  "uint64 fields",
  "uint32 readNumber",
  "uint32 maxReads",
  "uint32 version",
].join(", ");

/** One `AccessRecorded` event, as the gateway checks it. */
export interface RecordedAccess {
  accessId: string;
  grantId: string;
  subjectId: string;
  /** The consumer's address in lower case. */
  consumer: string;
  assetId: string;
  /** The fields the read names: a uint64 mask over the type's schema fields, 0 for the whole record. */
  fields: bigint;
  blockNumber: number;
  transactionHash: string;
}

export interface ChainViewOptions {
  provider: JsonRpcProvider;
  dataSafe: string;
  keyDirectory: string;
  confirmations: number;
  headCacheMs: number;
}

export class ChainView {
  readonly dataSafeAddress: string;
  readonly confirmations: number;
  readonly #provider: JsonRpcProvider;
  readonly #dataSafe: DataSafe;
  readonly #keys: KeyDirectory;
  #catalog: DataCatalog | undefined;
  readonly #headCacheMs: number;
  /** The last head read that answered, and when it was sent (`performance.now()`). */
  #head: HeadRead | undefined;
  /** The head read in flight, if any. */
  #headInFlight: { sentAt: number; answer: Promise<HeadRead> } | undefined;
  /** The next head read, waiting out the rest of `headCacheMs`. */
  #headScheduled: Promise<HeadRead> | undefined;
  /** The newest confirmed block this view answered with: blocks up to it are memoised. */
  #confirmedSeen = -1;
  readonly #receipts = new LRUCache<string, Promise<Map<string, RecordedAccess>>>({ max: RECEIPT_CACHE });
  readonly #reads = new LRUCache<string, Promise<unknown>>({ max: READ_CACHE });
  readonly #accessTopic: string;

  constructor(options: ChainViewOptions) {
    this.#provider = options.provider;
    this.dataSafeAddress = getAddress(options.dataSafe);
    this.#dataSafe = DataSafe__factory.connect(this.dataSafeAddress, options.provider);
    this.#keys = KeyDirectory__factory.connect(getAddress(options.keyDirectory), options.provider);
    const event = this.#dataSafe.interface.getEvent("AccessRecorded");
    // `#decodeAccess` reads the event by position: refuse to start on another layout.
    const layout = event.inputs.map((p) => `${p.indexed ? "indexed " : ""}${p.type} ${p.name}`).join(", ");
    if (layout !== ACCESS_RECORDED_LAYOUT)
      throw new Error(`AccessRecorded is (${layout}), expected (${ACCESS_RECORDED_LAYOUT})`);
    this.#accessTopic = event.topicHash;
    this.confirmations = options.confirmations;
    this.#headCacheMs = options.headCacheMs;
  }

  /** Reads what never changes for a deployment (the catalog's address). */
  async init(): Promise<void> {
    this.#catalog = DataCatalog__factory.connect(await this.#dataSafe.catalog(), this.#provider);
  }

  /** The chain id the node serves. */
  async chainId(): Promise<bigint> {
    return (await this.#provider.getNetwork()).chainId;
  }

  /**
   * The newest block with `confirmations` blocks on top of it.
   * @param fresh from a head read sent after this call (waiting for the next one, at most
   *   `headCacheMs` away), instead of one sent up to `headCacheMs` ago
   */
  async confirmedBlock(fresh = false): Promise<number> {
    const now = performance.now();
    const head = await this.#headSentSince(fresh ? now : now - this.#headCacheMs);
    const confirmed = Math.max(0, head - this.confirmations);
    if (confirmed > this.#confirmedSeen) this.#confirmedSeen = confirmed;
    return confirmed;
  }

  /** The newest block, from a head read sent after this call. */
  headBlock(): Promise<number> {
    return this.#headSentSince(performance.now());
  }

  /** The asset's status at `block` (`"None"` if never issued). */
  assetStatusAt(assetId: string, block: number): Promise<(typeof ENUMS.AssetStatus)[number]> {
    return this.#cached(block, `asset:${assetId}`, async () => {
      const [asset, valid] = await Promise.all([
        this.#dataSafe.getAsset(assetId, { blockTag: block }),
        this.#dataSafe.isValid(assetId, { blockTag: block }),
      ]);
      const status = ENUMS.AssetStatus[Number(asset.status)] ?? "None";
      // `isValid` also honours valid-until: an expired asset reads as Valid but is not.
      return status === "Valid" && !valid ? "Revoked" : status;
    });
  }

  /** The controller of a subject at `block` (the zero address if unregistered). */
  controllerAt(subjectId: string, block: number): Promise<string> {
    return this.#cached(block, `controller:${subjectId}`, () =>
      this.#dataSafe.controllerOf(subjectId, { blockTag: block }),
    );
  }

  /** Whether `account` is an active consumer member at `block`. */
  isActiveConsumerAt(account: string, block: number): Promise<boolean> {
    return this.#cached(block, `consumer:${account}`, () =>
      this.#dataSafe.isActiveMember(account, CONSUMER, { blockTag: block }),
    );
  }

  /** The hash of a data type's schema document at `block` (zero if the type is undefined). */
  schemaHashAt(dataType: number, block: number): Promise<string> {
    const catalog = this.#catalog;
    if (catalog === undefined) throw new Error("ChainView used before init()");
    return this.#cached(block, `schema:${dataType}`, async () =>
      (await catalog.getDataType(dataType, { blockTag: block })).schemaHash.toLowerCase(),
    );
  }

  /** A member's current encryption key at `block`, or undefined if it has none. */
  memberKeyAt(account: string, block: number): Promise<PublicKey | undefined> {
    return this.#cached(block, `memberKey:${account}`, async () =>
      publicKeyOf(await this.#keys.memberKey(account, { blockTag: block })),
    );
  }

  /** A subject's holder key at `block`, or undefined if its controller set none (since taking control). */
  holderKeyAt(subjectId: string, block: number): Promise<PublicKey | undefined> {
    return this.#cached(block, `holderKey:${subjectId}`, async () =>
      publicKeyOf(await this.#keys.holderKey(subjectId, { blockTag: block })),
    );
  }

  /**
   * The access `accessId` recorded by transaction `transactionHash` on this deployment, or undefined
   * if that transaction is unknown, reverted, or recorded no such access.
   */
  async recordedAccess(transactionHash: string, accessId: string): Promise<RecordedAccess | undefined> {
    return (await this.#accessesIn(transactionHash)).get(accessId.toLowerCase());
  }

  /**
   * Whether `signature` over `digest` is `account`'s: an ECDSA signature by the key, or, for a
   * contract account, one its EIP-1271 `isValidSignature` accepts at `block`.
   */
  async isSignatureOf(account: string, digest: string, signature: string, block: number): Promise<boolean> {
    // Not a valid ECDSA signature by `account`: a contract wallet may still accept it.
    if (recoverSigner(digest, signature) === account.toLowerCase()) return true;
    const code = await this.#cached(block, `code:${account}`, () => this.#provider.getCode(account, block));
    if (code === "0x") return false;
    try {
      const wallet = new Contract(account, ERC1271_ABI, this.#provider);
      return (await wallet.isValidSignature(digest, getBytes(signature), { blockTag: block })) === ERC1271_MAGIC;
    } catch {
      return false;
    }
  }

  /**
   * An `AccessRecorded` log of this deployment, decoded by its fixed layout (ethers' `parseLog`
   * looks the event up by hashing every fragment's signature, per log): topics are the signature,
   * grantId, subjectId and consumer; the data is seven words, accessId, assetId, purpose, fields,
   * readNumber, maxReads, version. A log of another shape is not an access.
   */
  #decodeAccess(log: RawLog): RecordedAccess | undefined {
    const { topics, data } = log;
    if (topics.length !== 4 || typeof data !== "string" || !/^0x[0-9a-fA-F]{448}$/.test(data)) return undefined;
    const word = (i: number) => `0x${data.slice(2 + i * 64, 2 + (i + 1) * 64)}`.toLowerCase();
    return {
      accessId: word(0),
      grantId: topics[1].toLowerCase(),
      subjectId: topics[2].toLowerCase(),
      consumer: `0x${topics[3].slice(26)}`.toLowerCase(),
      assetId: word(1),
      fields: BigInt(word(3)),
      blockNumber: Number(BigInt(log.blockNumber)),
      transactionHash: log.transactionHash.toLowerCase(),
    };
  }

  /** The accesses a transaction recorded on this deployment, by id (none if unknown or reverted). */
  #accessesIn(hash: string): Promise<Map<string, RecordedAccess>> {
    const key = hash.toLowerCase();
    let pending = this.#receipts.get(key);
    if (pending === undefined) {
      // The raw JSON-RPC answer: ethers' receipt formatting (a checksummed address and a Log object
      // per log) costs more than the gateway's own decoding of the accesses in it.
      const read = this.#provider
        .send("eth_getTransactionReceipt", [key])
        .then((receipt: RawReceipt | null) => this.#decodeAccesses(receipt));
      pending = read;
      // Only a mined receipt is immutable; an unknown hash may be mined later, a failed read retried.
      const forget = () => this.#receipts.get(key) === read && this.#receipts.delete(key);
      read.then((accesses) => accesses.size === 0 && forget(), forget);
      this.#receipts.set(key, read);
    }
    return pending;
  }

  #decodeAccesses(receipt: RawReceipt | null): Map<string, RecordedAccess> {
    const accesses = new Map<string, RecordedAccess>();
    // Only a successful transaction recorded anything (a receipt without `status` is pre-Byzantium).
    if (receipt === null || receipt.status !== "0x1" || !Array.isArray(receipt.logs)) return accesses;
    const topic = this.#accessTopic;
    const dataSafe = this.dataSafeAddress.toLowerCase();
    for (const log of receipt.logs) {
      if (log.removed === true || log.address?.toLowerCase() !== dataSafe || log.topics?.[0]?.toLowerCase() !== topic)
        continue;
      const access = this.#decodeAccess(log);
      if (access !== undefined) accesses.set(access.accessId, access);
    }
    return accesses;
  }

  /** Memoises a read at a confirmed `block`, sharing it with identical reads in flight. */
  #cached<T>(block: number, query: string, read: () => Promise<T>): Promise<T> {
    if (block > this.#confirmedSeen) return read();
    const key = `${block}:${query}`;
    let pending = this.#reads.get(key) as Promise<T> | undefined;
    if (pending === undefined) {
      const started = read();
      pending = started;
      started.catch(() => this.#reads.get(key) === started && this.#reads.delete(key));
      this.#reads.set(key, started);
    }
    return pending;
  }

  /** The head from a read sent at or after `since` (`performance.now()` time); reads are `headCacheMs` apart. */
  async #headSentSince(since: number): Promise<number> {
    if (this.#head !== undefined && this.#head.sentAt >= since) return this.#head.number;
    const inFlight = this.#headInFlight;
    if (inFlight !== undefined && inFlight.sentAt >= since) return (await inFlight.answer).number;
    return (await this.#nextHeadRead()).number;
  }

  /** The next head read: now if the last one was sent `headCacheMs` ago or more, else when it was. */
  #nextHeadRead(): Promise<HeadRead> {
    if (this.#headScheduled !== undefined) return this.#headScheduled;
    const lastSent = Math.max(this.#head?.sentAt ?? -Infinity, this.#headInFlight?.sentAt ?? -Infinity);
    const wait = lastSent + this.#headCacheMs - performance.now();
    const scheduled = (wait > 0 ? sleep(wait) : Promise.resolve()).then(() => {
      this.#headScheduled = undefined;
      return this.#readHead();
    });
    this.#headScheduled = scheduled;
    return scheduled;
  }

  #readHead(): Promise<HeadRead> {
    const sentAt = performance.now();
    const answer = this.#provider.getBlockNumber().then((number) => {
      const read = { number, sentAt };
      if (this.#head === undefined || sentAt > this.#head.sentAt) this.#head = read;
      return read;
    });
    const inFlight = { sentAt, answer };
    this.#headInFlight = inFlight;
    const settle = () => this.#headInFlight === inFlight && (this.#headInFlight = undefined);
    answer.then(settle, settle);
    return answer;
  }
}

/** A transaction receipt as JSON-RPC answers it (the fields read). */
interface RawReceipt {
  status?: string;
  logs: RawLog[];
}

/** A log as JSON-RPC answers it. */
interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  transactionHash: string;
  removed?: boolean;
}

/** A head read: the block number and when the request was sent. */
interface HeadRead {
  number: number;
  sentAt: number;
}

function publicKeyOf(key: { suite: bigint; publicKey: string }): PublicKey | undefined {
  const suite = Number(key.suite);
  if (suite === KeySuite.None || getBytes(key.publicKey).length === 0) return undefined;
  return { suite, publicKey: getBytes(key.publicKey) };
}
