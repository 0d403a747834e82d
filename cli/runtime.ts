/*
 * What every command shares: the global options, the config file, a provider, a signer and a
 * DataSafeClient built lazily on first use (`keys new` needs none of them), and the output helpers.
 */
import { existsSync } from "node:fs";
import path from "node:path";

import type { Command } from "commander";
import { FeeData, JsonRpcProvider, Network, type Wallet } from "ethers";

import { DataSafeClient } from "../sdk/index.js";
import { type ConfigFile, readConfig } from "./config.js";
import { BadInputError, FailureError } from "./errors.js";
import { openKeystore, readPassword } from "./keystore.js";
import { fields, table, toJson } from "./output.js";

/** The options every command takes (set on the program, usable before or after the subcommand). */
export interface GlobalOptions {
  config?: string;
  deployment?: string;
  rpc?: string;
  keystore?: string;
  passwordFile?: string;
  gasPrice?: string;
  json?: boolean;
}

/** The environment variable naming a config file when --config is not given. */
export const CONFIG_ENV = "DATASAFE_CONFIG";

/** The local node's URL when neither --rpc nor the config names one (`hardhat node`, a Besu dev node). */
export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

/** Adds the global options to the program. */
export function addGlobalOptions(program: Command): Command {
  return program
    .option("--config <file>", "config file (JSON or YAML): rpcUrl, chainId, deployment, addresses, keystore…")
    .option("--deployment <dir>", "Ignition deployment folder (default: deploy/deployments/chain-<chainId>)")
    .option("--rpc <url>", `JSON-RPC URL of a node (default: ${DEFAULT_RPC_URL})`)
    .option("--keystore <file>", "encrypted JSON keystore of the account that signs")
    .option("--password-file <file>", "file holding the keystore password (or set DATASAFE_KEYSTORE_PASSWORD)")
    .option("--gas-price <wei>", 'legacy gas price of every transaction ("0" on a free-gas private network)')
    .option("--json", "print one JSON document on stdout instead of text");
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export class Runtime {
  readonly #program: Command;
  readonly io: Io;
  #config: Promise<ConfigFile> | undefined;
  #provider: Promise<JsonRpcProvider> | undefined;
  #signer: Promise<Wallet> | undefined;
  #client: Promise<DataSafeClient> | undefined;
  #created: JsonRpcProvider | undefined;

  constructor(program: Command, io: Io = defaultIo()) {
    this.#program = program;
    this.io = io;
  }

  /** The global options as parsed. */
  get options(): GlobalOptions {
    return this.#program.opts<GlobalOptions>();
  }

  get json(): boolean {
    return this.options.json === true;
  }

  /** The config file's content (--config, else $DATASAFE_CONFIG), or `{}` without one. */
  config(): Promise<ConfigFile> {
    const file = this.options.config ?? (process.env[CONFIG_ENV] || undefined);
    this.#config ??= file === undefined ? Promise.resolve({}) : readConfig(file);
    return this.#config;
  }

  /** The fixed gas price (--gas-price, the config's), if any. */
  async gasPrice(): Promise<bigint | undefined> {
    const value = this.options.gasPrice ?? (await this.config()).gasPrice;
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value))
      throw new BadInputError(`expected a decimal number of wei, got ${value}`, { field: "--gas-price" });
    return BigInt(value);
  }

  /** The RPC URL: --rpc, the config's rpcUrl, or the local default. */
  async rpcUrl(): Promise<string> {
    const url = this.options.rpc ?? (await this.config()).rpcUrl ?? DEFAULT_RPC_URL;
    if (!/^https?:\/\//.test(url)) throw new BadInputError(`expected an http(s) URL, got ${url}`, { field: "--rpc" });
    return url;
  }

  /**
   * A provider on the node, its chain id asked once (a provider that detects the network itself
   * retries forever on a node that is down; the CLI should fail at once with exit 4).
   * @throws FailureError if the node does not answer
   * @throws BadInputError if it serves another chain than the config's chainId
   */
  provider(): Promise<JsonRpcProvider> {
    this.#provider ??= (async () => {
      const url = await this.rpcUrl();
      let chainId: bigint;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await response.json()) as { result?: string };
        if (typeof body.result !== "string") throw new Error(`eth_chainId answered ${toJson(body, 0)}`);
        chainId = BigInt(body.result);
      } catch (error) {
        throw new FailureError(`no JSON-RPC node answers at ${url} (${(error as Error).message})`, { field: "--rpc" });
      }
      const expected = (await this.config()).chainId;
      if (expected !== undefined && BigInt(expected) !== chainId) {
        throw new BadInputError(`the config says chain ${expected}, the node at ${url} serves ${chainId}`, {
          field: "config.chainId",
        });
      }
      this.#created = new CliProvider(url, Network.from(chainId), await this.gasPrice());
      return this.#created;
    })();
    return this.#provider;
  }

  /** The keystore file: --keystore or the config's, if any. */
  async keystoreFile(): Promise<string | undefined> {
    return this.options.keystore ?? (await this.config()).keystore;
  }

  /**
   * The account that signs, decrypted from the keystore and connected to the provider.
   * @throws BadInputError without a keystore, or with a wrong password
   */
  signer(): Promise<Wallet> {
    this.#signer ??= (async () => {
      const file = await this.keystoreFile();
      if (file === undefined) {
        throw new BadInputError("this command signs: pass --keystore FILE (or set keystore in --config)", {
          field: "--keystore",
        });
      }
      const password = await this.password(`Password for ${path.basename(file)}`);
      const wallet = await openKeystore(file, password);
      return wallet.connect(await this.provider());
    })();
    return this.#signer;
  }

  /** The keystore password (environment, --password-file, config passwordFile, or a prompt). */
  async password(prompt: string, confirm = false): Promise<string> {
    const passwordFile = this.options.passwordFile ?? (await this.config()).passwordFile;
    return readPassword({ passwordFile, prompt, confirm });
  }

  /** The Ignition deployment folder: --deployment, the config's, or deploy/deployments/chain-<id> if it exists. */
  async deploymentDir(): Promise<string | undefined> {
    const given = this.options.deployment ?? (await this.config()).deployment;
    if (given !== undefined) return given;
    const { chainId } = await (await this.provider()).getNetwork();
    const fallback = path.resolve("deploy", "deployments", `chain-${chainId}`);
    return existsSync(fallback) ? fallback : undefined;
  }

  /**
   * A client of the deployment, acting as the keystore's account when `signing`, else read-only.
   * @throws BadInputError when neither a deployment folder nor addresses say where the suite is
   */
  client(signing: boolean): Promise<DataSafeClient> {
    this.#client ??= (async () => {
      const provider = await this.provider();
      const config = await this.config();
      const dir = await this.deploymentDir();
      if (dir !== undefined) return DataSafeClient.fromDeployment(dir, provider);
      if (config.addresses !== undefined) {
        return DataSafeClient.at(config.addresses.dataSafe, provider, {
          fromBlock: config.fromBlock,
          keyDirectoryAddress: config.addresses.keyDirectory,
        });
      }
      throw new BadInputError("where is the suite? pass --deployment DIR or set deployment/addresses in --config", {
        field: "--deployment",
      });
    })();
    return signing ? this.#client.then(async (client) => client.connect(await this.signer())) : this.#client;
  }

  /**
   * Prints a command's result: `data` as JSON with --json, else `text` (a string, or a function
   * making one) or, without text, `data` as a table (an array) or aligned fields (an object).
   */
  emit(data: unknown, text?: string | (() => string)): void {
    if (this.json) {
      this.io.stdout(`${toJson(data)}\n`);
      return;
    }
    const human =
      typeof text === "function"
        ? text()
        : (text ??
          (Array.isArray(data)
            ? table(data as Record<string, unknown>[])
            : typeof data === "object" && data !== null
              ? fields(data as Record<string, unknown>)
              : String(data)));
    this.io.stdout(`${human}\n`);
  }

  /** A note for the person at the terminal (stderr; stdout stays the result). */
  note(text: string): void {
    this.io.stderr(`${text}\n`);
  }

  /** Releases the provider (its polling timers would keep the process alive). */
  close(): void {
    this.#created?.destroy();
  }
}

/** A provider on one chain, with a fixed legacy gas price when the network's gas is free. */
class CliProvider extends JsonRpcProvider {
  readonly #gasPrice: bigint | undefined;

  constructor(url: string, network: Network, gasPrice: bigint | undefined) {
    // No cache: a command sends transactions one after another and must read each new nonce.
    super(url, network, { staticNetwork: true, batchMaxCount: 50, cacheTimeout: -1 });
    this.#gasPrice = gasPrice;
  }

  override async getFeeData(): Promise<FeeData> {
    return this.#gasPrice === undefined ? super.getFeeData() : new FeeData(this.#gasPrice, null, null);
  }
}

function defaultIo(): Io {
  return { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) };
}
