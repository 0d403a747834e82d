import { type MemberKind, enumName, enumValue } from "./constants.js";
import type { Context } from "./context.js";
import { address, uint } from "./requests.js";
import { type PendingTransaction, eventIn } from "./transaction.js";
import type { Address, Member } from "./types.js";

/** A member to register. */
export interface RegisterMemberInput {
  account: Address;
  kind: Exclude<MemberKind, "None">;
  /** Display name, e.g. "Public Security Bureau". */
  name: string;
  /** Where the member's public profile lives; default empty. */
  metadataURI?: string;
}

/**
 * The member directory: departments, consumers, regulators, operators and identity authorities.
 * Registering and updating is for the MEMBER_ADMIN role, suspending for the REGULATOR. A member's
 * encryption key is set by the member itself in the key directory (`keys.setMemberKey`).
 */
export class Members {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /**
   * Registers an organisation. Caller: MEMBER_ADMIN.
   * @returns a transaction whose `wait()` gives the member's `account`
   * @example
   * await (await admin.members.register({ account: bank, kind: "Consumer", name: "City Bank" })).wait();
   */
  async register(input: RegisterMemberInput): Promise<PendingTransaction<{ account: Address }>> {
    const account = address("account", input.account);
    const kind = enumValue("MemberKind", input.kind);
    return this.#ctx.write(
      "registerMember",
      () => this.#ctx.dataSafe.registerMember(account, kind, input.name, input.metadataURI ?? ""),
      (receipt) => ({
        account: eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("MemberRegistered")).args.account,
      }),
    );
  }

  /** Changes a member's name and metadata. Caller: MEMBER_ADMIN. */
  async update(input: Omit<RegisterMemberInput, "kind">): Promise<PendingTransaction<{ account: Address }>> {
    const account = address("account", input.account);
    return this.#ctx.write(
      "updateMember",
      () => this.#ctx.dataSafe.updateMember(account, input.name, input.metadataURI ?? ""),
      () => ({ account }),
    );
  }

  /**
   * Suspends a member at once: it can no longer issue, request or read. Caller: REGULATOR.
   * @param reason reason code, recorded in the `MemberSuspended` event
   */
  async suspend(account: Address, reason: number): Promise<PendingTransaction<{ account: Address; reason: number }>> {
    const who = address("account", account);
    const code = uint("reason", reason, 16);
    return this.#ctx.write(
      "suspendMember",
      () => this.#ctx.dataSafe.suspendMember(who, code),
      () => ({ account: who, reason: code }),
    );
  }

  /** Reinstates a suspended member. Caller: REGULATOR. */
  async reinstate(account: Address): Promise<PendingTransaction<{ account: Address }>> {
    const who = address("account", account);
    return this.#ctx.write(
      "reinstateMember",
      () => this.#ctx.dataSafe.reinstateMember(who),
      () => ({ account: who }),
    );
  }

  /** The member at `account` (kind `"None"` if there is none). */
  async get(account: Address): Promise<Member> {
    const who = address("account", account);
    const m = await this.#ctx.read("getMember", () => this.#ctx.dataSafe.getMember(who));
    return {
      account: who,
      kind: enumName("MemberKind", m.kind),
      status: enumName("MemberStatus", m.status),
      registeredAt: Number(m.registeredAt),
      name: m.name,
      metadataURI: m.metadataURI,
    };
  }

  /** Whether `account` is an active member of `kind`. */
  async isActive(account: Address, kind: Exclude<MemberKind, "None">): Promise<boolean> {
    const who = address("account", account);
    return this.#ctx.read("isActiveMember", () =>
      this.#ctx.dataSafe.isActiveMember(who, enumValue("MemberKind", kind)),
    );
  }
}
