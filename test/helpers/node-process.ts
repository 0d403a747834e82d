/**
 * Real processes for tests that talk JSON-RPC over HTTP: `hardhat node` serving the besuLike
 * network on a free loopback port, and `hardhat ...` commands (an Ignition deployment) run against
 * it. Each runs in its own process group (npx starts node, which may start more) with its output
 * in a log file, and is ended by its group id.
 */
import { type JsonRpcProvider, getAddress } from "ethers";

import { type Environment, ProcessSet, type Started, startHardhatNode } from "./processes.js";

export { ROOT, type Started, freePort, stop } from "./processes.js";

/** Starts and stops processes, keeping their logs in one temporary folder. */
export class Processes {
  readonly #set = new ProcessSet("processes");

  /** Starts `npx args...` in its own process group, output to a log file. */
  start(name: string, args: string[], env: Environment = {}): Started {
    return this.#set.start("npx", args, this.#set.logFile(name), env);
  }

  /** Runs `npx args...` to its end; throws with its output unless it exits 0. */
  async run(name: string, args: string[], env: Environment = {}): Promise<string> {
    const run = this.start(name, args, env);
    const code = await run.exited;
    if (code !== 0) throw new Error(`${args.join(" ")} exited ${code}:\n${run.output().slice(-4000)}`);
    return run.output();
  }

  /** Ends every process still running and removes the logs. */
  async stopAll(): Promise<void> {
    await this.#set.stopAll();
  }
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
  const { url, provider, stop } = await startHardhatNode((name, args, env) => processes.start(name, args, env), {
    pollingInterval: 200,
    cacheTimeout: -1,
  });
  const accounts = ((await provider.send("eth_accounts", [])) as string[]).map((a) => getAddress(a));
  return { url, provider, accounts, stop };
}
