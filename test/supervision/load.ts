import { expect } from "chai";
import { Interface, keccak256, toUtf8Bytes } from "ethers";

import { DataSafe__factory } from "../../typechain-types/index.js";
import {
  APPROVED_PER_READ,
  JOINED_BANKS,
  CONNECTING_BANKS,
  type LoadResult,
  generateLoad,
} from "../../scripts/lib/load.js";
import { type StartedLoadChain, startLoadChain } from "../../scripts/lib/load-chain.js";

interface RawLog {
  blockNumber: string;
  topics: string[];
  data: string;
  address: string;
}

const core: Interface = DataSafe__factory.createInterface();
const topic = (name: string): string => {
  const event = core.getEvent(name);
  if (event === null) throw new Error(`no event ${name}`);
  return event.topicHash;
};

/** Fills a fresh chain and returns what the generator said and every log of the run. */
async function fill(
  seed: string,
  targetEvents: number,
): Promise<{ result: LoadResult; logs: RawLog[]; chain: StartedLoadChain; timestamps: Map<string, number> }> {
  const chain = await startLoadChain();
  try {
    const result = await generateLoad(chain, { seed, targetEvents });
    const logs = (await chain.provider.request({
      method: "eth_getLogs",
      params: [{ fromBlock: `0x${result.fromBlock.toString(16)}`, toBlock: `0x${result.toBlock.toString(16)}` }],
    })) as RawLog[];
    const timestamps = new Map<string, number>();
    for (const block of new Set(
      logs.filter((l) => l.topics[0] === topic("AccessRecorded")).map((l) => l.blockNumber),
    )) {
      const b = (await chain.provider.request({ method: "eth_getBlockByNumber", params: [block, false] })) as {
        timestamp: string;
      };
      timestamps.set(block, Number(BigInt(b.timestamp)));
    }
    return { result, logs, chain, timestamps };
  } finally {
    await chain.close();
  }
}

const digest = (logs: RawLog[]) =>
  keccak256(toUtf8Bytes(JSON.stringify(logs.map((l) => [l.blockNumber, l.address, l.topics, l.data]))));
const count = (logs: RawLog[], name: string) => logs.filter((l) => l.topics[0] === topic(name)).length;
/** The local hour (UTC+8) of a unix time. */
const localHour = (t: number) => Math.floor(((t + 8 * 3600) % 86_400) / 3600);

describe("supervision load generator", function () {
  this.timeout(120_000);
  let first: Awaited<ReturnType<typeof fill>>;

  before(async () => {
    first = await fill("test-seed", 4_000);
  });

  it("produces about the target number of events, and counts them as the chain does", () => {
    const { result, logs } = first;
    expect(result.events).to.equal(logs.length);
    expect(result.events).to.be.within(3_600, 4_600);
    const sum = Object.values(result.counts).reduce((a, b) => a + b, 0);
    expect(sum).to.equal(result.events);
    expect(result.counts.AccessRecorded).to.equal(count(logs, "AccessRecorded"));
    expect(result.counts.SubjectRegistered).to.equal(result.holders);
  });

  it("follows the seeds' proportions: ~41% of reads end in an approved loan, 6 departments, 5 + 9 banks", () => {
    const { result, logs } = first;
    const reads = result.counts.AccessRecorded;
    const approved = logs.filter(
      (l) => l.topics[0] === topic("AccessOutcomeRecorded") && core.parseLog(l)?.args.outcome === 1n,
    ).length;
    expect(approved).to.equal(result.outcomes.approved);
    expect(approved / reads).to.be.within(APPROVED_PER_READ - 0.08, APPROVED_PER_READ + 0.08);
    // Every read's outcome is reported but a few (the missing-outcome pattern).
    const outcomes = result.counts.AccessOutcomeRecorded;
    expect(outcomes)
      .to.be.below(reads)
      .and.above(reads * 0.9);
    // Departments issue in bulk: several assets per holder, from the six departments.
    const issuers = new Set(logs.filter((l) => l.topics[0] === topic("AssetIssued")).map((l) => l.topics[3]));
    expect(issuers.size).to.equal(6);
    expect(result.counts.AssetIssued / result.holders).to.be.within(3.5, 6);
    // Members: six departments, the identity authority, the regulator and fourteen banks.
    expect(result.counts.MemberRegistered).to.equal(6 + 2 + JOINED_BANKS + CONNECTING_BANKS);
    // Holders decide: most approve, some reject, some revoke; a bank is suspended and reinstated.
    expect(result.counts.AccessRequestApproved / result.counts.AccessRequested).to.be.within(0.8, 0.95);
    expect(result.counts.AccessRequestRejected).to.be.above(0);
    expect(result.counts.GrantRevoked).to.be.above(0);
    expect(result.counts.MemberSuspended).to.equal(1);
    expect(result.counts.MemberReinstated).to.equal(1);
    expect(result.counts.OperationScheduled).to.equal(1);
    expect(result.counts.OperationExecuted).to.equal(1);
    // Reads come from many banks.
    expect(result.consumers.length).to.be.at.least(8);
  });

  it("puts the alert patterns on the chain: a burst in one hour, reads at night", () => {
    const { result, logs, timestamps } = first;
    const reads = logs.filter((l) => l.topics[0] === topic("AccessRecorded"));
    const burstConsumer = `0x${result.burst.consumer.slice(2).toLowerCase().padStart(64, "0")}`;
    const inBurstHour = reads.filter(
      (l) => l.topics[3] === burstConsumer && timestamps.get(l.blockNumber) === result.burst.time,
    );
    expect(inBurstHour.length).to.equal(result.burst.reads).and.to.be.at.least(25);
    expect(new Set(inBurstHour.map((l) => l.topics[2])).size).to.equal(inBurstHour.length); // distinct holders
    const night = reads.filter((l) => localHour(timestamps.get(l.blockNumber) ?? 0) < 5);
    expect(night.length).to.equal(result.nightReads).and.to.be.above(0);
    // Everything else follows office hours: most reads fall between 08:00 and 18:00 local.
    const office = reads.filter((l) => {
      const h = localHour(timestamps.get(l.blockNumber) ?? 0);
      return h >= 8 && h < 18;
    });
    expect(office.length / reads.length).to.be.above(0.8);
    // Spread over January to May 2021.
    expect(result.fromTime).to.be.below(Date.UTC(2021, 0, 4) / 1000);
    expect(result.toTime).to.be.above(Date.UTC(2021, 4, 1) / 1000);
  });

  it("is deterministic for a seed, and another seed gives other traffic", async () => {
    const again = await fill("test-seed", 4_000);
    expect(again.result.counts).to.deep.equal(first.result.counts);
    expect(digest(again.logs)).to.equal(digest(first.logs));
    const other = await fill("other-seed", 4_000);
    expect(digest(other.logs)).to.not.equal(digest(first.logs));
  });

  it("refuses a size it cannot shape", async () => {
    const chain = await startLoadChain();
    try {
      await generateLoad(chain, { seed: "x", targetEvents: 10 }).then(
        () => expect.fail("accepted 10 events"),
        (error: Error) =>
          expect(error)
            .to.be.instanceOf(RangeError)
            .and.to.have.property("message")
            .that.match(/targetEvents/),
      );
    } finally {
      await chain.close();
    }
  });
});
