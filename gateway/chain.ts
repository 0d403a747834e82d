import {
  Contract,
  type JsonRpcProvider,
  type Log,
  type TransactionReceipt,
  getAddress,
  getBytes,
  isHexString,
  recoverAddress,
} from "ethers";

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

/**
 * What the gateway reads from the chain, always at a confirmed block (`head - confirmations`): the
 * state it decides on cannot change under it, and a value read at a block never changes, so reads
 * are cached per block. Receipts of confirmed transactions are immutable too, and one receipt may
 * record many accesses (a Multicall of reads): they are cached by hash.
 */

const ERC1271_ABI = ["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"];
const ERC1271_MAGIC = "0x1626ba7e";
const RECEIPT_CACHE = 4_096;
const PER_BLOCK_CACHE = 16_384;
const CONSUMER = enumValue("MemberKind", "Consumer");

/** One `AccessRecorded` event, as the gateway checks it. */
export interface RecordedAccess {
  accessId: string;
  grantId: string;
  subjectId: string;
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
  #head: { number: number; at: number } | undefined;
  #headRequest: Promise<number> | undefined;
  readonly #receipts = new Map<string, Promise<Map<string, RecordedAccess>>>();
  readonly #perBlock = new Map<string, Promise<unknown>>();
  #perBlockNumber = -1;

  constructor(options: ChainViewOptions) {
    this.#provider = options.provider;
    this.dataSafeAddress = getAddress(options.dataSafe);
    this.#dataSafe = DataSafe__factory.connect(this.dataSafeAddress, options.provider);
    this.#keys = KeyDirectory__factory.connect(getAddress(options.keyDirectory), options.provider);
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
   * @param fresh read the head now instead of reusing one up to `headCacheMs` old
   */
  async confirmedBlock(fresh = false): Promise<number> {
    const now = Date.now();
    if (fresh || this.#head === undefined || now - this.#head.at > this.#headCacheMs) {
      this.#headRequest ??= this.#provider.getBlockNumber().finally(() => (this.#headRequest = undefined));
      this.#head = { number: await this.#headRequest, at: now };
    }
    return Math.max(0, this.#head.number - this.confirmations);
  }

  /** The newest block, read now. */
  async headBlock(): Promise<number> {
    await this.confirmedBlock(true);
    return this.#head!.number;
  }

  /** The asset's status at `block` (`"None"` if never issued). */
  async assetStatusAt(assetId: string, block: number): Promise<(typeof ENUMS.AssetStatus)[number]> {
    const [asset, valid] = await Promise.all([
      this.#dataSafe.getAsset(assetId, { blockTag: block }),
      this.#dataSafe.isValid(assetId, { blockTag: block }),
    ]);
    const status = ENUMS.AssetStatus[Number(asset.status)] ?? "None";
    // `isValid` also honours valid-until: an expired asset reads as Valid but is not.
    return status === "Valid" && !valid ? "Revoked" : status;
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
    if (isHexString(signature, 65)) {
      try {
        if (recoverAddress(digest, signature) === getAddress(account)) return true;
      } catch {
        // Not a valid ECDSA signature: a contract wallet may still accept it.
      }
    }
    if ((await this.#provider.getCode(account, block)) === "0x") return false;
    try {
      const wallet = new Contract(account, ERC1271_ABI, this.#provider);
      return (await wallet.isValidSignature(digest, getBytes(signature), { blockTag: block })) === ERC1271_MAGIC;
    } catch {
      return false;
    }
  }

  #decodeAccess(log: Log): RecordedAccess | undefined {
    const parsed = this.#dataSafe.interface.parseLog(log);
    if (parsed === null) return undefined;
    const args = parsed.args;
    return {
      accessId: String(args.accessId).toLowerCase(),
      grantId: String(args.grantId).toLowerCase(),
      subjectId: String(args.subjectId).toLowerCase(),
      consumer: getAddress(String(args.consumer)),
      assetId: String(args.assetId).toLowerCase(),
      fields: BigInt(args.fields),
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash.toLowerCase(),
    };
  }

  /** The accesses a transaction recorded on this deployment, by id (none if unknown or reverted). */
  #accessesIn(hash: string): Promise<Map<string, RecordedAccess>> {
    const key = hash.toLowerCase();
    let pending = this.#receipts.get(key);
    if (pending === undefined) {
      pending = this.#provider.getTransactionReceipt(key).then((receipt) => this.#decodeAccesses(receipt));
      // Only a mined receipt is immutable; an unknown hash may be mined later, a failed read retried.
      pending.then(
        (accesses) => accesses.size === 0 && this.#receipts.delete(key),
        () => this.#receipts.delete(key),
      );
      if (this.#receipts.size >= RECEIPT_CACHE) this.#receipts.delete(this.#receipts.keys().next().value!);
      this.#receipts.set(key, pending);
    }
    return pending;
  }

  #decodeAccesses(receipt: TransactionReceipt | null): Map<string, RecordedAccess> {
    const accesses = new Map<string, RecordedAccess>();
    if (receipt === null || receipt.status !== 1) return accesses;
    const topic = this.#dataSafe.getEvent("AccessRecorded").fragment.topicHash;
    for (const log of receipt.logs) {
      if (log.address !== this.dataSafeAddress || log.topics[0] !== topic) continue;
      const access = this.#decodeAccess(log);
      if (access !== undefined) accesses.set(access.accessId, access);
    }
    return accesses;
  }

  /** Memoises a read at `block`; the cache holds one block's reads (the confirmed block moves forward). */
  #cached<T>(block: number, key: string, read: () => Promise<T>): Promise<T> {
    if (block !== this.#perBlockNumber) {
      if (block < this.#perBlockNumber) return read();
      this.#perBlock.clear();
      this.#perBlockNumber = block;
    }
    let pending = this.#perBlock.get(key) as Promise<T> | undefined;
    if (pending === undefined) {
      pending = read();
      pending.catch(() => this.#perBlock.delete(key));
      if (this.#perBlock.size >= PER_BLOCK_CACHE) this.#perBlock.clear();
      this.#perBlock.set(key, pending);
    }
    return pending;
  }
}

function publicKeyOf(key: { suite: bigint; publicKey: string }): PublicKey | undefined {
  const suite = Number(key.suite);
  if (suite === KeySuite.None || getBytes(key.publicKey).length === 0) return undefined;
  return { suite, publicKey: getBytes(key.publicKey) };
}
