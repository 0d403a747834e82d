import path from "node:path";

import { expect } from "chai";

import { PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import { type LocalNode, start, startNode, stopAll } from "./processes.js";

/*
 * ops/scripts/wait-for-blocks.ts, run as the runbook runs it, against `hardhat node` serving the
 * besuLike network: it waits for new blocks with progress and ends saying what it saw, or, given up,
 * what was missing. (`hardhat node` has no peers: these runs ask for none.)
 */

const SCRIPT = path.join("ops", "scripts", "wait-for-blocks.ts");

function waitForBlocks(url: string, ...args: string[]) {
  return start("wait-for-blocks", "npx", ["tsx", SCRIPT, "--url", url, ...args]);
}

describe("waiting for blocks (ops/scripts/wait-for-blocks.ts)", function () {
  this.timeout(240_000);
  let node: LocalNode;

  before(async () => {
    node = await startNode();
  });

  after(async () => {
    await node?.stop();
    await stopAll();
  });

  it("waits until the chain imports the blocks asked for, saying what it waits for, then what it saw", async () => {
    const from = await node.provider.getBlockNumber();
    const run = waitForBlocks(node.url, "--peers", "0", "--blocks", "3", "--timeout", "120");
    // Blocks arrive one a second, as validators would produce them, while the script waits.
    await node.provider.send("evm_setIntervalMining", [1_000]);
    try {
      const code = await run.exited;
      const output = run.output().replace(/\x1b\[[0-9;]*m/g, "");
      expect(code, output).to.equal(0);
      expect(output).to.contain(
        `- Waiting for ${node.url} to serve chain ${PRIVATE_CHAIN_ID} with 0 peers and 3 new blocks`,
      );
      const head = Number(/✔ Chain 1337 is moving: block (\d+), 0 peers/.exec(output)?.[1]);
      expect(head).to.be.at.least(from + 3);
    } finally {
      await node.provider.send("evm_setIntervalMining", [0]);
    }
  });

  it("gives up after its timeout, saying what was missing", async () => {
    const run = waitForBlocks(node.url, "--peers", "0", "--blocks", "1", "--timeout", "3");
    const code = await run.exited;
    const output = run.output().replace(/\x1b\[[0-9;]*m/g, "");
    expect(code).to.equal(1);
    expect(output).to.match(/✖ Waiting for .*: failed after \d s/);
    expect(output).to.match(
      /wait-for-blocks: gave up after 3 s: 0 of 1 new blocks since block \d+ \(QBFT needs 3 of the 4 validators\)/,
    );
  });

  it("stops at once on the wrong chain, and says which it found", async () => {
    const run = waitForBlocks(node.url, "--chain-id", "31337", "--peers", "0", "--timeout", "60");
    const code = await run.exited;
    expect(code).to.equal(1);
    expect(run.output()).to.contain(`wait-for-blocks: the node serves chain ${PRIVATE_CHAIN_ID}, not 31337`);
  });

  it("asks for peers by default (the RPC node sees four validators), and says so when the node cannot tell", async () => {
    const run = waitForBlocks(node.url, "--blocks", "0", "--timeout", "3");
    const code = await run.exited;
    expect(code).to.equal(1);
    expect(run.output()).to.contain("with 4 peers and 0 new blocks");
    expect(run.output()).to.contain(`gave up after 3 s: ${node.url} did not answer as expected: net_peerCount`);
    expect(run.output()).to.contain("net_peerCount");
  });
});
