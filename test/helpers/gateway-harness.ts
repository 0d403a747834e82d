import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { HDNodeWallet, JsonRpcProvider, Network, Wallet } from "ethers";

import type { GatewayConfigInput } from "../../gateway/config.js";

/*
 * Real processes for the gateway's end-to-end tests and benchmark, outside the Hardhat runtime:
 * `hardhat node` serving the besuLike network (chain 1337, zero gas price, Cancun) on a free port,
 * the suite deployed to it by `hardhat ignition deploy` over HTTP under a deployment id of its own,
 * and the gateway started by its documented command (`npm run gateway -- --config FILE`), which
 * may be killed and restarted. Each process runs in its own process group and is stopped with it.
 */

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
const CHAIN_ID = 1337;
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

const children = new Set<ChildProcess>();

export interface Started {
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
  output(): string;
}

/** Starts `command args` in its own process group, output to `log`. */
export function start(command: string, args: string[], log: string, env: Record<string, string> = {}): Started {
  const fd = openSync(log, "a");
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.finally(() => children.delete(child));
  return { child, log, exited, output: () => readFileSync(log, "utf8") };
}

/** Ends a process group: with `signal`, then SIGKILL if it lingers. */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return;
  }
  const ended = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!ended) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await exited;
  }
}

/** Stops every process this module started (an `after` hook's safety net). */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child, "SIGKILL")));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns a value, failing fast if `alive` says the process died. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  alive: () => string | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const death = alive();
    if (death !== undefined) throw new Error(`${what}: the process exited\n${death}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    await sleep(150);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
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
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = start(
    "npx",
    ["hardhat", "node", "--network", "besuLike", "--hostname", "127.0.0.1", "--port", String(port)],
    path.join(workDir, "node.log"),
  );
  let exitCode: number | null | undefined;
  void node.exited.then((code) => (exitCode = code));
  const alive = () => (exitCode === undefined ? undefined : node.output().slice(-2000));
  const provider = new JsonRpcProvider(url, Network.from(CHAIN_ID), {
    staticNetwork: true,
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  try {
    await waitFor("hardhat node", async () => (await provider.getBlockNumber()) + 1, alive, 120_000);
    const deploymentId = `gateway-test-${process.pid}-${Date.now()}`;
    const deploymentDir = path.join(ROOT, "deploy", "deployments", deploymentId);
    const deploy = start(
      "npx",
      [
        "hardhat",
        "ignition",
        "deploy",
        path.join("deploy", "modules", "Permissions.ts"),
        "--network",
        "localBesu",
        "--parameters",
        path.join("deploy", "parameters", "localBesu.json"),
        "--deployment-id",
        deploymentId,
      ],
      path.join(workDir, "ignition.log"),
      { LOCAL_BESU_URL: url, HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "true" },
    );
    const code = await deploy.exited;
    if (code !== 0) throw new Error(`ignition deploy failed (${code}):\n${deploy.output().slice(-4000)}`);
    const addresses = JSON.parse(readFileSync(path.join(deploymentDir, "deployed_addresses.json"), "utf8"));
    const wallets = new Map<number, Wallet>();
    return {
      url,
      provider,
      deploymentDir,
      addresses,
      pid: node.child.pid,
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
        provider.destroy();
        await stop(node.child);
        rmSync(deploymentDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    provider.destroy();
    await stop(node.child, "SIGKILL");
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
