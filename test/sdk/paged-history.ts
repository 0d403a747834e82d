/**
 * The trail over a Besu-like RPC: a `hardhat node` process holds a history of more than 3,000
 * blocks (the suite deployed by Ignition over HTTP after 1,200 empty blocks, then four acts 1,300
 * blocks apart), and the SDK reads it through a proxy that refuses `eth_getLogs` over 1,000 blocks
 * with Besu's error and fails chosen requests on purpose. What it reads is compared with what the
 * same queries return in one uncapped `eth_getLogs` each, straight from the node.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { FetchRequest, JsonRpcProvider, Wallet } from "ethers";

import { PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import { DataSafe__factory } from "../../typechain-types/index.js";
import {
  DataSafeClient,
  type DataSafeClientOptions,
  DataSafeError,
  DeploymentRecordError,
  type Hex,
  LogQueryError,
  commitRecord,
  dataTypeTarget,
  deriveSubjectId,
  newSalt,
} from "../../sdk/index.js";
import { BESU_RANGE_ERROR, CappedRpcProxy, type InjectedFailure } from "../helpers/capped-rpc-proxy.js";
import { type LocalNode, Processes, ROOT, startNode } from "../helpers/node-process.js";
import { deploySuite } from "../helpers/processes.js";
import { thrown } from "./helpers.js";

const CAP = 1_000;
const EMPTY_BLOCKS_BEFORE_DEPLOYMENT = 1_200;
const GAP = 1_300;
const DEPLOYMENT_ID = "sdk-paged-history-test";
const DEPLOYMENT_DIR = path.join(ROOT, "deploy", "deployments", DEPLOYMENT_ID);
const PARAMETERS_FILE = path.join("deploy", "parameters", "localBesu.json");

const Kind = { IdentityAuthority: "IdentityAuthority", Department: "Department", Consumer: "Consumer" } as const;
const DataType = { HouseholdRegister: 1, HousingFund: 8 } as const;
const Purpose = { Loan: 1, Enrolment: 2 } as const;
const ACCESS_RECORDED = DataSafe__factory.createInterface().getEvent("AccessRecorded").topicHash;

/** Quick retries: the failures here are injected, not load to back off from. */
const FAST_RETRIES = { retryDelay: 10, maxRetryDelay: 100 };

