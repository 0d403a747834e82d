import { expect } from "chai";
import { Wallet, getAddress } from "ethers";
import { createSiweMessage } from "viem/siwe";

import {
  EXPORT_COLUMNS,
  InvalidCursorError,
  InvalidParameterError,
  NoMatchError,
  NotAuthorisedError,
  NotYourSubjectError,
  type ReadItem,
  RangeNotIndexedError,
  RegulatorOnlyError,
  SignInBadNonceError,
  SignInBadSignatureError,
  SignInExpiredError,
  SignInReplayedError,
  SignInWrongChainError,
  SignInWrongDomainError,
  SupervisionClient,
  type SupervisionError,
  TokenInvalidError,
  TokenMissingError,
  exportDigest,
  parseExportCsv,
} from "../../sdk/supervision.js";
import { ChainExporter } from "../../scripts/lib/export-from-chain.js";
import { diffExport } from "../../scripts/lib/export-diff.js";
import { type Chain, startChain, stopAll, workDirectory } from "../helpers/gateway-harness.js";
import { FUND, HOUSEHOLD, type Indexer, type Traffic, craftTraffic, startIndexer } from "../helpers/supervision.js";

/*
 * The supervision API end to end on the embedded database (PGlite): a `hardhat node` with the
 * suite deployed by Ignition and crafted traffic, the indexer process serving the API
 * (`npm run indexer`), and the SDK's `SupervisionClient` over HTTP. Every answer is compared with
 * what the chain says (the SDK's events module, or the export rows recomputed from logs); every
 * refusal asserts its typed error, status and code.
 */

async function refusal<E extends SupervisionError>(promise: Promise<unknown>, type: new (...args: never[]) => E) {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(type);
    return error as E;
  }
  expect.fail(`expected ${type.name}`);
}

