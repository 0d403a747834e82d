/**
 * Real processes for tests that talk JSON-RPC over HTTP: `hardhat node` serving the besuLike
 * network on a free loopback port, and `hardhat ...` commands (an Ignition deployment) run against
 * it. Each runs in its own process group (npx starts node, which may start more) with its output
 * in a log file, and is ended by its group id.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { JsonRpcProvider, getAddress } from "ethers";

import { PRIVATE_CHAIN_ID } from "../../hardhat.config.js";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");

export interface Started {
  child: ChildProcess;
  /** Resolves to the exit code once the process ends. */
  exited: Promise<number | null>;
  /** What it printed so far. */
  output: () => string;
}

/** Starts and stops processes, keeping their logs in one temporary folder. */
export class Processes {
  readonly #children = new Set<ChildProcess>();
  readonly #logDir = mkdtempSync(path.join(tmpdir(), "datasafe-processes-"));

  /** Starts `npx args...` in its own process group, output to a log file. */
  start(name: string, args: string[], env: Record<string, string> = {}): Started {
    const log = path.join(this.#logDir, `${name}-${Date.now()}.log`);
    const fd = openSync(log, "w");
    const child = spawn("npx", args, {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...env },
    });
    closeSync(fd);
    this.#children.add(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    exited.finally(() => this.#children.delete(child));
    return { child, exited, output: () => readFileSync(log, "utf8") };
  }

  /** Runs `npx args...` to its end; throws with its output unless it exits 0. */
  async run(name: string, args: string[], env: Record<string, string> = {}): Promise<string> {
    const run = this.start(name, args, env);
    const code = await run.exited;
    if (code !== 0) throw new Error(`${args.join(" ")} exited ${code}:\n${run.output().slice(-4000)}`);
    return run.output();
  }

  /** Ends every process still running and removes the logs. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map((child) => stop(child, "SIGKILL")));
    rmSync(this.#logDir, { recursive: true, force: true });
  }
}

/** Ends a process group: politely, then for good. */
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

export interface LocalNode {
  url: string;
  provider: JsonRpcProvider;
  /** The node's unlocked accounts, in order. */
  accounts: string[];
  stop: () => Promise<void>;
}

/** `hardhat node --network besuLike` on a free loopback port, once it answers eth_chainId. */
export async function startNode(processes: Processes): Promise<LocalNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = processes.start("node", [
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
  node.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`hardhat node exited (${exitCode}):\n${node.output().slice(-2000)}`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(2_000),
      });
      if (((await response.json()) as { result?: string }).result !== undefined) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop(node.child);
      throw new Error(`timed out waiting for hardhat node on ${url}:\n${node.output().slice(-2000)}`);
    }
    await sleep(500);
  }
  const provider = new JsonRpcProvider(url, PRIVATE_CHAIN_ID, {
    staticNetwork: true,
    pollingInterval: 200,
    cacheTimeout: -1,
  });
  const accounts = ((await provider.send("eth_accounts", [])) as string[]).map((a) => getAddress(a));
  return {
    url,
    provider,
    accounts,
    stop: async () => {
      provider.destroy();
      await stop(node.child);
    },
  };
}
