import { type TypedDataDomain, getAddress } from "ethers";
import { LRUCache } from "lru-cache";

import { type PublicKey, sealTo } from "../sdk/crypto/index.js";
import {
  type ConsumerFetchBody,
  type HolderFetchBody,
  type Release,
  type ReleasedPayload,
  type UploadBody,
  type UploadResult,
  gatewayDomain,
  releaseAad,
} from "../sdk/delivery-protocol.js";
import {
  type AssetKey,
  InvalidInputError,
  assetIdOf,
  canonicalJson,
  commitFields,
  commitRecord,
  discloseFields,
  schemaHashOf,
} from "../sdk/index.js";
import { AtRestCipher, AtRestIntegrityError } from "./at-rest.js";
import type { ChainView, RecordedAccess } from "./chain.js";
import type { SchemaDocument } from "./config.js";
import { GatewayDigests } from "./digests.js";
import { Refusal } from "./problems.js";
import type { PayloadStore, StoredPayload } from "./store/index.js";

/**
 * What the gateway does, over HTTP or not: store an issuer's payload once its commitment matches an
 * asset on chain, and release a payload to the holder's key or, once per recorded read, to the
 * consumer's key. Every "no" is a `Refusal` with a stable code; every check reads the chain at a
 * confirmed block.
 */

/** Asset keys whose id is memoised (one per stored payload served recently). */
const ASSET_ID_MEMO = 10_000;

/** What was sealed at rest for an asset: its key, scheme, record and salt. */
interface PayloadPlaintext {
  key: AssetKey;
  scheme: "record" | "fields";
  record: unknown;
  salt: string;
}

/** What a release did, for the log line. */
export interface ReleaseOutcome {
  release: Release;
  log: Record<string, unknown>;
}

export interface DeliveryServiceOptions {
  chain: ChainView;
  store: PayloadStore;
  cipher: AtRestCipher;
  chainId: bigint;
  schemas: Map<number, SchemaDocument>;
  maxSignatureLifetime: number;
  /** Unix seconds now (tests of deadlines replace it). */
  now?: () => number;
}

export class DeliveryService {
  readonly domain: TypedDataDomain;
  readonly #digests: GatewayDigests;
  readonly #chain: ChainView;
  readonly #store: PayloadStore;
  readonly #cipher: AtRestCipher;
  readonly #chainId: bigint;
  readonly #schemas: Map<number, SchemaDocument>;
  readonly #maxLifetime: number;
  readonly #now: () => number;
  readonly #assetIds = new LRUCache<string, string>({ max: ASSET_ID_MEMO });

  constructor(options: DeliveryServiceOptions) {
    this.#chain = options.chain;
    this.#store = options.store;
    this.#cipher = options.cipher;
    this.#chainId = options.chainId;
    this.#schemas = options.schemas;
    this.#maxLifetime = options.maxSignatureLifetime;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.domain = gatewayDomain(options.chainId, options.chain.dataSafeAddress);
    this.#digests = new GatewayDigests(this.domain);
  }

