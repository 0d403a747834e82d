import { ZeroHash } from "ethers";

import { type AccessCheck, type GrantScope, enumName, enumValue } from "./constants.js";
import type { Context } from "./context.js";
import { dataTypeTarget } from "./ids.js";
import { DEFAULTS, type RecordAccessInput, address, bytes32, grantKeyStruct, uint } from "./requests.js";
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
   * Records a read of `assetId` under the caller's grant. Caller: the consumer.
   * @returns a transaction whose `wait()` gives the access record (id, read n of m, and what
   * `recordOutcome` needs); a refused read throws `AccessDeniedError` with its `reason`
   * @example
   * const access = await (await bank.accessLog.recordAccess({ subjectId, purpose: 1, assetId })).wait();
   * console.log(`read ${access.readNumber} of ${access.maxReads}`);
   */
  async recordAccess(input: RecordAccessInput): Promise<PendingTransaction<AccessRecord>> {
    const subjectId = bytes32("subjectId", input.subjectId);
    const scope: GrantScope = input.scope ?? DEFAULTS.scope;
    const purpose = uint("purpose", input.purpose, 16);
    const assetId = bytes32("assetId", input.assetId);
    return this.#ctx.write(
      "recordAccess",
      () => this.#ctx.dataSafe.recordAccess(subjectId, enumValue("GrantScope", scope), purpose, assetId),
      async (receipt) => {
        const { args } = eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("AccessRecorded"));
        const at = { blockTag: receipt.blockNumber };
        const ds = this.#ctx.dataSafe;
        const target =
          scope === "Asset"
            ? assetId
            : dataTypeTarget(Number((await this.#ctx.read("getAsset", () => ds.getAsset(assetId, at))).dataType));
        const version = Number(args.version);
        const readNumber = Number(args.readNumber);
        return {
          accessId: args.accessId,
          grantId: args.grantId,
          key: { subjectId: args.subjectId, consumer: args.consumer, scope, target, purpose: Number(args.purpose) },
          assetId: args.assetId,
          version,
          readNumber,
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
   * Whether `consumer` could read `assetId` now under its grant, and if not why.
   * @returns `"Allowed"` or the check that fails, e.g. `"GrantExpired"`
   */
  async check(input: RecordAccessInput & { consumer: Address }): Promise<AccessCheck> {
    const result = await this.#ctx.read("checkAccess", () =>
      this.#ctx.dataSafe.checkAccess(
        bytes32("subjectId", input.subjectId),
        address("consumer", input.consumer),
        enumValue("GrantScope", input.scope ?? DEFAULTS.scope),
        uint("purpose", input.purpose, 16),
        bytes32("assetId", input.assetId),
      ),
    );
    return enumName("AccessCheck", result);
  }

  /** The outcome reported for an access (0 if none yet). */
  async outcomeOf(accessId: Hex): Promise<number> {
    const id = bytes32("accessId", accessId);
    return Number(await this.#ctx.read("outcomeOf", () => this.#ctx.dataSafe.outcomeOf(id)));
  }
}