describe("sdk: history over a range-capped RPC (hardhat node behind a Besu-like proxy)", function () {
  this.timeout(10 * 60_000);

  const processes = new Processes();
  const providers: JsonRpcProvider[] = [];
  let node: LocalNode;
  let proxy: CappedRpcProxy;
  /** The suite's addresses. */
  let suite: { address: string; catalogAddress: string };
  /** The first block with a contract of the suite (the catalog's creation). */
  let deploymentBlock: number;
  let latest: number;
  /** The same queries as one uncapped eth_getLogs each, straight from the node. */
  let direct: DataSafeClient;
  const holder = deriveSubjectId(newSalt(), "resident-id", "TEST-PAGED-HOLDER");
  const other = deriveSubjectId(newSalt(), "resident-id", "TEST-PAGED-OTHER");
  /** Blocks and ids the acts wrote. */
  const written = {
    reads: [] as { accessId: Hex; blockNumber: number }[],
    otherRead: "" as Hex,
    requests: [] as Hex[],
    actBlocks: [] as number[],
  };

  /** A provider that reaches the node only through the proxy. */
  const viaProxy = ({ timeoutMs = 60_000, batchMaxCount = 100 } = {}): JsonRpcProvider => {
    const request = new FetchRequest(proxy.url);
    request.timeout = timeoutMs;
    const provider = new JsonRpcProvider(request, PRIVATE_CHAIN_ID, {
      staticNetwork: true,
      cacheTimeout: -1,
      batchMaxCount,
    });
    providers.push(provider);
    return provider;
  };
  const clientViaProxy = (options: DataSafeClientOptions = {}, transport: Parameters<typeof viaProxy>[0] = {}) =>
    new DataSafeClient(suite, viaProxy(transport), { fromBlock: deploymentBlock, ...options });

  /** Every query of the trail for the holder, the other holder and the regulator. */
  const everything = async (client: DataSafeClient) => ({
    usage: await client.events.usageOf(holder),
    requests: await client.events.requestsOf(holder),
    grants: await client.events.grantsOf(holder),
    assets: await client.events.assetsOf(holder),
    otherGrants: await client.events.grantsOf(other),
    trail: await client.events.accessTrail({}),
  });

  const forwarded = () => proxy.queries.filter((q) => q.outcome === "forwarded");
  const blocksOf = (q: { fromBlock: number; toBlock: number }) => q.toBlock - q.fromBlock + 1;

  before(async function () {
    this.timeout(20 * 60_000);
    node = await startNode(processes);
    await node.provider.send("hardhat_mine", [`0x${EMPTY_BLOCKS_BEFORE_DEPLOYMENT.toString(16)}`]);
    rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
    const { addresses } = await deploySuite(
      (name, args, env) => processes.start(name, args, env),
      node.url,
      DEPLOYMENT_ID,
    );
    suite = { address: addresses["DataSafe#DataSafe"], catalogAddress: addresses["DataCatalog#DataCatalog"] };
    // The deployment block, found from the chain: the block in which the catalog's code appears.
    for (let block = EMPTY_BLOCKS_BEFORE_DEPLOYMENT; ; block++) {
      if ((await node.provider.getCode(suite.catalogAddress, block)) !== "0x") {
        deploymentBlock = block;
        break;
      }
    }

    // The roles' accounts are the node's unlocked accounts 1-4, as deploy/parameters/localBesu.json names them.
    const roles = JSON.parse(readFileSync(path.join(ROOT, PARAMETERS_FILE), "utf8")).Permissions;
    expect([roles.operator, roles.memberAdmin, roles.catalogAdmin, roles.regulator]).to.deep.equal(
      node.accounts.slice(1, 5),
    );
    const writer = new DataSafeClient(suite, node.provider);
    const as = async (account: number) => writer.connect(await node.provider.getSigner(node.accounts[account]));
    const [memberAdmin, catalogAdmin, authority, publicSecurity, housingFund, bank, school, app, otherController] =
      await Promise.all([2, 3, 5, 6, 7, 8, 9, 10, 11].map(as));
    const accountOf = (i: number) => node.accounts[i];
    const phone = Wallet.createRandom();
    const now = async () => (await node.provider.getBlock("latest"))!.timestamp;
    const mine = async (blocks: number) => node.provider.send("hardhat_mine", [`0x${blocks.toString(16)}`]);

    // Act 1, right after the deployment: members, data types, holders and their assets.
    for (const [account, kind, name] of [
      [5, Kind.IdentityAuthority, "Identity Authority"],
      [6, Kind.Department, "Public Security Bureau"],
      [7, Kind.Department, "Housing Provident Fund Centre"],
      [8, Kind.Consumer, "City Commercial Bank"],
      [9, Kind.Consumer, "No. 1 Middle School"],
    ] as const) {
      await (await memberAdmin.members.register({ account: accountOf(account), kind, name })).wait();
    }
    await (
      await catalogAdmin.catalog.define({
        dataType: 1,
        name: "household-register",
        schemaURI: "ipfs://s/1",
        schema: { name: "household-register" },
      })
    ).wait();
    await (
      await catalogAdmin.catalog.define({
        dataType: 8,
        name: "personal-housing-fund",
        schemaURI: "ipfs://s/8",
        schema: { name: "personal-housing-fund" },
      })
    ).wait();
    await (await catalogAdmin.catalog.authoriseIssuer(DataType.HouseholdRegister, accountOf(6))).wait();
    await (await catalogAdmin.catalog.authoriseIssuer(DataType.HousingFund, accountOf(7))).wait();
    await (await authority.subjects.register(holder, phone.address)).wait();
    await (await authority.subjects.register(other, accountOf(11))).wait();
    const issue = async (from: DataSafeClient, subjectId: Hex, dataType: number) =>
      (
        await from.assets.issue({
          subjectId,
          dataType,
          contentCommitment: commitRecord({ subjectId, dataType }).commitment,
        })
      ).wait();
    const household = await issue(publicSecurity, holder, DataType.HouseholdRegister);
    const fund = await issue(housingFund, holder, DataType.HousingFund);
    const otherFund = await issue(housingFund, other, DataType.HousingFund);
    written.actBlocks.push(await node.provider.getBlockNumber());
    await mine(GAP);

    // Act 2: the bank asks for the housing fund and reads it; asks for the household and is refused; the school asks.
    const loan = await (
      await bank.consent.requestAccess({
        subjectId: holder,
        scope: "DataType",
        targets: [dataTypeTarget(accountOf(7), DataType.HousingFund)],
        purpose: Purpose.Loan,
        grantDuration: 86_400,
      })
    ).wait();
    await (await app.consent.approveBySig(loan.request, await app.consent.signApproval(phone, loan.request))).wait();
    const bankRead = await (
      await bank.accessLog.recordAccess({ asset: fund.key, scope: "DataType", purpose: Purpose.Loan })
    ).wait();
    await (await bank.accessLog.recordOutcome(bankRead, 1)).wait();
    const refused = await (
      await bank.consent.requestAccess({
        subjectId: holder,
        targets: [household.assetId],
        purpose: Purpose.Loan,
        grantDuration: 3600,
      })
    ).wait();
    await (
      await app.consent.rejectBySig(refused.request, 1, await app.consent.signRejection(phone, refused.request, 1))
    ).wait();
    const enrolment = await (
      await school.consent.requestAccess({
        subjectId: holder,
        targets: [household.assetId],
        purpose: Purpose.Enrolment,
        grantDuration: 3600,
        expiresAt: (await now()) + 30 * 86_400,
      })
    ).wait();
    written.requests.push(loan.requestId, refused.requestId, enrolment.requestId);
    written.reads.push({ accessId: bankRead.accessId, blockNumber: bankRead.receipt.blockNumber });
    written.actBlocks.push(await node.provider.getBlockNumber());
    await mine(GAP);

    // Act 3: the holder grants the school two reads directly; the school reads; the other holder's bank read.
    const terms = {
      subjectId: holder,
      consumers: [accountOf(9)],
      targets: [household.assetId],
      purpose: Purpose.Enrolment,
      expiresAt: (await now()) + 30 * 86_400,
      maxReads: 2,
    };
    await (await app.consent.grantBySig(terms, await app.consent.signGrant(phone, terms))).wait();
    const schoolRead = await (
      await school.accessLog.recordAccess({ asset: household.key, purpose: Purpose.Enrolment })
    ).wait();
    const otherKey = { subjectId: other, consumer: accountOf(8), target: otherFund.assetId, purpose: Purpose.Loan };
    await (
      await otherController.consent.grant({
        subjectId: other,
        consumers: [accountOf(8)],
        targets: [otherFund.assetId],
        purpose: Purpose.Loan,
        expiresAt: (await now()) + 30 * 86_400,
        maxReads: 3,
      })
    ).wait();
    const otherRead = await (await bank.accessLog.recordAccess({ asset: otherFund.key, purpose: Purpose.Loan })).wait();
    written.reads.push({ accessId: schoolRead.accessId, blockNumber: schoolRead.receipt.blockNumber });
    written.otherRead = otherRead.accessId;
    written.actBlocks.push(await node.provider.getBlockNumber());
    await mine(GAP);

    // Act 4: the school's second read; the other holder revokes the bank's grant.
    const secondRead = await (
      await school.accessLog.recordAccess({ asset: household.key, purpose: Purpose.Enrolment })
    ).wait();
    await (await otherController.consent.revoke(otherKey)).wait();
    written.reads.push({ accessId: secondRead.accessId, blockNumber: secondRead.receipt.blockNumber });
    written.actBlocks.push(await node.provider.getBlockNumber());
    await mine(10);
    latest = await node.provider.getBlockNumber();

    direct = new DataSafeClient(suite, node.provider, { logQuery: { pageSize: Number.MAX_SAFE_INTEGER } });
    proxy = await CappedRpcProxy.start(node.url, CAP);
  });

  after(async () => {
    for (const provider of providers) provider.destroy();
    await proxy?.close();
    await node?.stop();
    await processes.stopAll();
    rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
  });

  beforeEach(() => proxy.reset());

  it("has a history the proxy cannot serve in one query: one eth_getLogs over it is refused with Besu's error", async () => {
    expect(latest - deploymentBlock).to.be.greaterThan(3 * CAP);
    expect(written.reads.at(-1)!.blockNumber - written.reads[0].blockNumber).to.be.greaterThan(2.5 * CAP);
    const error = await thrown(() => viaProxy().getLogs({ address: suite.address, fromBlock: 0, toBlock: "latest" }));
    expect(JSON.stringify((error as { error?: unknown }).error)).to.equal(JSON.stringify(BESU_RANGE_ERROR));
    expect(proxy.queries).to.deep.equal([{ fromBlock: 0, toBlock: latest, topic0: null, outcome: "refused" }]);
  });

  it("finds the deployment block in the Ignition journal, without the Hardhat runtime", async () => {
    const client = await DataSafeClient.fromDeployment(DEPLOYMENT_DIR, viaProxy());
    expect(client.fromBlock).to.equal(deploymentBlock);
    expect([client.address, client.catalogAddress]).to.deep.equal([suite.address, suite.catalogAddress]);
    expect(await node.provider.getCode(suite.catalogAddress, deploymentBlock - 1)).to.equal("0x");
  });

  it("pages every query of the trail within 1,000 blocks from the deployment block and returns what one uncapped query does", async () => {
    const expected = await everything(direct);
    const client = await DataSafeClient.fromDeployment(DEPLOYMENT_DIR, viaProxy());

    const paged = await everything(client);

    expect(paged).to.deep.equal(expected);
    // What the acts wrote, so the equality above is not between two empty lists.
    expect(paged.usage.map((u) => u.accessId)).to.deep.equal(written.reads.map((r) => r.accessId));
    expect(
      paged.usage.map((u) => [u.consumerName, u.dataTypeName, u.issuerName, u.readNumber, u.maxReads]),
    ).to.deep.equal([
      ["City Commercial Bank", "personal-housing-fund", "Housing Provident Fund Centre", 1, 1],
      ["No. 1 Middle School", "household-register", "Public Security Bureau", 1, 2],
      ["No. 1 Middle School", "household-register", "Public Security Bureau", 2, 2],
    ]);
    expect(paged.usage[0].outcome).to.equal(1);
    expect(paged.usage[0].requestId).to.equal(written.requests[0]);
    expect(paged.requests.map((r) => [r.requestId, r.status])).to.deep.equal([
      [written.requests[0], "Approved"],
      [written.requests[1], "Rejected"],
      [written.requests[2], "Open"],
    ]);
    expect(paged.grants.map((g) => [g.consumerName, g.reads, g.maxReads, g.status])).to.deep.equal([
      ["City Commercial Bank", 1, 1, "Exhausted"],
      ["No. 1 Middle School", 2, 2, "Exhausted"],
    ]);
    expect(paged.otherGrants.map((g) => g.status)).to.deep.equal(["Revoked"]);
    expect(paged.trail.map((u) => u.accessId)).to.have.members([
      ...written.reads.map((r) => r.accessId),
      written.otherRead,
    ]);

    expect(proxy.queries.filter((q) => q.outcome !== "forwarded")).to.deep.equal([]);
    expect(Math.max(...proxy.queries.map(blocksOf))).to.equal(CAP);
    expect(Math.min(...proxy.queries.map((q) => q.fromBlock))).to.equal(deploymentBlock);
    expect(Math.max(...proxy.queries.map((q) => q.toBlock))).to.equal(latest);
  });

  it("covers the range with pages that neither overlap nor leave a gap", async () => {
    const client = clientViaProxy();
    await client.events.usageOf(holder);

    const pages = forwarded()
      .filter((q) => q.topic0 === ACCESS_RECORDED)
      .sort((a, b) => a.fromBlock - b.fromBlock);
    const span = latest - deploymentBlock + 1;
    expect(pages).to.have.length(Math.ceil(span / CAP));
    expect(pages[0].fromBlock).to.equal(deploymentBlock);
    expect(pages.at(-1)!.toBlock).to.equal(latest);
    pages.slice(1).forEach((page, i) => expect(page.fromBlock).to.equal(pages[i].toBlock + 1));
  });

  it("halves pages the node calls too wide and keeps the smaller size for the pages after", async () => {
    const expected = await everything(direct);
    const client = clientViaProxy({ logQuery: { pageSize: 4 * CAP } });

    expect(await everything(client)).to.deep.equal(expected);

    const refused = proxy.queries.filter((q) => q.outcome === "refused");
    // The first query (the reads) is refused and halved until its pages pass; every query after it
    // starts at the size that passed, and is never refused.
    expect(refused.length).to.be.within(1, 7);
    expect(refused.every((q) => q.topic0 === ACCESS_RECORDED)).to.equal(true);
    const firstOtherEvent = proxy.queries.findIndex((q) => q.topic0 !== ACCESS_RECORDED);
    expect(proxy.queries.slice(firstOtherEvent).filter((q) => q.outcome === "refused")).to.deep.equal([]);
    expect(Math.max(...forwarded().map(blocksOf))).to.be.at.most(CAP);
  });

  it("retries 503s, 429s, dropped connections, unanswered requests and 'limit exceeded', and returns every record once", async () => {
    const expected = await everything(direct);
    const injected: InjectedFailure[] = [
      "unavailable",
      "dropConnection",
      "limitExceeded",
      "tooManyRequests",
      "noAnswer",
    ];
    // The first requests that ask for a page not asked before fail, one kind after the other, three
    // times each. A retry sent in the same HTTP batch as a new page fails again, so it may take a few tries.
    const failures = new Map<string, number>();
    let injections = 0;
    proxy.failWhen = (queries) => {
      const keys = queries.map((q) => `${q.topic0}/${q.fromBlock}-${q.toBlock}`);
      if (injections >= 3 * injected.length || keys.every((key) => failures.has(key))) return undefined;
      for (const key of keys) failures.set(key, (failures.get(key) ?? 0) + 1);
      return injected[injections++ % injected.length];
    };
    const client = clientViaProxy({ logQuery: { ...FAST_RETRIES, maxAttempts: 8 } }, { timeoutMs: 2_000 });

    const result = await everything(client);

    expect(result).to.deep.equal(expected);
    expect(new Set(result.trail.map((u) => u.accessId)).size).to.equal(result.trail.length);
    for (const failure of injected) {
      expect(
        proxy.queries.some((q) => q.outcome === failure),
        failure,
      ).to.equal(true);
    }
    // Each failed query was asked again for the same blocks and then answered.
    for (const failed of proxy.queries.filter((q) => q.outcome !== "forwarded" && q.outcome !== "refused")) {
      const later = proxy.queries.slice(proxy.queries.indexOf(failed) + 1);
      expect(
        later.some(
          (q) =>
            q.outcome === "forwarded" &&
            q.fromBlock === failed.fromBlock &&
            q.toBlock === failed.toBlock &&
            q.topic0 === failed.topic0,
        ),
        `${failed.outcome} ${failed.fromBlock}-${failed.toBlock}`,
      ).to.equal(true);
    }
    expect(Math.max(...proxy.queries.map(blocksOf))).to.be.at.most(CAP);
  });

  it("gives up on a page that keeps failing with a LogQueryError naming its blocks and the node's answer", async () => {
    const target = written.reads[1].blockNumber;
    proxy.failWhen = (queries) =>
      queries.some((q) => q.fromBlock <= target && target <= q.toBlock) ? "unavailable" : undefined;
    // One call per HTTP request, so that only the page holding the block fails, not its batch-mates.
    const client = clientViaProxy({ logQuery: { ...FAST_RETRIES, maxAttempts: 3 } }, { batchMaxCount: 1 });

    const error = await thrown(() => client.events.usageOf(holder));

    expect(error).to.be.instanceOf(LogQueryError).and.instanceOf(DataSafeError);
    const failure = error as LogQueryError;
    expect(failure.reason).to.equal("RetriesExhausted");
    expect(failure.attempts).to.equal(3);
    expect(failure.action).to.equal("getLogs AccessRecorded");
    expect(failure.fromBlock).to.be.at.most(target);
    expect(failure.toBlock).to.be.at.least(target);
    expect(blocksOf(failure)).to.be.at.most(CAP);
    expect(failure.rpcMessage).to.contain("503");
    expect(failure.shortMessage).to.contain(`blocks ${failure.fromBlock}-${failure.toBlock}`);
    const attempts = proxy.queries.filter(
      (q) => q.topic0 === ACCESS_RECORDED && q.fromBlock === failure.fromBlock && q.toBlock === failure.toBlock,
    );
    expect(attempts.map((q) => q.outcome)).to.deep.equal(["unavailable", "unavailable", "unavailable"]);
  });

  it("does not retry what the node refuses for good (invalid params)", async () => {
    proxy.failWhen = () => "invalidParams";
    const client = clientViaProxy({ logQuery: FAST_RETRIES });

    const error = await thrown(() => client.events.requestsOf(holder));

    expect(error).to.be.instanceOf(LogQueryError);
    expect((error as LogQueryError).reason).to.equal("Rejected");
    expect((error as LogQueryError).attempts).to.equal(1);
    expect((error as LogQueryError).rpcMessage).to.equal("Invalid params: bad filter (code -32602)");
  });

  it("starts at 0 without a deployment block, and at the deployment block with one", async () => {
    const expected = await direct.events.usageOf(holder);

    const unknownStart = await DataSafeClient.at(suite.address, viaProxy(), { logQuery: { concurrency: 8 } });
    expect(unknownStart.fromBlock).to.equal(0);
    expect(await unknownStart.events.usageOf(holder)).to.deep.equal(expected);
    expect(Math.min(...proxy.queries.map((q) => q.fromBlock))).to.equal(0);

    proxy.reset();
    const known = await DataSafeClient.at(suite.address, viaProxy(), { fromBlock: deploymentBlock });
    expect(await known.events.usageOf(holder)).to.deep.equal(expected);
    expect(Math.min(...proxy.queries.map((q) => q.fromBlock))).to.equal(deploymentBlock);
    // A connected client reads history the same way.
    proxy.reset();
    await known.connect(viaProxy()).events.usageOf(holder);
    expect(Math.min(...proxy.queries.map((q) => q.fromBlock))).to.equal(deploymentBlock);
  });

  it("reads an explicit range only, names still from the deployment on", async () => {
    const fromBlock = written.actBlocks[1] + 1;
    const toBlock = written.actBlocks[2];
    const client = clientViaProxy();

    const usage = await client.events.usageOf(holder, { fromBlock, toBlock });

    const expected = (await direct.events.usageOf(holder)).filter(
      (u) => u.blockNumber >= fromBlock && u.blockNumber <= toBlock,
    );
    expect(usage).to.deep.equal(expected);
    expect(usage.map((u) => u.accessId)).to.deep.equal([written.reads[1].accessId]);
    expect(usage[0].consumerName).to.equal("No. 1 Middle School");
    const reads = proxy.queries.filter((q) => q.topic0 === ACCESS_RECORDED);
    expect(Math.min(...reads.map((q) => q.fromBlock))).to.equal(fromBlock);
    expect(Math.max(...proxy.queries.map((q) => q.toBlock))).to.equal(toBlock);
    expect(Math.min(...proxy.queries.map((q) => q.fromBlock))).to.equal(deploymentBlock);

    proxy.reset();
    expect(await client.events.usageOf(holder, { fromBlock: toBlock + 1, toBlock })).to.deep.equal([]);
    expect(proxy.queries).to.deep.equal([]);
  });

  it("refuses a deployment folder of another chain, or none", async () => {
    const copy = mkdtempSync(path.join(tmpdir(), "datasafe-deployment-"));
    try {
      cpSync(DEPLOYMENT_DIR, copy, { recursive: true });
      const journal = path.join(copy, "journal.jsonl");
      writeFileSync(journal, readFileSync(journal, "utf8").replace(`"chainId":${PRIVATE_CHAIN_ID}`, '"chainId":31337'));
      const wrongChain = await thrown(() => DataSafeClient.fromDeployment(copy, viaProxy()));
      expect(wrongChain).to.be.instanceOf(DeploymentRecordError);
      expect((wrongChain as DeploymentRecordError).shortMessage).to.contain(
        "records chain 31337, the node serves 1337",
      );

      const missing = await thrown(() => DataSafeClient.fromDeployment(path.join(copy, "nothing"), viaProxy()));
      expect(missing).to.be.instanceOf(DeploymentRecordError);
      expect((missing as DeploymentRecordError).path).to.equal(path.join(copy, "nothing", "journal.jsonl"));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