  /** Stores an issuer's payload if it commits to an asset that issuer issued; idempotent. */
  async upload(body: UploadBody): Promise<UploadResult & { log: Record<string, unknown> }> {
    const issuer = addressOf(body.issuer, "issuer");
    this.#checkDeadline(body.deadline, false);
    const key: AssetKey = {
      issuer,
      subjectId: body.subjectId.toLowerCase(),
      dataType: body.dataType,
      contentCommitment: commitmentOf(body.scheme, body.record, body.salt),
    };
    const assetId = assetIdOf(key).toLowerCase();
    if (assetId !== body.assetId.toLowerCase()) {
      throw new Refusal("commitment-mismatch", "the record and salt do not commit to the named asset", {
        assetId: body.assetId,
      });
    }
    // An upload is checked at the head, not a confirmed block: the issuer uploads right after issuing,
    // and storing a payload releases nothing (every release checks the chain at a confirmed block).
    const block = await this.#read(() => this.#chain.headBlock());
    const digest = this.#digests.upload({ assetId, deadline: body.deadline });
    if (!(await this.#read(() => this.#chain.isSignatureOf(key.issuer, digest, body.signature, block)))) {
      throw new Refusal("invalid-signature", "the upload is not signed by the asset's issuer", { assetId });
    }
    const status = await this.#read(() => this.#chain.assetStatusAt(assetId, block));
    if (status === "None") {
      throw new Refusal("asset-not-found", `no asset ${assetId} at block ${block}`, { assetId });
    }
    if (status !== "Valid") throw new Refusal("asset-not-valid", `the asset is ${status}`, { assetId, status });

    const plaintext: PayloadPlaintext = {
      key,
      scheme: body.scheme,
      record: body.record,
      salt: body.salt.toLowerCase(),
    };
    const sealed = this.#cipher.seal(assetId, utf8(canonicalJson(plaintext)));
    const stored = await this.#store.putPayload({
      assetId,
      issuer: key.issuer,
      subjectId: key.subjectId,
      dataType: key.dataType,
      ...sealed,
      uploadedAt: Date.now(),
    });
    return { assetId, stored, log: { issuer: key.issuer, dataType: key.dataType, scheme: body.scheme } };
  }

  /** Releases an asset's whole payload to its holder's key, on the current controller's signed request. */
  async fetchAsHolder(body: HolderFetchBody): Promise<ReleaseOutcome> {
    const account = addressOf(body.account, "account");
    const assetId = body.assetId.toLowerCase();
    const subjectId = body.subjectId.toLowerCase();
    this.#checkDeadline(body.deadline, true);
    const block = await this.#confirmed();
    const digest = this.#digests.holderFetch({ assetId, subjectId, nonce: body.nonce, deadline: body.deadline });
    const [signed, controller] = await this.#read(() =>
      Promise.all([
        this.#chain.isSignatureOf(account, digest, body.signature, block),
        this.#chain.controllerAt(subjectId, block),
      ]),
    );
    if (!signed) throw new Refusal("invalid-signature", "the fetch request is not signed by `account`");
    if (controller !== account) {
      throw new Refusal("not-subject-controller", `${account} does not control subject ${subjectId}`, { subjectId });
    }
    const payload = await this.#payload(assetId);
    if (payload.key.subjectId !== subjectId) {
      throw new Refusal("not-subject-controller", `asset ${assetId} is not subject ${subjectId}'s`, { subjectId });
    }
    const recipient = await this.#read(() => this.#chain.holderKeyAt(subjectId, block));
    if (recipient === undefined) {
      throw new Refusal("recipient-key-missing", "the subject's controller has set no holder key", { subjectId });
    }
    const released: ReleasedPayload = { kind: "record", ...payload };
    const sealed = await sealTo(
      recipient,
      utf8(canonicalJson(released)),
      releaseAad(this.#chainId, this.#chain.dataSafeAddress, { kind: "holder", assetId, nonce: body.nonce }),
    );
    if (!(await this.#store.useNonce(account, body.nonce.toLowerCase(), body.deadline))) {
      throw new Refusal("fetch-replayed", "this signed fetch request was served already");
    }
    return {
      release: {
        kind: "holder",
        assetId,
        recipient: publicKeyJson(recipient),
        blockNumber: block,
        sealed: hex(sealed),
      },
      log: { subjectId, holder: account, suite: recipient.suite },
    };
  }

  /**
   * Releases the payload a recorded read covers, once, sealed to the consumer's current member key:
   * the whole record, or only the fields the read names with their salts and proofs.
   */
  async fetchAsConsumer(body: ConsumerFetchBody): Promise<ReleaseOutcome> {
    const account = addressOf(body.account, "account");
    const accessId = body.accessId.toLowerCase();
    const assetId = body.assetId.toLowerCase();
    this.#checkDeadline(body.deadline, true);
    let block = await this.#confirmed();
    const access = await this.#read(() => this.#chain.recordedAccess(body.transactionHash, accessId));
    if (access === undefined) {
      throw new Refusal("access-not-found", `transaction ${body.transactionHash} recorded no access ${accessId}`, {
        accessId,
      });
    }
    if (access.blockNumber > block) block = await this.#confirmed(true);
    if (access.blockNumber > block) {
      throw new Refusal(
        "access-not-confirmed",
        `recorded in block ${access.blockNumber}; the gateway serves blocks up to ${block} (${this.#chain.confirmations} confirmations)`,
        { accessId, blockNumber: access.blockNumber },
      );
    }
    const digest = this.#digests.consumerFetch({
      accessId,
      transactionHash: body.transactionHash,
      assetId,
      deadline: body.deadline,
    });
    if (!(await this.#read(() => this.#chain.isSignatureOf(account, digest, body.signature, block)))) {
      throw new Refusal("invalid-signature", "the fetch request is not signed by `account`");
    }
    if (access.consumer !== account.toLowerCase()) {
      throw new Refusal("access-not-yours", `the access was recorded by ${getAddress(access.consumer)}`, { accessId });
    }
    // Only the consumer learns whether its read was served: checked after its signature.
    if (await this.#store.isReleased(accessId)) {
      throw new Refusal("access-already-served", "this access was served already", { accessId });
    }
    if (access.assetId !== assetId) {
      throw new Refusal("access-asset-mismatch", `the access is for asset ${access.assetId}`, { accessId });
    }
    const [active, recipient] = await this.#read(() =>
      Promise.all([this.#chain.isActiveConsumerAt(account, block), this.#chain.memberKeyAt(account, block)]),
    );
    if (!active) throw new Refusal("consumer-not-active", `${account} is not an active consumer`, { accessId });
    if (recipient === undefined) {
      throw new Refusal("recipient-key-missing", `${account} has no member encryption key`, { accessId });
    }
    const payload = await this.#payload(assetId);
    const released = await this.#releasedFor(access, payload, block);
    const sealed = await sealTo(
      recipient,
      utf8(canonicalJson(released)),
      releaseAad(this.#chainId, this.#chain.dataSafeAddress, { kind: "consumer", accessId }),
    );
    const written = await this.#store.recordRelease({
      accessId,
      assetId,
      consumer: account,
      transactionHash: access.transactionHash,
      blockNumber: access.blockNumber,
      releasedAt: Date.now(),
    });
    if (!written) throw new Refusal("access-already-served", "this access was served already", { accessId });
    return {
      release: {
        kind: "consumer",
        assetId,
        accessId,
        fields: access.fields.toString(),
        recipient: publicKeyJson(recipient),
        blockNumber: block,
        sealed: hex(sealed),
      },
      log: {
        consumer: account,
        accessId,
        fields: access.fields.toString(),
        released: released.kind,
        suite: recipient.suite,
      },
    };
  }

  /** Forgets holder fetch nonces past their deadline. */
  purgeNonces(): Promise<number> {
    return this.#store.purgeNonces(this.#now());
  }

  async #releasedFor(access: RecordedAccess, payload: PayloadPlaintext, block: number): Promise<ReleasedPayload> {
    const mask = access.fields;
    if (mask === 0n) return { kind: "record", ...payload };
    if (payload.scheme !== "fields") {
      throw new Refusal("fields-not-disclosable", "the asset commits to the whole record, not field by field", {
        accessId: access.accessId,
      });
    }
    const names = await this.#fieldNames(payload.key.dataType, mask, block);
    try {
      const disclosure = discloseFields(payload.record as Record<string, unknown>, payload.salt, names);
      return { kind: "disclosure", key: payload.key, disclosure };
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      throw new Refusal("fields-not-disclosable", error.shortMessage, { accessId: access.accessId });
    }
  }

  /** The field names a mask selects, from a schema document whose hash the catalog holds. */
  async #fieldNames(dataType: number, mask: bigint, block: number): Promise<string[]> {
    const schema = this.#schemas.get(dataType);
    if (schema === undefined) {
      throw new Refusal("schema-unavailable", `the gateway is configured with no schema of data type ${dataType}`);
    }
    const onChain = await this.#read(() => this.#chain.schemaHashAt(dataType, block));
    if (schemaHashOf(schema) !== onChain) {
      throw new Refusal("schema-unavailable", `the configured schema of data type ${dataType} is not the catalog's`);
    }
    const fields = schema.fields.map((field) => field.name);
    if (mask >> BigInt(fields.length) !== 0n) {
      throw new Refusal("fields-not-disclosable", `the read names a field beyond the schema's ${fields.length}`);
    }
    return fields.filter((_, i) => (mask >> BigInt(i)) & 1n);
  }

  /** The stored payload of an asset, opened and checked. */
  async #payload(assetId: string): Promise<PayloadPlaintext> {
    const row: StoredPayload | undefined = await this.#store.getPayload(assetId);
    if (row === undefined) throw new Refusal("payload-not-found", `no payload uploaded for ${assetId}`, { assetId });
    let plaintext: PayloadPlaintext;
    try {
      plaintext = JSON.parse(this.#cipher.open(assetId, row).toString("utf8")) as PayloadPlaintext;
    } catch (error) {
      if (error instanceof AtRestIntegrityError) {
        throw new Refusal("storage-corrupt", "the stored payload failed its integrity check", { assetId });
      }
      throw error;
    }
    // The AEAD binds the row to the asset id; the id binds the key and commitment. Check both held.
    if (this.#assetIdOf(plaintext.key) !== assetId) {
      throw new Refusal("storage-corrupt", "the stored payload names another asset", { assetId });
    }
    return plaintext;
  }

  /**
   * `assetIdOf(key)` in lower case, memoised by the key's four fields (a pure function: the ABI
   * encoding and keccak of the same fields give the same id; ethers' ABI coder is most of its cost).
   */
  #assetIdOf(key: AssetKey): string {
    const memo = `${key.issuer}|${key.subjectId}|${key.dataType}|${key.contentCommitment}`;
    let id = this.#assetIds.get(memo);
    if (id === undefined) {
      id = assetIdOf(key).toLowerCase();
      this.#assetIds.set(memo, id);
    }
    return id;
  }

  #checkDeadline(deadline: number, bounded: boolean): void {
    const now = this.#now();
    if (deadline < now) throw new Refusal("signature-expired", `deadline ${deadline} is before ${now}`);
    if (bounded && deadline > now + this.#maxLifetime) {
      throw new Refusal("deadline-too-far", `deadline ${deadline} is more than ${this.#maxLifetime} s ahead`);
    }
  }

  #confirmed(fresh = false): Promise<number> {
    return this.#read(() => this.#chain.confirmedBlock(fresh));
  }

  /** A chain read; a node that does not answer is a 503, not a 500. */
  async #read<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof Refusal) throw error;
      throw new Refusal("chain-unavailable", (error as Error).message?.slice(0, 200));
    }
  }
}

