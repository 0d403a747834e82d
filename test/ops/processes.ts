/*
 * Processes the ops tests start as an operator would (`hardhat node`, `npm run …`, `npx tsx …`):
 * each in its own process group, its output in a log file, ended as a group.
 */
import { type JsonRpcProvider, getAddress } from "ethers";

import { type Environment, ProcessSet, type Started, startHardhatNode } from "../helpers/processes.js";

export { ROOT, type Started, freePort, ignitionDeployArgs, stop, waitFor } from "../helpers/processes.js";

const processes = new ProcessSet("ops");

/**
 * Starts `command args` in its own process group (npx and npm start node, which may start more),
 * output to a log file. `env` adds to this process's environment; a key set to undefined is removed.
 */
export function start(name: string, command: string, args: string[], env: Environment = {}): Started {
  return processes.start(command, args, processes.logFile(name), env);
}

/** Ends every process still running and removes the logs. */
export async function stopAll(): Promise<void> {
  await processes.stopAll();
}

export interface LocalNode {
  url: string;
  provider: JsonRpcProvider;
  deployer: string;
  stop: () => Promise<void>;
}

/** `hardhat node --network besuLike` on a free loopback port, answering eth_chainId. */
export async function startNode(): Promise<LocalNode> {
  const { url, provider, stop } = await startHardhatNode((name, args, env) => start(name, "npx", args, env), {
    pollingInterval: 200,
  });
  const [deployer] = (await provider.send("eth_accounts", [])) as string[];
  return { url, provider, deployer: getAddress(deployer), stop };
}
