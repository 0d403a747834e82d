import type { TransactionReceipt } from "ethers";

import type { TypedLogDescription } from "../typechain-types/common.js";
import type { AssetIssuedEvent } from "../typechain-types/DataSafe.js";
import { type Disclosure, commitRecord, verifyDisclosure } from "./commitments.js";
import { type AssetStatus, enumName } from "./constants.js";
import type { Context } from "./context.js";
import { InvalidInputError } from "./errors.js";
import { assetIdOf } from "./ids.js";
import { type NewAssetInput, address, assetKeyOf, bytes32, newAssetOf, uint } from "./requests.js";
import { type PendingTransaction, eventIn, eventsIn } from "./transaction.js";
import type { Address, Asset, AssetKey, Authorization, Hex, ReturnRequest } from "./types.js";

/** An asset just issued: its id and the key a verifier recomputes it from. */
export interface IssuedAsset {
  assetId: Hex;
  key: AssetKey;
}

/** A holder's request that a department return data of a type. */
export interface RequestReturnInput {
  subjectId: Hex;
  dataType: number;
  /** The department asked: an active department authorised in the catalog for `dataType`. */
  department: Address;
}

/** What a verifier learns from the chain about a record it was shown. */
export interface AssetVerification {
  /** The id the record's key hashes to. */
  assetId: Hex;
  /** Issued by that department to that holder, neither revoked, superseded nor expired, and the
   * department not suspended (`verifyAsset`). */
  valid: boolean;
  /** The asset's status on chain (`"None"` if never issued: the record or salt is wrong). */
  status: AssetStatus;
}

/**
 * The data-asset registry: departments return data to holders as assets (proactively, or on the
 * holder's request), revoke them or supersede them by a new version; anyone verifies a record.
 */
