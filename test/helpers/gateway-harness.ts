import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { HDNodeWallet, type JsonRpcProvider, Wallet } from "ethers";

import type { GatewayConfigInput } from "../../gateway/config.js";
import {
  type Environment,
  type NpxLauncher,
  ProcessSet,
  type Started,
  deploySuite,
  freePort,
  startHardhatNode,
  stop,
  waitFor as pollUntil,
} from "./processes.js";

export { ROOT, type Started, freePort, stop } from "./processes.js";

/*
 * Real processes for the gateway's end-to-end tests and benchmark, outside the Hardhat runtime:
 * `hardhat node` serving the besuLike network (chain 1337, zero gas price, Cancun) on a free port,
 * the suite deployed to it by `hardhat ignition deploy` over HTTP under a deployment id of its own,
 * and the gateway started by its documented command (`npm run gateway -- --config FILE`), which
 * may be killed and restarted. Each process runs in its own process group and is stopped with it.
 */

/** Hardhat's well-known development mnemonic: the accounts `hardhat node` funds and unlocks. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
/**
 * A module for the gateway's `node --import` that registers a resolve hook failing the start if
 * anything loads Hardhat or one of its plugins: the gateway must run on the SDK and ethers alone.
 * A data: URL, not a file under test/, which the test runner would load into its own process.
 */
const FORBID_HARDHAT = `data:text/javascript,${encodeURIComponent(`
import { register } from "node:module";
const hook = ${JSON.stringify(`
export async function resolve(specifier, context, next) {
  if (specifier === "hardhat" || specifier.startsWith("hardhat/") || specifier.startsWith("@nomicfoundation/")) {
    throw new Error("the gateway imported " + specifier + " (from " + context.parentURL + "): it must not need Hardhat at run time");
  }
  return next(specifier, context);
}`)};
register("data:text/javascript," + encodeURIComponent(hook));
`)}`;

const processes = new ProcessSet("gateway");

/** Starts `command args` in its own process group, output to `log`. */
export function start(command: string, args: string[], log: string, env: Environment = {}): Started {
  return processes.start(command, args, log, env);
}

/** Stops every process this module started (an `after` hook's safety net). */
export async function stopAll(): Promise<void> {
  await processes.stopAll();
}

/** Polls `probe` until it returns a value, failing fast if `alive` says the process died. */
function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  alive: () => string | undefined,
  timeoutMs: number,
): Promise<T> {
  return pollUntil(what, probe, timeoutMs, 150, alive);
}

/** A `hardhat node` process with the suite deployed by Ignition. */
export interface Chain {
  url: string;
  provider: JsonRpcProvider;
  /** The Ignition deployment folder (deployed_addresses.json). */
  deploymentDir: string;
  addresses: Record<string, string>;
  /** The node's funded development accounts, as local wallets on `provider`. */
  account(index: number): Wallet;
  /** The process id of the started command (`npx hardhat node`), the root of the node's process tree. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts `hardhat node --network besuLike` on a free port and deploys the suite to it with
 * `hardhat ignition deploy deploy/modules/Permissions.ts --network localBesu` under a fresh deployment id.
 */
export async function startChain(workDir: string): Promise<Chain> {
  const launch: NpxLauncher = (name, args, env) => start("npx", args, path.join(workDir, `${name}.log`), env);
  const node = await startHardhatNode(launch, { pollingInterval: 100, cacheTimeout: -1 });
  const { url, provider } = node;
  try {
    const { deploymentDir, addresses } = await deploySuite(launch, url, `gateway-test-${process.pid}-${Date.now()}`);
    const wallets = new Map<number, Wallet>();
    return {
      url,
      provider,
      deploymentDir,
      addresses,
      pid: node.process.child.pid,
      account(index: number) {
        let wallet = wallets.get(index);
        if (wallet === undefined) {
          const key = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
          wallet = new Wallet(key, provider);
          wallets.set(index, wallet);
        }
        return wallet;
      },
      async stop() {
        await node.stop();
        rmSync(deploymentDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    provider.destroy();
    await stop(node.process.child, "SIGKILL");
    throw error;
  }
}

/** A gateway process started by `npm run gateway -- --config FILE`. */
export interface GatewayProcess {
  url: string;
  configFile: string;
  /** Log lines (JSON) the gateway wrote so far. */
  logLines(): Record<string, unknown>[];
  /** Sends `signal` (SIGKILL: no chance to flush or close) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same configuration and port. */
  restart(): Promise<void>;
  /** The process id of the started command (`npm`), the root of the gateway's process tree. */
  pid(): number | undefined;
}

/**
 * Writes `config` to a file in `workDir` (listening on a free port) and starts the gateway with it;
 * resolves when `/healthz` answers. The at-rest key is passed through the environment.
 */
export async function startGateway(
  workDir: string,
  config: Omit<GatewayConfigInput, "listen" | "atRestKey">,
  atRestKeyHex: string,
  nodeOptions = "",
): Promise<GatewayProcess> {
  const port = await freePort();
  const configFile = path.join(workDir, `gateway-${port}.json`);
  const full: GatewayConfigInput = {
    ...config,
    listen: { host: "127.0.0.1", port },
    atRestKey: { env: "DATASAFE_GATEWAY_TEST_KEY" },
  };
  writeFileSync(configFile, JSON.stringify(full, null, 2));
  const url = `http://127.0.0.1:${port}`;
  const log = path.join(workDir, `gateway-${port}.log`);
  let current: Started;
  const launch = async () => {
    current = start("npm", ["run", "--silent", "gateway", "--", "--config", configFile], log, {
      DATASAFE_GATEWAY_TEST_KEY: atRestKeyHex,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${FORBID_HARDHAT} ${nodeOptions}`.trim(),
    });
    let exitCode: number | null | undefined;
    void current.exited.then((code) => (exitCode = code));
    await waitFor(
      `the gateway on ${url}`,
      async () => {
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
        return response.ok ? true : undefined;
      },
      () => (exitCode === undefined ? undefined : current.output().slice(-3000)),
      60_000,
    );
  };
  await launch();
  return {
    url,
    configFile,
    logLines: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    kill: (signal: NodeJS.Signals = "SIGTERM") => stop(current.child, signal),
    restart: launch,
    pid: () => current.child.pid,
  };
}

/** A temporary directory for one suite's logs, configs and databases. */
export function workDirectory(label: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `datasafe-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
