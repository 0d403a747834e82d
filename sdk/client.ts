import type { ContractRunner } from "ethers";

import { DataSafe__factory } from "../typechain-types/index.js";
import { AccessLog } from "./access-log.js";
import { Assets } from "./assets.js";
import { Catalog } from "./catalog.js";
import { Consent } from "./consent.js";
import { Context } from "./context.js";
import { SUITE_FUTURE_IDS, readIgnitionDeployment, suiteOf } from "./deployment.js";
import { DeploymentRecordError, InvalidInputError } from "./errors.js";
import { Events } from "./events.js";
import { Keys } from "./keys.js";
import type { LogQueryOptions } from "./logs.js";
import { Members } from "./members.js";
import { decodeRevert } from "./revert.js";
import { address } from "./requests.js";
import { Subjects } from "./subjects.js";
import type { Address } from "./types.js";

/** Where a deployment lives. */
export interface DataSafeAddresses {
  /** The core contract (members, subjects, assets, consent, access log). */
  address: Address;
  /** The data catalog. */
  catalogAddress: Address;
  /** The key directory (members' and holders' encryption keys); needed by `keys` only. */
  keyDirectoryAddress?: Address;
}

/** How a client reads history. */
export interface DataSafeClientOptions {
  /**
   * The block the suite was deployed in (`readIgnitionDeployment` finds it): history queries start
   * there unless given a range. Default 0, the whole chain.
   */
  fromBlock?: number;
  /** Page size, retries and concurrency of `eth_getLogs` (see `LOG_QUERY_DEFAULTS`). */
  logQuery?: LogQueryOptions;
}

/**
 * A typed client of one datasafe deployment, acting as one account (the runner). Each concern is
 * a module: `members`, `catalog`, `subjects`, `assets`, `consent`, `accessLog`, `keys` (the key
 * directory), and `events` for the trail. Writes return a `PendingTransaction` whose `wait()` decodes the receipt; reverts throw
 * typed errors (see errors.ts).
 *
 * @example
 * const safe = await DataSafeClient.at(dataSafeAddress, provider);
 * const bank = safe.connect(bankSigner);
 * const { request } = await (await bank.consent.requestAccess({ subjectId, targets: [assetId], purpose: 1, grantDuration: 86_400 })).wait();
 * const authorization = await safe.consent.signApproval(phoneWallet, request);   // the holder signs, pays nothing
 * await (await bank.consent.approveBySig(request, authorization)).wait();         // the bank relays
 * const access = await (await bank.accessLog.recordAccess({ asset: assetKey, purpose: 1 })).wait();
 */
export class DataSafeClient {
  readonly address: Address;
  readonly catalogAddress: Address;
  readonly keyDirectoryAddress: Address | undefined;
  readonly runner: ContractRunner;
  readonly members: Members;
  readonly catalog: Catalog;
  readonly subjects: Subjects;
  readonly assets: Assets;
  readonly consent: Consent;
  readonly accessLog: AccessLog;
  readonly keys: Keys;
  readonly events: Events;
  /** The first block history queries read by default. */
  readonly fromBlock: number;
  readonly #options: DataSafeClientOptions;
  readonly #ctx: Context;

  /**
   * @param addresses the core, catalog and key-directory addresses (see `DataSafeClient.at` to look
   * the catalog up)
   * @param runner a Signer to write and sign, or a Provider to read
   * @param options where history starts and how it is read
   */
  constructor(addresses: DataSafeAddresses, runner: ContractRunner, options: DataSafeClientOptions = {}) {
    this.address = address("address", addresses.address);
    this.catalogAddress = address("catalogAddress", addresses.catalogAddress);
    this.keyDirectoryAddress =
      addresses.keyDirectoryAddress === undefined
        ? undefined
        : address("keyDirectoryAddress", addresses.keyDirectoryAddress);
    this.runner = runner;
    const fromBlock = options.fromBlock ?? 0;
    if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) {
      throw new InvalidInputError("options.fromBlock", `expected a block number, got ${String(fromBlock)}`);
    }
    this.fromBlock = fromBlock;
    this.#options = { ...options };
    this.#ctx = new Context(
      this.address,
      this.catalogAddress,
      runner,
      { fromBlock, logQuery: options.logQuery ?? {} },
      this.keyDirectoryAddress,
    );
    this.members = new Members(this.#ctx);
    this.catalog = new Catalog(this.#ctx);
    this.subjects = new Subjects(this.#ctx);
    this.assets = new Assets(this.#ctx);
    this.consent = new Consent(this.#ctx);
    this.accessLog = new AccessLog(this.#ctx);
    this.keys = new Keys(this.#ctx);
    this.events = new Events(this.#ctx);
  }

  /**
   * A client of the deployment at `address`, its catalog read from the chain. The key directory
   * points at the core, not the other way round: pass its address to use `keys`.
   * @example const safe = await DataSafeClient.at("0x…", provider, { fromBlock: 1_204_311, keyDirectoryAddress: "0x…" });
   */
  static async at(
    dataSafeAddress: Address,
    runner: ContractRunner,
    options: DataSafeClientOptions & { keyDirectoryAddress?: Address } = {},
  ): Promise<DataSafeClient> {
    const core = DataSafe__factory.connect(address("address", dataSafeAddress), runner);
    let catalogAddress: Address;
    try {
      catalogAddress = await core.catalog();
    } catch (error) {
      throw decodeRevert(error, "catalog");
    }
    const { keyDirectoryAddress, ...history } = options;
    return new DataSafeClient({ address: dataSafeAddress, catalogAddress, keyDirectoryAddress }, runner, history);
  }

  /**
   * A client of the suite an Ignition deployment folder records: its addresses, and its deployment
   * block as `fromBlock` (unless `options.fromBlock` says otherwise). Checks that the runner's
   * chain is the deployment's.
   * @param deploymentDir e.g. `deploy/deployments/chain-1337`
   * @param futureIds the Ignition future ids of the core and catalog, if not the suite's modules'
   * @throws DeploymentRecordError if the folder lacks the suite or records another chain
   * @example const safe = await DataSafeClient.fromDeployment("deploy/deployments/chain-1337", provider);
   */
  static async fromDeployment(
    deploymentDir: string,
    runner: ContractRunner,
    options: DataSafeClientOptions & { futureIds?: { dataSafe: string; catalog: string; keyDirectory?: string } } = {},
  ): Promise<DataSafeClient> {
    const deployment = await readIgnitionDeployment(deploymentDir);
    const suite = suiteOf(deployment, options.futureIds ?? SUITE_FUTURE_IDS);
    const client = new DataSafeClient(suite, runner, {
      fromBlock: options.fromBlock ?? suite.fromBlock,
      logQuery: options.logQuery,
    });
    const chainId = await client.#ctx.chainId().catch((error: unknown) => {
      throw decodeRevert(error, "getNetwork");
    });
    if (chainId !== BigInt(deployment.chainId)) {
      throw new DeploymentRecordError(
        deployment.source,
        `records chain ${deployment.chainId}, the node serves ${chainId}`,
      );
    }
    return client;
  }

  /**
   * The same deployment, acting as another account; history is read as by this client.
   * @example const bank = safe.connect(bankSigner);
   */
  connect(runner: ContractRunner): DataSafeClient {
    return new DataSafeClient(
      { address: this.address, catalogAddress: this.catalogAddress, keyDirectoryAddress: this.keyDirectoryAddress },
      runner,
      this.#options,
    );
  }

  /** The TypeChain contracts, for what the SDK does not wrap. */
  get contracts() {
    return { dataSafe: this.#ctx.dataSafe, catalog: this.#ctx.catalog };
  }
}
