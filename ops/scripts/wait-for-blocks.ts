/**
 * Waits until a node serves the expected chain, sees its peers and imports new blocks, showing what
 * it waits for: after `docker compose up`, before a deployment, after a node is restarted.
 *
 *   npx tsx ops/scripts/wait-for-blocks.ts [--url http://127.0.0.1:8545] [--chain-id 1337]
 *     [--peers 4] [--blocks 2] [--timeout 300]
 *
 * Exits 0 once the node answers with the chain id, has at least --peers peers (0: not asked) and has
 * imported --blocks blocks since the wait began; exits 1 after --timeout seconds, saying what was
 * missing.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";

import { PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import { type StepOptions, step } from "../../scripts/lib/progress.js";
import { RPC_HOST_BINDING } from "../besu/topology.js";

export interface WaitOptions extends StepOptions {
  url?: string;
  chainId?: number;
  /** Peers the node must see: the RPC node sees the four validators. */
  peers?: number;
  /** New blocks to see imported: proof that the validators agree and the node follows them. */
  blocks?: number;
  timeoutMs?: number;
  pollMs?: number;
}

export interface ChainState {
  chainId: number;
  peers: number;
  head: number;
}

async function rpc(url: string, method: string): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`${method}: HTTP ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { result?: string; error?: { message: string } };
  if (body.error !== undefined || body.result === undefined)
    throw new Error(`${method}: ${body.error?.message ?? "no result"}`);
  return body.result;
}

/** Waits for the chain to move; resolves with the last state seen, rejects saying what was missing. */
export async function waitForBlocks({
  url = `http://${RPC_HOST_BINDING}`,
  chainId = PRIVATE_CHAIN_ID,
  peers = 4,
  blocks = 2,
  timeoutMs = 300_000,
  pollMs = 1_000,
  ...options
}: WaitOptions = {}): Promise<ChainState> {
  return step(
    `Waiting for ${url} to serve chain ${chainId} with ${peers} peer${peers === 1 ? "" : "s"} and ${blocks} new block${blocks === 1 ? "" : "s"}`,
    async (progress) => {
      const deadline = Date.now() + timeoutMs;
      let first: number | undefined;
      let missing = "no answer yet";
      while (Date.now() < deadline) {
        try {
          const state: ChainState = {
            chainId: Number(await rpc(url, "eth_chainId")),
            // Asked only when peers are wanted: a development node (hardhat node) has no net_peerCount.
            peers: peers === 0 ? 0 : Number(await rpc(url, "net_peerCount")),
            head: Number(await rpc(url, "eth_blockNumber")),
          };
          if (state.chainId !== chainId) throw new Error(`the node serves chain ${state.chainId}, not ${chainId}`);
          first ??= state.head;
          const imported = state.head - first;
          progress.update(`block ${state.head}, ${state.peers} peers, ${imported} of ${blocks} new blocks`);
          if (state.peers >= peers && imported >= blocks) return state;
          missing =
            state.peers < peers
              ? `${state.peers} of ${peers} peers (are the validators running? docker compose ps)`
              : `${imported} of ${blocks} new blocks since block ${first} (QBFT needs 3 of the 4 validators)`;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (message.startsWith("the node serves chain")) throw error;
          missing = `${url} did not answer as expected: ${message}`;
          progress.update(missing);
        }
        await sleep(pollMs);
      }
      throw new Error(`gave up after ${Math.round(timeoutMs / 1000)} s: ${missing}`);
    },
    { ...options, done: (state) => `Chain ${state.chainId} is moving: block ${state.head}, ${state.peers} peers` },
  );
}

function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      "chain-id": { type: "string" },
      peers: { type: "string" },
      blocks: { type: "string" },
      timeout: { type: "string" },
    },
  });
  const number = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new Error(`--${name} ${value} is not a whole number`);
    return Number(value);
  };
  const timeout = number("timeout", values.timeout);
  return waitForBlocks({
    url: values.url,
    chainId: number("chain-id", values["chain-id"]),
    peers: number("peers", values.peers),
    blocks: number("blocks", values.blocks),
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
  }).then(() => undefined);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(`wait-for-blocks: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
