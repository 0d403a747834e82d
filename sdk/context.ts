import type { ContractRunner, ContractTransactionResponse, Provider, TransactionReceipt } from "ethers";

import {
  type DataCatalog,
  DataCatalog__factory,
  type DataSafe,
  DataSafe__factory,
  type KeyDirectory,
  KeyDirectory__factory,
} from "../typechain-types/index.js";
import { DataSafeError, InvalidInputError, SignerRequiredError } from "./errors.js";
import { decodeRevert } from "./revert.js";
import { PendingTransaction } from "./transaction.js";
import type { Address } from "./types.js";

/**
 * What every module of a client shares: the bound contracts, the runner and the two ways of
 * calling them (a read whose revert becomes a typed error, a write that returns a
 * `PendingTransaction`). Internal to the SDK.
 */
export class Context {
  readonly dataSafe: DataSafe;
  readonly catalog: DataCatalog;
  readonly runner: ContractRunner;
  readonly #keyDirectory: KeyDirectory | undefined;
  #chainId: bigint | undefined;

  constructor(
    dataSafeAddress: Address,
    catalogAddress: Address,
    runner: ContractRunner,
    keyDirectoryAddress?: Address,
  ) {
    this.runner = runner;
    this.dataSafe = DataSafe__factory.connect(dataSafeAddress, runner);
    this.catalog = DataCatalog__factory.connect(catalogAddress, runner);
    this.#keyDirectory =
      keyDirectoryAddress === undefined ? undefined : KeyDirectory__factory.connect(keyDirectoryAddress, runner);
  }

  /** The key directory; throws `InvalidInputError` if the client was made without its address. */
  get keyDirectory(): KeyDirectory {
    if (this.#keyDirectory === undefined) {
      throw new InvalidInputError("keyDirectoryAddress", "the client was made without the key directory's address", {
        details:
          "pass keyDirectoryAddress to new DataSafeClient(...) or DataSafeClient.at(..., { keyDirectoryAddress })",
      });
    }
    return this.#keyDirectory;
  }

  /** The provider behind the runner. */
  get provider(): Provider {
    const provider = this.runner.provider ?? (isProvider(this.runner) ? this.runner : null);
    if (provider === null) throw new DataSafeError("the client's runner has no provider");
    return provider;
  }

  /** Throws `SignerRequiredError` unless the runner can send transactions. */
  requireSender(action: string): void {
    if (typeof this.runner.sendTransaction !== "function") throw new SignerRequiredError(action);
  }

  /** The chain id, read once. */
  async chainId(): Promise<bigint> {
    this.#chainId ??= (await this.provider.getNetwork()).chainId;
    return this.#chainId;
  }

  /** The timestamp of the latest block: "now" as the contracts see it. */
  async now(): Promise<number> {
    const block = await this.provider.getBlock("latest");
    if (block === null) throw new DataSafeError("the node returned no latest block");
    return block.timestamp;
  }

  /** Runs a view call; a revert becomes a typed error. */
  async read<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw decodeRevert(error, action);
    }
  }

  /** Sends a transaction; a revert (at estimation or at send) becomes a typed error. */
  async write<T>(
    action: string,
    send: () => Promise<ContractTransactionResponse>,
    decode: (receipt: TransactionReceipt) => T | Promise<T>,
  ): Promise<PendingTransaction<T>> {
    this.requireSender(action);
    let response: ContractTransactionResponse;
    try {
      response = await send();
    } catch (error) {
      throw decodeRevert(error, action);
    }
    return new PendingTransaction(response, action, decode);
  }
}

function isProvider(runner: ContractRunner): runner is Provider {
  return typeof (runner as Provider).getBlock === "function" && typeof (runner as Provider).getNetwork === "function";
}
