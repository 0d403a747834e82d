/*
 * The CLI's end-to-end plumbing: `hardhat node` (besuLike: chain 1337, free gas) on a free port,
 * optionally the suite deployed by Ignition, keystores of the node's development accounts, and
 * `datasafe` run as a child process exactly as a person runs it (cli/bin/datasafe.mjs), its exit
 * code, stdout and stderr returned. Every process is stopped by `close`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { HDNodeWallet, type JsonRpcProvider } from "ethers";

import {
  type Environment,
  type NpxLauncher,
  ProcessSet,
  ROOT,
  type Started,
  deploySuite,
  startHardhatNode,
} from "../helpers/processes.js";

export { ROOT };

/** Hardhat's well-known development mnemonic: the accounts `hardhat node` funds. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const PASSWORD = "cli-test-password";
export const BIN = path.join(ROOT, "cli", "bin", "datasafe.mjs");

/** The parameter file's roles (deploy/parameters/localBesu.json): development accounts 1-4. */
export const ACCOUNT = { deployer: 0, operator: 1, memberAdmin: 2, catalogAdmin: 3, regulator: 4 } as const;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (commands run with --json), undefined if it is not JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** stderr's `{ error }` document (with --json), if any. */
  error: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export class CliHarness {
  readonly processes: ProcessSet;
  readonly dir: string;
  url = "";
  provider!: JsonRpcProvider;
  deploymentDir = "";
  #stopNode: (() => Promise<void>) | undefined;
  readonly #launch: NpxLauncher;

  constructor(label: string) {
    this.processes = new ProcessSet(label);
    this.dir = mkdtempSync(path.join(tmpdir(), `datasafe-${label}-`));
    this.#launch = (name, args, env) => this.processes.start("npx", args, this.processes.logFile(name), env);
  }

  /** Starts the node (and deploys the suite unless `deploy` is false). */
  async start(deploy = true): Promise<void> {
    const node = await startHardhatNode(this.#launch, { pollingInterval: 100, cacheTimeout: -1 });
    this.url = node.url;
    this.provider = node.provider;
    this.#stopNode = node.stop;
    if (deploy) {
      const id = `cli-test-${process.pid}-${Date.now()}`;
      this.deploymentDir = (await deploySuite(this.#launch, this.url, id)).deploymentDir;
    }
  }

  /** A development account's wallet (index 0-19), connected to the node. */
  account(index: number): HDNodeWallet {
    return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).connect(this.provider);
  }

  /** A file in the harness's folder. */
  file(name: string, content?: string): string {
    const file = path.join(this.dir, name);
    if (content !== undefined) writeFileSync(file, content);
    return file;
  }

  /** A keystore of development account `index`, made with `datasafe keys import`. */
  async keystoreOf(index: number): Promise<string> {
    const keyFile = this.file(`account-${index}.key`, `${this.account(index).privateKey}\n`);
    const out = this.file(`account-${index}.json`);
    const result = await this.run([
      "keys",
      "import",
      "--key-file",
      keyFile,
      "--out",
      out,
      "--scrypt-n",
      "1024",
      "--force",
    ]);
    if (result.code !== 0) throw new Error(`keys import failed: ${result.stderr}`);
    rmSync(keyFile);
    return out;
  }

  /** The global options pointing at this node and deployment (free gas, as on the private network). */
  get chain(): string[] {
    return [
      "--rpc",
      this.url,
      "--gas-price",
      "0",
      ...(this.deploymentDir === "" ? [] : ["--deployment", this.deploymentDir]),
    ];
  }

  /** Runs `datasafe args` to its end. */
  run(args: string[], env: Environment = {}): Promise<CliResult> {
    return new Promise((resolve) => {
      const environment: NodeJS.ProcessEnv = { ...process.env, DATASAFE_KEYSTORE_PASSWORD: PASSWORD, ...env };
      for (const [key, value] of Object.entries(env)) if (value === undefined) delete environment[key];
      execFile(
        process.execPath,
        [BIN, ...args],
        { cwd: ROOT, env: environment, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
          resolve({ code, stdout, stderr, json: parse(stdout), error: parse(stderr)?.error });
        },
      );
    });
  }

  /** Starts `datasafe args` in the background (to be killed). */
  spawn(name: string, args: string[]): Started {
    return this.processes.start(process.execPath, [BIN, ...args], this.processes.logFile(name), {
      DATASAFE_KEYSTORE_PASSWORD: PASSWORD,
    });
  }

  async close(): Promise<void> {
    await this.#stopNode?.();
    await this.processes.stopAll();
    if (this.deploymentDir !== "") rmSync(this.deploymentDir, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function parse(text: string): any {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Advances the node's clock (and mines a block). */
export async function increaseTime(provider: JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}