export class Assets {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /**
   * Issues one asset. Caller: a department authorised for the type.
   * @returns a transaction whose `wait()` gives the `assetId` and its key
   * @example
   * const { commitment } = commitRecord(record);
   * const { assetId } = await (await department.assets.issue({ subjectId, dataType: 1, contentCommitment: commitment })).wait();
   */
  async issue(input: NewAssetInput): Promise<PendingTransaction<IssuedAsset>> {
    const asset = newAssetOf(input);
    return this.#ctx.write(
      "issueAsset",
      () => this.#ctx.dataSafe.issueAsset(asset),
      (receipt) => this.#issuedOne(receipt),
    );
  }

  /**
   * Issues several assets in one transaction (proactive return of a batch). Caller: a department
   * authorised for every type; put assets of one type together, the contract checks each run once.
   * @returns a transaction whose `wait()` gives the `assets`, in input order
   */
  async issueBatch(inputs: NewAssetInput[]): Promise<PendingTransaction<{ assets: IssuedAsset[] }>> {
    if (inputs.length === 0) throw new InvalidInputError("inputs", "is empty");
    const assets = inputs.map(newAssetOf);
    return this.#ctx.write(
      "issueAssets",
      () => this.#ctx.dataSafe.issueAssets(assets),
      (receipt) => ({ assets: this.#issued(receipt) }),
    );
  }

  /**
   * Revokes an asset. Caller: its issuer.
   * @param reason reason code, recorded in the `AssetRevoked` event
   */
  async revoke(key: AssetKey, reason: number): Promise<PendingTransaction<{ assetId: Hex }>> {
    const k = assetKeyOf(key);
    const code = uint("reason", reason, 16);
    return this.#ctx.write(
      "revokeAsset",
      () => this.#ctx.dataSafe.revokeAsset(k, code),
      () => ({ assetId: assetIdOf(k) }),
    );
  }

  /**
   * Replaces an asset by a new version (same holder and type). Caller: its issuer.
   * @returns a transaction whose `wait()` gives the new asset and the `previousAssetId`
   */
  async supersede(
    previous: AssetKey,
    next: NewAssetInput,
  ): Promise<PendingTransaction<IssuedAsset & { previousAssetId: Hex }>> {
    const k = assetKeyOf(previous);
    const asset = newAssetOf(next);
    return this.#ctx.write(
      "supersedeAsset",
      () => this.#ctx.dataSafe.supersedeAsset(k, asset),
      (receipt) => ({ ...this.#issuedOne(receipt), previousAssetId: assetIdOf(k) }),
    );
  }

  /**
   * Asks a department to return data of a type. Caller: the holder's controller.
   * @returns a transaction whose `wait()` gives the `requestId`
   */
  async requestReturn(input: RequestReturnInput): Promise<PendingTransaction<{ requestId: Hex }>> {
    const { subjectId, dataType, department } = requestReturnOf(input);
    return this.#ctx.write(
      "requestReturn",
      () => this.#ctx.dataSafe.requestReturn(subjectId, dataType, department),
      (receipt) => this.#returnRequested(receipt),
    );
  }

  /**
   * Asks a department to return data of a type with the controller's signature (see
   * `consent.signReturnRequest`), so a holder whose phone never pays gas can ask. Anyone may relay.
   * @returns a transaction whose `wait()` gives the `requestId`
   * @example
   * const input = { subjectId, dataType: 4, department };
   * const authorization = await app.consent.signReturnRequest(phone, input);
   * const { requestId } = await (await app.assets.requestReturnBySig(input, authorization)).wait();
   */
  async requestReturnBySig(
    input: RequestReturnInput,
    authorization: Authorization,
  ): Promise<PendingTransaction<{ requestId: Hex }>> {
    const { subjectId, dataType, department } = requestReturnOf(input);
    return this.#ctx.write(
      "requestReturnBySig",
      () => this.#ctx.dataSafe.requestReturnBySig(subjectId, dataType, department, authorization),
      (receipt) => this.#returnRequested(receipt),
    );
  }

  /**
   * Answers a return request with a new asset. Caller: the department asked.
   * @returns a transaction whose `wait()` gives the new asset and the `requestId`
   */
  async fulfilReturnRequest(
    requestId: Hex,
    input: NewAssetInput,
  ): Promise<PendingTransaction<IssuedAsset & { requestId: Hex }>> {
    const id = bytes32("requestId", requestId);
    const asset = newAssetOf(input);
    return this.#ctx.write(
      "fulfilReturnRequest",
      () => this.#ctx.dataSafe.fulfilReturnRequest(id, asset),
      (receipt) => ({ ...this.#issuedOne(receipt), requestId: id }),
    );
  }

  /** Declines a return request. Caller: the department asked. */
  async declineReturnRequest(requestId: Hex, reason: number): Promise<PendingTransaction<{ requestId: Hex }>> {
    const id = bytes32("requestId", requestId);
    const code = uint("reason", reason, 16);
    return this.#ctx.write(
      "declineReturnRequest",
      () => this.#ctx.dataSafe.declineReturnRequest(id, code),
      () => ({ requestId: id }),
    );
  }

  /** Withdraws an open return request. Caller: the holder's controller. */
  async cancelReturnRequest(requestId: Hex): Promise<PendingTransaction<{ requestId: Hex }>> {
    const id = bytes32("requestId", requestId);
    return this.#ctx.write(
      "cancelReturnRequest",
      () => this.#ctx.dataSafe.cancelReturnRequest(id),
      () => ({ requestId: id }),
    );
  }

  /** The asset `assetId` (status `"None"` if unknown). */
  async get(assetId: Hex): Promise<Asset> {
    const id = bytes32("assetId", assetId);
    const a = await this.#ctx.read("getAsset", () => this.#ctx.dataSafe.getAsset(id));
    return {
      assetId: id,
      status: enumName("AssetStatus", a.status),
      dataType: Number(a.dataType),
      issuedAt: Number(a.issuedAt),
      validUntil: Number(a.validUntil),
      subjectTag: a.subjectTag,
    };
  }

  /** Whether the asset exists and is neither revoked, superseded nor expired. */
  async isValid(assetId: Hex): Promise<boolean> {
    const id = bytes32("assetId", assetId);
    return this.#ctx.read("isValid", () => this.#ctx.dataSafe.isValid(id));
  }

  /** The on-chain check of an asset key (`verifyAsset`). */
  async verify(key: AssetKey): Promise<AssetVerification> {
    const k = assetKeyOf(key);
    const valid = await this.#ctx.read("verifyAsset", () => this.#ctx.dataSafe.verifyAsset(k));
    const assetId = assetIdOf(k);
    return { assetId, valid, status: (await this.get(assetId)).status };
  }

  /**
   * Checks a record shown by its holder against the chain: recomputes its salted commitment and
   * asks the registry whether that department issued it to that holder and it is still valid.
   * @example
   * const { valid, status } = await verifier.assets.verifyRecord({ issuer, subjectId, dataType: 6, record, salt });
   */
  async verifyRecord(input: {
    issuer: Address;
    subjectId: Hex;
    dataType: number;
    record: unknown;
    salt: Hex;
  }): Promise<AssetVerification> {
    const { commitment } = commitRecord(input.record, input.salt);
    return this.verify({
      issuer: input.issuer,
      subjectId: input.subjectId,
      dataType: input.dataType,
      contentCommitment: commitment,
    });
  }

  /**
   * Checks some disclosed fields against the chain: the Merkle proofs against the disclosed root,
   * and the root as the content commitment of a valid asset of that issuer, holder and type.
   */
  async verifyDisclosure(input: {
    issuer: Address;
    subjectId: Hex;
    dataType: number;
    disclosure: Disclosure;
  }): Promise<AssetVerification & { fieldsProven: boolean }> {
    const root = bytes32("disclosure.root", input.disclosure.root);
    const fieldsProven = verifyDisclosure(input.disclosure, root);
    const onChain = await this.verify({
      issuer: input.issuer,
      subjectId: input.subjectId,
      dataType: input.dataType,
      contentCommitment: root,
    });
    return { ...onChain, valid: onChain.valid && fieldsProven, fieldsProven };
  }

  /** The return request `requestId`. */
  async getReturnRequest(requestId: Hex): Promise<ReturnRequest> {
    const id = bytes32("requestId", requestId);
    const r = await this.#ctx.read("getReturnRequest", () => this.#ctx.dataSafe.getReturnRequest(id));
    return {
      requestId: id,
      subjectId: r.subjectId,
      department: r.department,
      dataType: Number(r.dataType),
      status: enumName("ReturnRequestStatus", r.status),
      requestedAt: Number(r.requestedAt),
    };
  }

  /** Whether `issuer` may issue `dataType` now: an active department authorised in the catalog. */
  async canIssue(dataType: number, issuer: Address): Promise<boolean> {
    return this.#ctx.read("canIssue", () =>
      this.#ctx.dataSafe.canIssue(uint("dataType", dataType, 32), address("issuer", issuer)),
    );
  }

  /** For each id, whether an asset with it was ever issued (lets a re-run import skip what it did). */
  async areIssued(assetIds: Hex[]): Promise<boolean[]> {
    const ids = assetIds.map((id, i) => bytes32(`assetIds[${i}]`, id));
    return this.#ctx.read("areIssued", () => this.#ctx.dataSafe.areIssued(ids));
  }

  #returnRequested(receipt: TransactionReceipt): { requestId: Hex } {
    return {
      requestId: eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("ReturnRequested")).args.requestId,
    };
  }

  #issued(receipt: TransactionReceipt): IssuedAsset[] {
    return eventsIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("AssetIssued")).map(issuedAssetOf);
  }

  #issuedOne(receipt: TransactionReceipt): IssuedAsset {
    return issuedAssetOf(eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("AssetIssued")));
  }
}

/** A return request's fields, checked. */
export function requestReturnOf(input: RequestReturnInput): RequestReturnInput {
  return {
    subjectId: bytes32("subjectId", input.subjectId),
    dataType: uint("dataType", input.dataType, 32),
    department: address("department", input.department),
  };
}

function issuedAssetOf({ args }: TypedLogDescription<AssetIssuedEvent.Event>): IssuedAsset {
  return {
    assetId: args.assetId,
    key: {
      issuer: args.issuer,
      subjectId: args.subjectId,
      dataType: Number(args.dataType),
      contentCommitment: args.contentCommitment,
    },
  };
}
