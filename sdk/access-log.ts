import { ZeroHash } from "ethers";

import { type AccessCheck, enumName, enumValue } from "./constants.js";
import type { Context } from "./context.js";
import { fieldsOf } from "./fields.js";
import { assetIdOf, dataTypeTarget } from "./ids.js";
import { type RecordAccessInput, address, assetKeyOf, bytes32, grantKeyStruct, scopeOf, uint } from "./requests.js";
import { type PendingTransaction, eventIn } from "./transaction.js";
import type { AccessRecord, Address, Hex } from "./types.js";

/**
 * The access log: a consumer records each read of a holder's data under its grant (checked against
 * the grant in the same transaction, refused with a typed `AccessDeniedError` otherwise) and then
 * reports what came of it.
 */
export class AccessLog {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /**
   * Records a read of the asset `asset` names under the caller's grant. Caller: the consumer.
   * @returns a transaction whose `wait()` gives the access record (id, read n of m, the fields read,
   * and what `recordOutcome` needs); a refused read throws `AccessDeniedError` with its `reason`
   * @example
   * const access = await (await bank.accessLog.recordAccess({ asset: holderAsset.key, purpose: 1 })).wait();
   * console.log(`read ${access.readNumber} of ${access.maxReads}`);
   */
  async recordAccess(input: RecordAccessInput): Promise<PendingTransaction<AccessRecord>> {
    const read = readOf(input);
    return this.#ctx.write(
      "recordAccess",
      () => this.#ctx.dataSafe.recordAccess(read.asset, read.scopeValue, read.purpose, read.fields),
      (receipt) => {
        const { args } = eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("AccessRecorded"));
        const target =
          read.scope === "Asset" ? assetIdOf(read.asset) : dataTypeTarget(read.asset.issuer, read.asset.dataType);
        return {
          accessId: args.accessId,
          grantId: args.grantId,
          key: {
            subjectId: args.subjectId,
            consumer: args.consumer,
            scope: read.scope,
            target,
            purpose: Number(args.purpose),
          },
          assetId: args.assetId,
          fields: args.fields,
          version: Number(args.version),
          readNumber: Number(args.readNumber),
          maxReads: Number(args.maxReads),
        };
      },
    );
  }

  /**
   * Reports the business outcome of a read, once. Caller: the consumer that read.
   * @param access what `recordAccess(...).wait()` returned (or its key, version and read number)
   * @param outcome outcome code (non-zero), e.g. 1 = loan approved in the network's convention
   * @param outcomeReference commitment to the consumer's business record; default none
   */
  async recordOutcome(
    access: Pick<AccessRecord, "key" | "version" | "readNumber">,
    outcome: number,
    outcomeReference: Hex = ZeroHash,
  ): Promise<PendingTransaction<{ accessId: Hex; outcome: number }>> {
    const key = grantKeyStruct(access.key);
    const code = uint("outcome", outcome, 16);
    const reference = bytes32("outcomeReference", outcomeReference);
    return this.#ctx.write(
      "recordOutcome",
      () => this.#ctx.dataSafe.recordOutcome(key, access.version, access.readNumber, code, reference),
      (receipt) => {
        const { args } = eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("AccessOutcomeRecorded"));
        return { accessId: args.accessId, outcome: Number(args.outcome) };
      },
    );
  }

  /**
   * Whether `consumer` could read the asset now under its grant, and if not why.
   * @returns `"Allowed"` or the check that fails, e.g. `"GrantExpired"`
   */
  async check(input: RecordAccessInput & { consumer: Address }): Promise<AccessCheck> {
    const read = readOf(input);
    const consumer = address("consumer", input.consumer);
    const result = await this.#ctx.read("checkAccess", () =>
      this.#ctx.dataSafe.checkAccess(read.asset, consumer, read.scopeValue, read.purpose, read.fields),
    );
    return enumName("AccessCheck", result);
  }

  /** The outcome reported for an access (0 if none yet). */
  async outcomeOf(accessId: Hex): Promise<number> {
    const id = bytes32("accessId", accessId);
    return Number(await this.#ctx.read("outcomeOf", () => this.#ctx.dataSafe.outcomeOf(id)));
  }
}

/** A read's arguments with defaults, checked. */
function readOf(input: RecordAccessInput) {
  const scope = scopeOf("scope", input.scope);
  return {
    asset: assetKeyOf(input.asset),
    scope,
    scopeValue: enumValue("GrantScope", scope),
    purpose: uint("purpose", input.purpose, 16),
    fields: fieldsOf("fields", input.fields),
  };
}
