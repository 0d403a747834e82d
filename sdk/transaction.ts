import type { ContractTransactionResponse, Interface, TransactionReceipt } from "ethers";

import type { TypedContractEvent, TypedLogDescription } from "../typechain-types/common.js";
import { ContractRevertedError, EventNotFoundError, TransactionFailedError, UnknownRevertError } from "./errors.js";
import { decodeRevert } from "./revert.js";

/** What `wait()` resolves to: the decoded result and the receipt it came from. */
export type Mined<T> = T & { receipt: TransactionReceipt };

/**
 * A sent transaction. `wait()` waits for it to be mined and decodes the receipt into what the
 * caller wants (ids, grants...), or throws the revert as a typed error.
 * @example
 * const tx = await department.assets.issue(asset);
 * const { assetId } = await tx.wait();
 */
export class PendingTransaction<T> {
  /** The transaction as sent. */
  readonly response: ContractTransactionResponse;
  readonly #action: string;
  readonly #decode: (receipt: TransactionReceipt) => T | Promise<T>;

  constructor(
    response: ContractTransactionResponse,
    action: string,
    decode: (receipt: TransactionReceipt) => T | Promise<T>,
  ) {
    this.response = response;
    this.#action = action;
    this.#decode = decode;
  }

  /** The transaction hash. */
  get hash(): string {
    return this.response.hash;
  }

  /**
   * Waits for the transaction and decodes its receipt.
   * @param confirmations blocks to wait for (default 1)
   * @returns the decoded result with the receipt
   */
  async wait(confirmations = 1): Promise<Mined<T>> {
    let receipt: TransactionReceipt | null;
    try {
      receipt = await this.response.wait(confirmations);
    } catch (error) {
      const decoded = decodeRevert(error, this.#action);
      // A node reports a mined revert without its data: replay the call to learn the error.
      if (decoded instanceof UnknownRevertError && decoded.data === "0x") throw (await this.#replay(error)) ?? decoded;
      throw decoded;
    }
    if (receipt === null) {
      throw new TransactionFailedError(this.#action, {
        hash: this.hash,
        details: "the transaction was dropped or replaced",
      });
    }
    return { ...(await this.#decode(receipt)), receipt };
  }

  /**
   * The typed error of a transaction mined as reverted, found by replaying its call on the state
   * before its block (the node's receipt carries no revert data). Undefined if the replay does not
   * revert the same way, e.g. because an earlier transaction of the same block caused the revert.
   */
  async #replay(error: unknown): Promise<ContractRevertedError | undefined> {
    const receipt = (error as { receipt?: TransactionReceipt | null }).receipt;
    const tx = this.response;
    if (!receipt || receipt.blockNumber === 0) return undefined;
    try {
      await tx.provider.call({
        to: tx.to,
        from: tx.from,
        data: tx.data,
        value: tx.value,
        blockTag: receipt.blockNumber - 1,
      });
    } catch (replayError) {
      const decoded = decodeRevert(replayError, this.#action);
      if (decoded instanceof ContractRevertedError) return decoded;
    }
    return undefined;
  }
}

/** A contract whose events a receipt is searched for. */
interface EventSource {
  interface: Interface;
  target: unknown;
}

/**
 * The logs of `receipt` emitted by `contract` and decoded as `event`, typed by TypeChain.
 * @example eventsIn(receipt, dataSafe, dataSafe.getEvent("GrantIssued")).map((e) => e.args.grantId)
 */
export function eventsIn<E extends TypedContractEvent>(
  receipt: TransactionReceipt,
  contract: EventSource,
  event: E,
): TypedLogDescription<E>[] {
  const address = String(contract.target).toLowerCase();
  const topic = event.fragment.topicHash;
  const found: TypedLogDescription<E>[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address || log.topics[0] !== topic) continue;
    const parsed = contract.interface.parseLog(log);
    if (parsed !== null) found.push(parsed as unknown as TypedLogDescription<E>);
  }
  return found;
}

/** The first `event` of a receipt, or `EventNotFoundError`. */
export function eventIn<E extends TypedContractEvent>(
  receipt: TransactionReceipt,
  contract: EventSource,
  event: E,
): TypedLogDescription<E> {
  const [first] = eventsIn(receipt, contract, event);
  if (first === undefined) throw new EventNotFoundError(event.fragment.name, receipt.hash);
  return first;
}
