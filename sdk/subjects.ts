import type { Context } from "./context.js";
import { InvalidInputError } from "./errors.js";
import { address, bytes32 } from "./requests.js";
import { type PendingTransaction, eventIn, eventsIn } from "./transaction.js";
import type { Address, Hex, Recovery, Subject } from "./types.js";

/**
 * Citizens and companies, known on chain only by a pseudonymous id (see `deriveSubjectId`) and
 * controlled by one key. Identity authorities register them and recover lost keys after a delay
 * the current key can use to object.
 */
export class Subjects {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /**
   * Registers a subject. Caller: an active identity authority.
   * @returns a transaction whose `wait()` gives the `subjectId`
   * @example
   * const subjectId = deriveSubjectId(pepper, "resident-id", "DEMO-0001");
   * await (await authority.subjects.register(subjectId, phone.address)).wait();
   */
  async register(subjectId: Hex, controller: Address): Promise<PendingTransaction<{ subjectId: Hex }>> {
    const id = bytes32("subjectId", subjectId);
    const key = address("controller", controller);
    return this.#ctx.write(
      "registerSubject",
      () => this.#ctx.dataSafe.registerSubject(id, key),
      (receipt) => ({
        subjectId: eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("SubjectRegistered")).args
          .subjectId,
      }),
    );
  }

  /** Registers several subjects in one transaction. Caller: an active identity authority. */
  async registerMany(
    subjects: { subjectId: Hex; controller: Address }[],
  ): Promise<PendingTransaction<{ subjectIds: Hex[] }>> {
    if (subjects.length === 0) throw new InvalidInputError("subjects", "is empty");
    const ids = subjects.map((s, i) => bytes32(`subjects[${i}].subjectId`, s.subjectId));
    const keys = subjects.map((s, i) => address(`subjects[${i}].controller`, s.controller));
    return this.#ctx.write(
      "registerSubjects",
      () => this.#ctx.dataSafe.registerSubjects(ids, keys),
      (receipt) => ({
        subjectIds: eventsIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("SubjectRegistered")).map(
          (e) => e.args.subjectId,
        ),
      }),
    );
  }

  /** Hands control to a new key; ends any pending recovery. Caller: the controller. */
  async transferControl(
    subjectId: Hex,
    newController: Address,
  ): Promise<PendingTransaction<{ subjectId: Hex; controller: Address }>> {
    const id = bytes32("subjectId", subjectId);
    const key = address("newController", newController);
    return this.#ctx.write(
      "transferControl",
      () => this.#ctx.dataSafe.transferControl(id, key),
      () => ({ subjectId: id, controller: key }),
    );
  }

  /**
   * Starts the recovery of a lost key, or replaces the caller's own pending one. Caller: an active
   * identity authority; another authority's pending recovery makes it revert `RecoveryAlreadyPending`.
   * @returns a transaction whose `wait()` gives when the recovery can complete
   */
  async initiateRecovery(
    subjectId: Hex,
    newController: Address,
  ): Promise<PendingTransaction<{ executableAt: number }>> {
    const id = bytes32("subjectId", subjectId);
    const key = address("newController", newController);
    return this.#ctx.write(
      "initiateRecovery",
      () => this.#ctx.dataSafe.initiateRecovery(id, key),
      (receipt) => ({
        executableAt: Number(
          eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("RecoveryInitiated")).args.executableAt,
        ),
      }),
    );
  }

  /** Cancels a pending recovery. Caller: the controller, or the identity authority that started it. */
  async cancelRecovery(subjectId: Hex): Promise<PendingTransaction<{ subjectId: Hex }>> {
    const id = bytes32("subjectId", subjectId);
    return this.#ctx.write(
      "cancelRecovery",
      () => this.#ctx.dataSafe.cancelRecovery(id),
      () => ({ subjectId: id }),
    );
  }

  /** Cancels any pending recovery (one a compromised authority started, say). Caller: REGULATOR. */
  async cancelRecoveryByGovernance(subjectId: Hex): Promise<PendingTransaction<{ subjectId: Hex }>> {
    const id = bytes32("subjectId", subjectId);
    return this.#ctx.write(
      "cancelRecoveryByGovernance",
      () => this.#ctx.dataSafe.cancelRecoveryByGovernance(id),
      () => ({ subjectId: id }),
    );
  }

  /** Completes a recovery whose delay has passed. Anyone may call. */
  async completeRecovery(subjectId: Hex): Promise<PendingTransaction<{ controller: Address }>> {
    const id = bytes32("subjectId", subjectId);
    return this.#ctx.write(
      "completeRecovery",
      () => this.#ctx.dataSafe.completeRecovery(id),
      (receipt) => ({
        controller: eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("ControllerChanged")).args
          .newController,
      }),
    );
  }

  /** Invalidates every signature the controller made and nobody has used yet. Caller: the controller. */
  async invalidateNonce(subjectId: Hex): Promise<PendingTransaction<{ nonce: number }>> {
    const id = bytes32("subjectId", subjectId);
    return this.#ctx.write(
      "invalidateNonce",
      () => this.#ctx.dataSafe.invalidateNonce(id),
      (receipt) => ({
        nonce: Number(
          eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("NonceInvalidated")).args.newNonce,
        ),
      }),
    );
  }

  /** The subject (controller the zero address if unregistered). */
  async get(subjectId: Hex): Promise<Subject> {
    const id = bytes32("subjectId", subjectId);
    const s = await this.#ctx.read("getSubject", () => this.#ctx.dataSafe.getSubject(id));
    return { subjectId: id, controller: s.controller, registeredAt: Number(s.registeredAt), nonce: Number(s.nonce) };
  }

  /** The nonce the controller's next signature must carry. */
  async nonceOf(subjectId: Hex): Promise<number> {
    return (await this.get(subjectId)).nonce;
  }

  /** The pending recovery, or `undefined`. */
  async pendingRecovery(subjectId: Hex): Promise<Recovery | undefined> {
    const id = bytes32("subjectId", subjectId);
    const r = await this.#ctx.read("pendingRecovery", () => this.#ctx.dataSafe.pendingRecovery(id));
    if (BigInt(r.newController) === 0n) return undefined;
    return { newController: r.newController, executableAt: Number(r.executableAt), authority: r.authority };
  }

  /** Seconds between the start of a recovery and its completion. */
  async recoveryDelay(): Promise<number> {
    return Number(await this.#ctx.read("recoveryDelay", () => this.#ctx.dataSafe.recoveryDelay()));
  }
}
