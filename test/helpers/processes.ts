/*
 * The process plumbing every test helper that starts real processes shares: a process in its own
 * process group (npx and npm start node, which may start more) with its output in a log file, ended
 * as a group; a free loopback port; polling with a deadline; and `hardhat node` serving the besuLike
 * network with the suite deployed to it by `hardhat ignition deploy` over HTTP.
 *
 * It imports neither Hardhat nor hardhat.config.ts: the gateway benchmark uses it from a plain
 * `tsx` process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { type JsonRpcApiProviderOptions, JsonRpcProvider, Network } from "ethers";

import { freePort } from "../../scripts/lib/ports.js";

export { freePort };

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
/** The besuLike network's chain id (PRIVATE_CHAIN_ID in hardhat.config.ts). */
const BESU_LIKE_CHAIN_ID = 1337;

export interface Started {
  child: ChildProcess;
  /** The log file holding its output. */
  log: string;
  /** Resolves to the exit code once the process ends. */
  exited: Promise<number | null>;
  /** What it printed so far. */
  output: () => string;
}

/** Environment additions for a process; a key set to undefined is removed. */
export type Environment = Record<string, string | undefined>;

/** Processes started together and ended together, with a temporary folder for their logs. */
export class ProcessSet {
  readonly #children = new Set<ChildProcess>();
  readonly #label: string;
  #logDir: string | undefined;

  constructor(label: string) {
    this.#label = label;
  }

  /** A log file named after `name` in this set's temporary folder (made on first use, removed by `stopAll`). */
  logFile(name: string): string {
    this.#logDir ??= mkdtempSync(path.join(tmpdir(), `datasafe-${this.#label}-`));
    return path.join(this.#logDir, `${name}-${Date.now()}.log`);
  }

  /**
   * Starts `command args` in its own process group, output appended to `log` (a restarted process
   * keeps one log). `env` adds to this process's environment.
   */
  start(command: string, args: string[], log: string, env: Environment = {}): Started {
    const fd = openSync(log, "a");
    const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete environment[key];
    const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ["ignore", fd, fd], env: environment });
    closeSync(fd);
    this.#children.add(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    void exited.finally(() => this.#children.delete(child));
    return { child, log, exited, output: () => readFileSync(log, "utf8") };
  }

  /** Kills every process still running (an `after` hook's safety net) and removes the log folder. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map((child) => stop(child, "SIGKILL")));
    if (this.#logDir !== undefined) rmSync(this.#logDir, { recursive: true, force: true });
    this.#logDir = undefined;
  }
}

/** Ends a process group: with `signal`, then SIGKILL if it lingers 10 s. */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // already gone
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

/**
 * Polls `probe` until it returns a value. Errors from the probe count as "not yet", except one whose
 * message says something exited, which ends the wait; so does `exited` returning a reason (the
 * output of a process that died).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
  exited: () => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const death = exited();
    if (death !== undefined) throw new Error(`${what}: the process exited\n${death}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof Error && error.message.includes("exited")) throw error;
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ""}`,
  );
}

/** Starts `npx args` under `name` (its log's name), in the caller's own bookkeeping. */
export type NpxLauncher = (name: string, args: string[], env?: Environment) => Started;

export interface HardhatNode {
  url: string;
  /** A provider on the node, for chain 1337 without network detection. */
  provider: JsonRpcProvider;
  process: Started;
  /** Destroys the provider and ends the node's process group (SIGTERM, then SIGKILL). */
  stop: () => Promise<void>;
}

/**
 * `hardhat node --network besuLike` on a free loopback port, once it answers eth_chainId (within
 * 2 minutes; a node that does not is stopped). `providerOptions` tune the provider's polling and cache.
 */
export async function startHardhatNode(
  launch: NpxLauncher,
  providerOptions: JsonRpcApiProviderOptions = {},
): Promise<HardhatNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = launch("node", [
    "hardhat",
    "node",
    "--network",
    "besuLike",
    "--hostname",
    "127.0.0.1",
    "--port",
    String(port),
  ]);
  let exitCode: number | null | undefined;
  void node.exited.then((code) => (exitCode = code));
  const died = () => `hardhat node exited (${exitCode}):\n${node.output().slice(-2000)}`;
  await waitFor(
    `hardhat node on ${url}`,
    async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(2_000),
      });
      return ((await response.json()) as { result?: string }).result;
    },
    120_000,
    500,
    () => (exitCode === undefined ? undefined : died()),
  ).catch(async (error) => {
    if (exitCode !== undefined) throw new Error(died());
    await stop(node.child);
    throw new Error(`${(error as Error).message}:\n${node.output().slice(-2000)}`);
  });
  const provider = new JsonRpcProvider(url, Network.from(BESU_LIKE_CHAIN_ID), {
    ...providerOptions,
    staticNetwork: true,
  });
  return {
    url,
    provider,
    process: node,
    stop: async () => {
      provider.destroy();
      await stop(node.child);
    },
  };
}

/**
 * The arguments of `npx hardhat ignition deploy` for the suite's module with localBesu's parameters,
 * under `deploymentId` when given (else Ignition's default, chain-1337).
 */
export function ignitionDeployArgs(deploymentId?: string): string[] {
  return [
    "hardhat",
    "ignition",
    "deploy",
    path.join("deploy", "modules", "Permissions.ts"),
    "--network",
    "localBesu",
    "--parameters",
    path.join("deploy", "parameters", "localBesu.json"),
    ...(deploymentId === undefined ? [] : ["--deployment-id", deploymentId]),
  ];
}

export interface Deployment {
  /** The Ignition deployment folder (deployed_addresses.json, journal.jsonl). */
  deploymentDir: string;
  /** deployed_addresses.json: future id to address. */
  addresses: Record<string, string>;
}

/**
 * Deploys the suite to the node at `url` with `hardhat ignition deploy` under `deploymentId`;
 * throws with its output unless it exits 0.
 */
export async function deploySuite(launch: NpxLauncher, url: string, deploymentId: string): Promise<Deployment> {
  // Chain 1337 is not Hardhat's own chain id: Ignition would ask for confirmation on the terminal.
  const deploy = launch("ignition", ignitionDeployArgs(deploymentId), {
    LOCAL_BESU_URL: url,
    HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "true",
  });
  const code = await deploy.exited;
  if (code !== 0) throw new Error(`ignition deploy failed (${code}):\n${deploy.output().slice(-4000)}`);
  const deploymentDir = path.join(ROOT, "deploy", "deployments", deploymentId);
  const addresses = JSON.parse(readFileSync(path.join(deploymentDir, "deployed_addresses.json"), "utf8"));
  return { deploymentDir, addresses };
}