describe("supervision API over HTTP (PGlite)", function () {
  this.timeout(240_000);
  const work = workDirectory("supervision-api");
  let chain: Chain;
  let traffic: Traffic;
  let indexer: Indexer;
  let regulator: SupervisionClient;

  before(async function () {
    this.timeout(400_000);
    chain = await startChain(work.dir);
    traffic = await craftTraffic(chain);
    indexer = await startIndexer(chain, work.dir);
    await indexer.waitForBlock(traffic.lastBlock, 240_000);
    regulator = new SupervisionClient(indexer.url);
    await regulator.signIn(traffic.wallets.regulator);
  });

  after(async () => {
    await indexer?.stop();
    await stopAll();
    await chain?.stop();
    work.remove();
  });

  describe("status", () => {
    it("reports the head and the indexed block, with the lag", async () => {
      const status = await new SupervisionClient(indexer.url).status();
      const head = await chain.provider.getBlock("latest");
      expect(status).to.deep.equal({
        chainId: 1337,
        headBlock: head!.number,
        indexedBlock: head!.number,
        lagBlocks: 0,
        lagSeconds: 0,
        ready: true,
      });
    });
  });

  describe("sign-in", () => {
    it("signs a regulator member in as regulator", async () => {
      const api = new SupervisionClient(indexer.url);
      const session = await api.signIn(traffic.wallets.regulator);
      expect(session.role).to.equal("regulator");
      expect(session.address).to.equal(traffic.wallets.regulator.address);
      expect(session.expiresAt - Math.floor(Date.now() / 1000)).to.be.within(800, 900);
    });

    it("refuses a member that is not a regulator (403 not-authorised)", async () => {
      const error = await refusal(new SupervisionClient(indexer.url).signIn(traffic.wallets.bank), NotAuthorisedError);
      expect(error.status).to.equal(403);
      expect(error.code).to.equal("not-authorised");
    });

    it("signs a holder in with its controller key, and refuses it for another subject", async () => {
      const [a, b] = traffic.holders;
      const session = await new SupervisionClient(indexer.url).signIn(a.controller, { subjectId: a.subjectId });
      expect(session).to.include({ role: "holder", subjectId: a.subjectId, address: a.controller.address });
      await refusal(
        new SupervisionClient(indexer.url).signIn(a.controller, { subjectId: b.subjectId }),
        NotAuthorisedError,
      );
    });

    it("refuses a forged signature, an expired message, a replay, a foreign nonce, domain and chain (401)", async () => {
      const api = new SupervisionClient(indexer.url);
      const signer = traffic.wallets.regulator;
      const message = async (change: Record<string, unknown> = {}) => {
        const nonce = await api.nonce();
        return createSiweMessage({
          address: signer.address as `0x${string}`,
          chainId: nonce.chainId,
          domain: nonce.domain,
          uri: nonce.uri,
          nonce: nonce.nonce,
          version: "1",
          issuedAt: new Date(),
          expirationTime: new Date(Date.now() + 120_000),
          ...change,
        });
      };
      // Forged: the regulator's message signed by another key.
      const forged = await message();
      const error = await refusal(
        api.verify(forged, await Wallet.createRandom().signMessage(forged)),
        SignInBadSignatureError,
      );
      expect(error.status).to.equal(401);
      // Expired.
      const old = await message({
        issuedAt: new Date(Date.now() - 600_000),
        expirationTime: new Date(Date.now() - 60_000),
      });
      await refusal(api.verify(old, await signer.signMessage(old)), SignInExpiredError);
      // Replayed: the first use succeeds, the second is refused.
      const once = await message();
      const signature = await signer.signMessage(once);
      expect((await api.verify(once, signature)).role).to.equal("regulator");
      await refusal(api.verify(once, signature), SignInReplayedError);
      // A nonce this API did not issue.
      const foreign = await message({ nonce: "a".repeat(66) });
      await refusal(api.verify(foreign, await signer.signMessage(foreign)), SignInBadNonceError);
      const wrongDomain = await message({ domain: "evil.example" });
      await refusal(api.verify(wrongDomain, await signer.signMessage(wrongDomain)), SignInWrongDomainError);
      const wrongChain = await message({ chainId: 1 });
      await refusal(api.verify(wrongChain, await signer.signMessage(wrongChain)), SignInWrongChainError);
    });

    it("needs a valid token on every route but status (401), and scopes holders (403)", async () => {
      const anonymous = new SupervisionClient(indexer.url);
      expect((await refusal(anonymous.reads(), TokenMissingError)).status).to.equal(401);
      const tampered = new SupervisionClient(indexer.url, { token: `${regulator.token!.slice(0, -4)}AAAA` });
      await refusal(tampered.reads(), TokenInvalidError);
      const [a, b] = traffic.holders;
      const holder = new SupervisionClient(indexer.url);
      await holder.signIn(a.controller, { subjectId: a.subjectId });
      expect((await holder.trail(a.subjectId)).items.length).to.be.greaterThan(0);
      expect((await refusal(holder.trail(b.subjectId), NotYourSubjectError)).status).to.equal(403);
      await refusal(holder.grants({ subjectId: b.subjectId }), NotYourSubjectError);
      await refusal(holder.grants(), NotYourSubjectError);
      expect((await holder.grants({ subjectId: a.subjectId })).items.length).to.equal(3);
      await refusal(holder.reads(), RegulatorOnlyError);
      await refusal(holder.stats({ by: "consumer" }), RegulatorOnlyError);
      await refusal(holder.export({ dataset: "reads" }), RegulatorOnlyError);
    });
  });

  describe("queries equal the chain", () => {
    it("a holder's trail is the SDK's usage record from events, page by page", async () => {
      for (const { subjectId } of traffic.holders) {
        const chainTrail = await traffic.safe.events.usageOf(subjectId);
        const pages: ReadItem[] = [];
        for await (const item of regulator.all((cursor) => regulator.trail(subjectId, { limit: 1, cursor }))) {
          pages.push(item);
        }
        expect(pages.length).to.equal(chainTrail.length);
        expect(pages.map((r) => ({ ...r }))).to.deep.equal(
          chainTrail.map((u) => ({
            accessId: u.accessId,
            grantId: u.grantId,
            grantVersion: u.grantVersion,
            subjectId,
            consumer: u.consumer,
            consumerName: u.consumerName,
            assetId: u.assetId,
            dataType: u.dataType,
            dataTypeName: u.dataTypeName,
            issuer: u.issuer,
            purpose: u.purpose,
            fields: u.fields.toString(),
            readNumber: u.readNumber,
            maxReads: u.maxReads,
            blockNumber: u.blockNumber,
            timestamp: u.readAt,
            txHash: u.transactionHash,
            outcome: u.outcome ?? null,
            outcomeAt: pages.find((p) => p.accessId === u.accessId)!.outcomeAt,
          })),
        );
        // Descending order is the same list reversed.
        const newestFirst = await regulator.trail(subjectId, { order: "desc" });
        expect(newestFirst.items.map((r) => r.accessId)).to.deep.equal(pages.map((r) => r.accessId).reverse());
      }
    });

    it("a consumer's reads are the chain's, and filters narrow them", async () => {
      const bank = traffic.wallets.bank.address;
      const chainReads = await traffic.safe.events.accessTrail({ consumer: bank });
      const { items } = await regulator.reads({ consumer: bank });
      expect(items.map((r) => r.accessId)).to.deep.equal(chainReads.map((r) => r.accessId));
      expect(items.every((r) => r.consumer === bank && r.consumerName === "City Commercial Bank")).to.equal(true);
      const fund = await regulator.reads({ dataType: FUND.id });
      expect(fund.items.map((r) => r.accessId)).to.deep.equal(
        (await traffic.safe.events.accessTrail({})).filter((r) => r.dataType === FUND.id).map((r) => r.accessId),
      );
    });

    it("grants carry the chain's terms and status (open, revoked, expired, exhausted)", async () => {
      const chainGrants = (
        await Promise.all(traffic.holders.map(({ subjectId }) => traffic.safe.events.grantsOf(subjectId)))
      ).flat();
      const { items } = await regulator.grants();
      expect(items.length).to.equal(chainGrants.length);
      const statusName = { Active: "open", Revoked: "revoked", Expired: "expired", Exhausted: "exhausted" } as const;
      for (const grant of chainGrants) {
        const item = items.find((g) => g.grantId === grant.grantId)!;
        expect(item, grant.grantId).to.not.equal(undefined);
        expect(item).to.include({
          subjectId: grant.key.subjectId,
          consumer: grant.key.consumer,
          target: grant.key.target,
          purpose: grant.key.purpose,
          fields: grant.fields.toString(),
          maxReads: grant.maxReads,
          reads: grant.reads,
          expiresAt: grant.expiresAt,
          version: grant.version,
          status: statusName[grant.status as keyof typeof statusName],
        });
      }
      expect(new Set(items.map((g) => g.status))).to.deep.equal(new Set(["open", "revoked", "expired", "exhausted"]));
      for (const status of ["open", "revoked", "expired", "exhausted"] as const) {
        const filtered = await regulator.grants({ status });
        expect(filtered.items.map((g) => g.grantId).sort()).to.deep.equal(
          items
            .filter((g) => g.status === status)
            .map((g) => g.grantId)
            .sort(),
        );
      }
    });

    it("requests carry their fate", async () => {
      const chainRequests = (
        await Promise.all(traffic.holders.map(({ subjectId }) => traffic.safe.events.requestsOf(subjectId)))
      ).flat();
      const { items } = await regulator.requests();
      const fate = {
        Open: "pending",
        Approved: "approved",
        Rejected: "rejected",
        Cancelled: "cancelled",
        Expired: "expired",
      } as const;
      expect(items.map((r) => [r.requestId, r.status]).sort()).to.deep.equal(
        chainRequests.map((r) => [r.requestId, fate[r.status as keyof typeof fate]]).sort(),
      );
      expect((await regulator.requests({ status: "rejected" })).items).to.have.length(1);
    });

    it("governance lists the suspension and reinstatement as the chain logged them", async () => {
      const { items } = await regulator.governance();
      const dataSafe = traffic.safe.address;
      const logs = await chain.provider.getLogs({ address: dataSafe, fromBlock: 0, toBlock: "latest" });
      for (const kind of ["member-suspended", "member-reinstated"]) {
        const act = items.find((g) => g.kind === kind);
        expect(act, kind).to.not.equal(undefined);
        expect(act!.actor).to.equal(traffic.wallets.regulator.address);
        expect(logs.some((l) => l.transactionHash === act!.txHash && l.blockNumber === act!.blockNumber)).to.equal(
          true,
        );
      }
      expect(items.filter((g) => g.kind === "member-registered")).to.have.length(6);
    });

    it("statistics sum the chain's reads and outcomes by every dimension", async () => {
      const all = await traffic.safe.events.accessTrail({});
      const expected = (key: (r: (typeof all)[number]) => string) => {
        const rows = new Map<string, { reads: number; outcomes: number; approved: number }>();
        for (const read of all) {
          const row = rows.get(key(read)) ?? { reads: 0, outcomes: 0, approved: 0 };
          row.reads++;
          if (read.outcome !== undefined) row.outcomes++;
          if (read.outcome === 1) row.approved++;
          rows.set(key(read), row);
        }
        return rows;
      };
      for (const [by, key] of [
        ["consumer", (r: (typeof all)[number]) => r.consumer],
        ["dataType", (r: (typeof all)[number]) => String(r.dataType)],
        ["purpose", (r: (typeof all)[number]) => String(r.purpose)],
        ["department", (r: (typeof all)[number]) => r.issuer],
      ] as const) {
        const stats = await regulator.stats({ by });
        const want = expected(key);
        expect(stats.rows.length, by).to.equal(want.size);
        for (const row of stats.rows) {
          const w = want.get(row.key)!;
          expect(
            { reads: row.reads, outcomes: row.outcomes, approved: row.approved },
            `${by} ${row.key}`,
          ).to.deep.equal(w);
          // Not chai's closeTo: Hardhat's chai matchers turn its numbers into bigints (0.375 fails).
          expect(Math.abs(row.outcomeRatio - w.approved / w.reads)).to.be.below(1e-4);
        }
        expect(stats.totals.reads).to.equal(all.length);
      }
      const byConsumer = await regulator.stats({ by: "consumer" });
      expect(byConsumer.rows.find((r) => r.key === traffic.wallets.bank.address)!.label).to.equal(
        "City Commercial Bank",
      );
      const byType = await regulator.stats({ by: "dataType" });
      expect(byType.rows.map((r) => r.label).sort()).to.deep.equal([FUND.name, HOUSEHOLD.name].sort());
      const byDay = await regulator.stats({ by: "day" });
      expect(byDay.totals).to.deep.equal(byConsumer.totals);
    });

    it("alerts and their rules are listed", async () => {
      const rules = (await regulator.alertRules()) as unknown as { rules: { id: string }[] };
      expect(rules.rules.length).to.be.greaterThan(0);
      const { items } = await regulator.alerts();
      for (const alert of items) {
        expect(rules.rules.map((r) => r.id)).to.include(alert.rule);
        for (const event of alert.events) expect(await chain.provider.getTransaction(event.txHash)).to.not.equal(null);
      }
    });

    it("search resolves holders, consumers, assets, grants and reads", async () => {
      const [a] = traffic.holders;
      const [read] = (await regulator.trail(a.subjectId)).items;
      expect(await regulator.search(a.subjectId)).to.include({ kind: "holder", id: a.subjectId });
      expect(await regulator.search(traffic.wallets.bank.address.toLowerCase())).to.include({
        kind: "consumer",
        id: traffic.wallets.bank.address,
        name: "City Commercial Bank",
      });
      expect((await regulator.search(read.assetId)).kind).to.equal("asset");
      expect((await regulator.search(read.grantId)).kind).to.equal("grant");
      const found = await regulator.search(read.accessId);
      expect(found).to.deep.equal({ kind: "read", id: read.accessId, read });
      await refusal(regulator.search("0x" + "ab".repeat(32)), NoMatchError);
    });
  });

  describe("latency", () => {
    it("answers trail and statistics queries (timings printed, not asserted)", async () => {
      const time = async (call: () => Promise<unknown>) => {
        const samples: number[] = [];
        for (let i = 0; i < 100; i++) {
          const started = performance.now();
          await call();
          samples.push(performance.now() - started);
        }
        samples.sort((x, y) => x - y);
        return { p50: samples[49].toFixed(1), p99: samples[98].toFixed(1) };
      };
      const subjectId = traffic.holders[0].subjectId;
      const trail = await time(() => regulator.trail(subjectId));
      const stats = await time(() => regulator.stats({ by: "consumer" }));
      console.log(`      trail p50 ${trail.p50} ms p99 ${trail.p99} ms; stats p50 ${stats.p50} ms p99 ${stats.p99} ms`);
    });
  });

  describe("parameters", () => {
    it("names the malformed parameter (400 invalid-parameter)", async () => {
      const limit = await refusal(regulator.reads({ limit: 0 }), InvalidParameterError);
      expect(limit.status).to.equal(400);
      expect(limit.parameter).to.equal("limit");
      expect((await refusal(regulator.reads({ consumer: "0x1234" }), InvalidParameterError)).parameter).to.equal(
        "consumer",
      );
      expect((await refusal(regulator.reads({ consumerr: "x" } as never), InvalidParameterError)).parameter).to.equal(
        "consumerr",
      );
      expect((await refusal(regulator.stats({ by: "colour" as never }), InvalidParameterError)).parameter).to.equal(
        "by",
      );
      expect((await refusal(regulator.search("bank"), InvalidParameterError)).parameter).to.equal("q");
      await refusal(regulator.reads({ cursor: "not-a-cursor" }), InvalidCursorError);
    });
  });

  describe("export", () => {
    it("carries the block range and a digest of its canonical rows, equal in CSV and JSON and when made again", async () => {
      const range = { fromBlock: traffic.firstBlock, toBlock: traffic.lastBlock };
      for (const dataset of ["reads", "grants", "requests", "governance", "alerts"] as const) {
        const json = await regulator.export({ dataset, ...range });
        expect(json).to.include({ chainId: 1337, dataset, ...range });
        expect(json.columns).to.deep.equal(EXPORT_COLUMNS[dataset]);
        expect(exportDigest(json, json.rows)).to.equal(json.digest);
        const csv = await regulator.exportCsv({ dataset, ...range });
        expect(csv).to.include({ digest: json.digest, ...range });
        expect(parseExportCsv(dataset, csv.csv)).to.deep.equal(json.rows);
        expect((await regulator.export({ dataset, ...range })).digest).to.equal(json.digest);
      }
    });

    it("rows are the chain's, as of the range's last block", async () => {
      const exporter = new ChainExporter({
        provider: chain.provider,
        dataSafe: traffic.safe.address,
        startBlock: traffic.firstBlock,
      });
      for (const dataset of ["reads", "grants", "requests"] as const) {
        for (const toBlock of [traffic.lastBlock, traffic.firstBlock + 30]) {
          const document = await regulator.export({ dataset, fromBlock: traffic.firstBlock, toBlock });
          const truth = await exporter.rows(dataset, traffic.firstBlock, toBlock);
          expect(diffExport(dataset, document.rows, truth), `${dataset} to ${toBlock}`).to.deep.equal([]);
        }
      }
      const reads = await regulator.export({
        dataset: "reads",
        fromBlock: traffic.firstBlock,
        toBlock: traffic.lastBlock,
      });
      expect(reads.rows).to.have.length(5);
      expect(reads.rows.filter((r) => r.outcome !== "")).to.have.length(2);
      expect(reads.rows.every((r) => getAddress(r.consumer) === r.consumer)).to.equal(true);
    });

    it("refuses a range past the indexed block (409) and a reversed one (400)", async () => {
      const error = await refusal(
        regulator.export({ dataset: "reads", fromBlock: 0, toBlock: traffic.lastBlock + 1_000 }),
        RangeNotIndexedError,
      );
      expect(error.status).to.equal(409);
      expect(
        (await refusal(regulator.export({ dataset: "reads", fromBlock: 10, toBlock: 5 }), InvalidParameterError))
          .parameter,
      ).to.equal("fromBlock");
    });
  });
});
