/*
 * Processes the ops tests start as an operator would (`hardhat node`, `npm run …`, `npx tsx …`):
 * each in its own process group, its output in a log file, ended as a group.
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

const children = new Set<ChildProcess>();
let logDir: string | undefined;

export interface Started {
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
  output: () => string;
}

/**
 * Starts `command args` in its own process group (npx and npm start node, which may start more),
 * output to a log file. `env` adds to this process's environment; a key set to undefined is removed.
 */
export function start(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Started {
  logDir ??= mkdtempSync(path.join(tmpdir(), "datasafe-ops-"));
  const log = path.join(logDir, `${name}-${Date.now()}.log`);
  const fd = openSync(log, "w");
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete environment[key];
  const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ["ignore", fd, fd], env: environment });
  closeSync(fd);
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  exited.finally(() => children.delete(child));
  return { child, log, exited, output: () => readFileSync(log, "utf8") };
}

/** Ends a process group started by `start`: politely, then for good. */
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

/** Ends every process still running and removes the logs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child, "SIGKILL")));
  if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
  logDir = undefined;
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

/** Polls `probe` until it returns a value; errors from the probe count as "not yet", except after the deadline. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
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

export interface LocalNode {
  url: string;
  provider: JsonRpcProvider;
  deployer: string;
  stop: () => Promise<void>;
}

/** `hardhat node --network besuLike` on a free loopback port, answering eth_chainId. */
export async function startNode(): Promise<LocalNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = start("node", "npx", [
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
  await waitFor(
    `hardhat node on ${url}`,
    async () => {
      if (exitCode !== undefined) throw new Error(`hardhat node exited (${exitCode}):\n${node.output().slice(-2000)}`);
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
  ).catch(async (error) => {
    if (exitCode !== undefined) throw new Error(`hardhat node exited (${exitCode}):\n${node.output().slice(-2000)}`);
    await stop(node.child);
    throw error;
  });
  const provider = new JsonRpcProvider(url, PRIVATE_CHAIN_ID, { staticNetwork: true, pollingInterval: 200 });
  const [deployer] = (await provider.send("eth_accounts", [])) as string[];
  return {
    url,
    provider,
    deployer: getAddress(deployer),
    stop: async () => {
      provider.destroy();
      await stop(node.child);
    },
  };
}