function commitmentOf(scheme: "record" | "fields", record: unknown, salt: string): string {
  try {
    return scheme === "record"
      ? commitRecord(record, salt).commitment
      : commitFields(record as Record<string, unknown>, salt).root;
  } catch (error) {
    if (error instanceof InvalidInputError) throw new Refusal("invalid-request", error.shortMessage);
    throw error;
  }
}

/** An address with its EIP-55 checksum, or `invalid-request` naming the field if it has a wrong one. */
function addressOf(value: string, field: string): string {
  try {
    return getAddress(value);
  } catch {
    throw new Refusal("invalid-request", `${field}: expected an address (bad EIP-55 checksum)`);
  }
}

function publicKeyJson(key: PublicKey): Release["recipient"] {
  return { suite: key.suite, publicKey: hex(key.publicKey) };
}

/**
 * A string's UTF-8 bytes (Node's encoder; ethers' `toUtf8Bytes` walks code points in JS). Like
 * ethers, a lone surrogate is an error, never silently replaced.
 */
function utf8(text: string): Uint8Array {
  // `isWellFormed` is Node 20+ (ES2024), newer than the TypeScript lib this project targets.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed())
    throw new Refusal("invalid-request", "the record holds a lone UTF-16 surrogate");
  return Buffer.from(text, "utf8");
}

/** Bytes as 0x-hex (Node's encoder; ethers' `hexlify` builds the string a byte at a time). */
function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}
