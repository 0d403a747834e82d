import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";
import { type JsonRpcPayload, type JsonRpcResult, Interface, Network, hexlify, keccak256, toUtf8Bytes } from "ethers";

import { ChainView } from "../../gateway/chain.js";
import { GatewayJsonRpcProvider } from "../../gateway/rpc.js";
import { DataSafeClient, KeySuite, type Hex, cipherSuite, commitRecord } from "../../sdk/index.js";
import { type Chain, startChain, workDirectory } from "../helpers/gateway-harness.js";

/*
 * The gateway's chain reads against a real `hardhat node`: what is memoised (reads at a confirmed
 * block, receipts that recorded accesses), what is not (reads above the confirmed block, failures,
 * unknown transactions), that a newer confirmed block is a new question (a consumer suspended there
 * is refused, however warm the memo of the block before), and that the head is read at most once
 * per `headCacheMs`. Every JSON-RPC call the view makes is counted by method.
 */

const DATA_TYPE = 8;
const PURPOSE = 1;

/** The gateway's provider, counting the JSON-RPC calls it sends and failing the next one on request. */
class CountingProvider extends GatewayJsonRpcProvider {
  readonly counts: Record<string, number> = {};
  failNext = false;

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    for (const call of [payload].flat()) this.counts[call.method] = (this.counts[call.method] ?? 0) + 1;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("the node is down (test)");
    }
    return super._send(payload);
  }

  /** The calls made while `action` ran, by method. */
  async callsDuring(action: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = { ...this.counts };
    await action();
    return Object.fromEntries(
      Object.entries(this.counts)
        .map(([method, n]) => [method, n - (before[method] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
  }
}

describe("gateway chain reads: memoised by confirmed block, head read at most every headCacheMs", function () {
  this.timeout(180_000);
  const work = workDirectory("gateway-chain");
  let chain: Chain;
  let safe: DataSafeClient;
  let bank: string;
  const providers: CountingProvider[] = [];

  const view = async (headCacheMs: number) => {
    const provider = new CountingProvider(chain.url, Network.from(1337), {
      staticNetwork: true,
      batchStallTime: 0,
      cacheTimeout: -1,
    });
    providers.push(provider);
    const chainView = new ChainView({
      provider,
      dataSafe: chain.addresses["DataSafe#DataSafe"],
      keyDirectory: chain.addresses["KeyDirectory#KeyDirectory"],
      confirmations: 1,
      headCacheMs,
    });
    await chainView.init();
    return { chain: chainView, provider };
  };
  const mine = () => chain.provider.send("evm_mine", []);

  before(async function () {
    this.timeout(300_000);
    chain = await startChain(work.dir);
    safe = await DataSafeClient.at(chain.addresses["DataSafe#DataSafe"], chain.provider, {
      keyDirectoryAddress: chain.addresses["KeyDirectory#KeyDirectory"],
    });
    bank = chain.account(8).address;
    const admin = safe.connect(chain.account(2));
    await (await admin.members.register({ account: bank, kind: "Consumer", name: "Bank" })).wait();
    const key = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
    await (
      await safe.connect(chain.account(8)).keys.setMemberKey({ suite: "X25519Hpke", publicKey: hexlify(key.publicKey) })
    ).wait();
    await mine();
  });

  after(async () => {
    for (const provider of providers) provider.destroy();
    await chain?.stop();
    work.remove();
  });

  it("asks the node once for identical reads at a confirmed block, in flight together or later", async () => {
    const { chain: reads, provider } = await view(0);
    const block = await reads.confirmedBlock();
    const answers: unknown[] = [];
    const calls = await provider.callsDuring(async () => {
      answers.push(
        ...(await Promise.all([
          ...Array.from({ length: 20 }, () => reads.isActiveConsumerAt(bank, block)),
          ...Array.from({ length: 20 }, () => reads.memberKeyAt(bank, block)),
        ])),
      );
    });
    expect(calls).to.deep.equal({ eth_call: 2 });
    expect(answers.slice(0, 20)).to.deep.equal(Array(20).fill(true));
    expect(new Set(answers.slice(20).map((key) => JSON.stringify(key)))).to.have.length(1);
    expect(await provider.callsDuring(() => reads.isActiveConsumerAt(bank, block))).to.deep.equal({});
  });

  it("answers a newer confirmed block afresh: a consumer suspended there is refused, the block before still says active", async () => {
    const { chain: reads, provider } = await view(0);
    const before = await reads.confirmedBlock();
    expect(await reads.isActiveConsumerAt(bank, before)).to.equal(true);
    const regulator = safe.connect(chain.account(4));
    await (await regulator.members.suspend(bank, 7)).wait();
    await mine();
    try {
      const after = await reads.confirmedBlock();
      expect(after).to.be.greaterThan(before);
      const calls = await provider.callsDuring(async () => {
        expect(await reads.isActiveConsumerAt(bank, after)).to.equal(false);
      });
      expect(calls).to.deep.equal({ eth_call: 1 });
      // The memo of the older block is history, not a stale answer: the bank was active then.
      expect(
        await provider.callsDuring(async () => expect(await reads.isActiveConsumerAt(bank, before)).to.equal(true)),
      ).to.deep.equal({});
    } finally {
      await (await regulator.members.reinstate(bank)).wait();
      await mine();
    }
    expect(await reads.isActiveConsumerAt(bank, await reads.confirmedBlock())).to.equal(true);
  });

  it("reads the head at most once per headCacheMs; a request for a fresh head waits for the next read", async () => {
    const headCacheMs = 400;
    const { chain: reads, provider } = await view(headCacheMs);
    let first = 0;
    const burstStarted = performance.now();
    const burst = await provider.callsDuring(async () => {
      const blocks = await Promise.all(Array.from({ length: 50 }, () => reads.confirmedBlock()));
      expect(new Set(blocks).size).to.equal(1);
      first = blocks[0];
    });
    expect(burst).to.deep.equal({ eth_blockNumber: 1 });
    await mine();
    // Within headCacheMs the last read stands, even though the chain moved on.
    expect(await provider.callsDuring(async () => expect(await reads.confirmedBlock()).to.equal(first))).to.deep.equal(
      {},
    );
    // Ten requests that need a head read after their arrival share the next read, not before headCacheMs.
    const fresh = await provider.callsDuring(async () => {
      const blocks = await Promise.all(Array.from({ length: 10 }, () => reads.confirmedBlock(true)));
      expect(blocks).to.deep.equal(Array(10).fill(first + 1));
    });
    expect(fresh).to.deep.equal({ eth_blockNumber: 1 });
    expect(performance.now() - burstStarted).to.be.at.least(headCacheMs);
    // Once headCacheMs has passed, the next request reads the head again.
    await sleep(headCacheMs + 50);
    expect(await provider.callsDuring(() => reads.confirmedBlock())).to.deep.equal({ eth_blockNumber: 1 });
  });

  it("does not memoise reads above the confirmed block, nor failed reads", async () => {
    const { chain: reads, provider } = await view(0);
    const head = await reads.headBlock();
    const asset = keccak256(toUtf8Bytes("no such asset"));
    // The head is not final by the gateway's reckoning (confirmations: 1): asked afresh each time.
    for (let i = 0; i < 2; i++) {
      expect(
        await provider.callsDuring(async () => expect(await reads.assetStatusAt(asset, head)).to.equal("None")),
      ).to.deep.equal({ eth_call: 2 });
    }
    const confirmed = await reads.confirmedBlock();
    provider.failNext = true;
    let failed: unknown;
    await reads.controllerAt(asset, confirmed).catch((error) => (failed = error));
    expect(failed).to.be.instanceOf(Error);
    const retried = await provider.callsDuring(async () =>
      expect(await reads.controllerAt(asset, confirmed)).to.equal("0x0000000000000000000000000000000000000000"),
    );
    expect(retried).to.deep.equal({ eth_call: 1 });
  });

  it("decodes a receipt's accesses once, and asks again about a transaction that recorded none", async () => {
    const network = await recordRead(chain, safe);
    const { chain: reads, provider } = await view(0);
    const first = await provider.callsDuring(async () => {
      const access = await reads.recordedAccess(network.transactionHash, network.accessIds[0]);
      expect(access).to.deep.equal({
        accessId: network.accessIds[0].toLowerCase(),
        grantId: network.grantId.toLowerCase(),
        subjectId: network.subjectId.toLowerCase(),
        consumer: bank.toLowerCase(),
        assetId: network.assetId.toLowerCase(),
        fields: 0n,
        blockNumber: network.blockNumber,
        transactionHash: network.transactionHash.toLowerCase(),
      });
    });
    expect(first).to.deep.equal({ eth_getTransactionReceipt: 1 });
    const second = await provider.callsDuring(async () => {
      expect((await reads.recordedAccess(network.transactionHash, network.accessIds[0]))?.accessId).to.equal(
        network.accessIds[0].toLowerCase(),
      );
      expect(await reads.recordedAccess(network.transactionHash, keccak256("0x01"))).to.equal(undefined);
    });
    expect(second).to.deep.equal({});
    const unknown = keccak256(toUtf8Bytes("not mined yet"));
    for (let i = 0; i < 2; i++) {
      expect(
        await provider.callsDuring(async () =>
          expect(await reads.recordedAccess(unknown, network.accessIds[0])).to.equal(undefined),
        ),
      ).to.deep.equal({ eth_getTransactionReceipt: 1 });
    }
  });
});

/** A holder's asset granted to the bank, and one read of it recorded. */
async function recordRead(chain: Chain, safe: DataSafeClient) {
  const [memberAdmin, catalogAdmin, authority, department, bank, holder] = [2, 3, 5, 6, 8, 12].map((i) =>
    chain.account(i),
  );
  const admin = safe.connect(memberAdmin);
  await (await admin.members.register({ account: authority.address, kind: "IdentityAuthority", name: "IA" })).wait();
  await (await admin.members.register({ account: department.address, kind: "Department", name: "Fund" })).wait();
  const catalog = safe.connect(catalogAdmin).catalog;
  await (await catalog.define({ dataType: DATA_TYPE, name: "fund", schemaURI: "urn:test", schema: {} })).wait();
  await (await catalog.authoriseIssuer(DATA_TYPE, department.address)).wait();
  const subjectId = keccak256(toUtf8Bytes("chain-test-holder"));
  await (await safe.connect(authority).subjects.register(subjectId, holder.address)).wait();
  const { commitment } = commitRecord({ balance: 1 });
  const { assetId, key } = await (
    await safe.connect(department).assets.issue({ subjectId, dataType: DATA_TYPE, contentCommitment: commitment })
  ).wait();
  const {
    grantIds: [grantId],
  } = await (
    await safe.connect(holder).consent.grant({
      subjectId,
      consumers: [bank.address],
      targets: [assetId],
      purpose: PURPOSE,
      expiresAt: Math.floor(Date.now() / 1000) + 365 * 86_400, // within MAX_GRANT_DURATION
      maxReads: 10,
    })
  ).wait();
  const core = new Interface(safe.contracts.dataSafe.interface.fragments);
  const receipt = await (await safe.contracts.dataSafe.connect(bank).recordAccess(key, 0, PURPOSE, 0)).wait();
  const topic = core.getEvent("AccessRecorded")!.topicHash;
  const accessIds = receipt!.logs
    .filter((log) => log.topics[0] === topic)
    .map((log) => core.parseLog(log)!.args.accessId as Hex);
  expect(accessIds).to.have.length(1);
  await chain.provider.send("evm_mine", []);
  return {
    subjectId,
    assetId,
    grantId,
    accessIds,
    transactionHash: receipt!.hash as Hex,
    blockNumber: receipt!.blockNumber,
  };
}
