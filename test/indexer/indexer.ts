/*
 * The indexer end to end: a `hardhat node` process with the suite deployed by Ignition, traffic made
 * with the SDK (test/indexer/traffic.ts), and the indexer started by its documented command
 * (`npm run indexer`) twice side by side: on embedded PGlite through a JSON-RPC proxy that refuses
 * eth_getLogs over 50 blocks (Besu's --rpc-max-logs-range, smaller than the history so it bites),
 * and on PostgreSQL directly. Both are killed with SIGKILL in the middle of the backfill and
 * restarted; both follow the chain live, through a reorganisation; then their tables are compared
 * with what the chain says, and with each other.
 *
 * PostgreSQL is read with pg while the indexer runs; the PGlite directory is read with
 * @electric-sql/pglite after the indexer stops (one process at a time may open it).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import type { Interface, Log, Result } from "ethers";

import { CappedRpcProxy } from "../helpers/capped-rpc-proxy.js";
import { type Chain, startChain, workDirectory } from "../helpers/gateway-harness.js";
import { type PostgresCluster, startPostgres } from "../helpers/postgres.js";
import { ProcessSet, waitFor } from "../helpers/processes.js";
import { suiteAddresses } from "../../indexer/settings.js";
import { type IndexerDatabase, IndexerProcess, type TableReader, openTables } from "./harness.js";
import {
  DataCatalog__factory,
  DataSafeAccessManager__factory,
  DataSafe__factory,
  KeyDirectory__factory,
} from "../../typechain-types/index.js";
import {
  HOUSEHOLD,
  type Network,
  Purpose,
  type Story,
  bulkAssets,
  newHolder,
  rpc,
  setUpNetwork,
  story,
} from "./traffic.js";

/** Rules with small limits, so the scripted traffic raises each rule. */
const TEST_RULES = {
  timeZoneOffsetMinutes: 480,
  rules: [
    { id: "busy-hour", kind: "reads-per-hour", severity: "warning", limit: 3 },
    { id: "night-reads", kind: "off-hours", severity: "info", start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] },
    { id: "sweeping-reads", kind: "many-holders", severity: "warning", limit: 2, windowSeconds: 3600 },
    { id: "no-outcome", kind: "missing-outcome", severity: "info", afterDays: 1, checkEverySeconds: 60 },
    { id: "long-grant", kind: "long-grant", severity: "critical", ratio: 2 },
  ],
};

const BULK_BATCHES = 20;
const BULK_PER_BATCH = 100;
/** Besu caps eth_getLogs at 1,000 blocks by default; the test history is ~120 blocks, so a cap of 10 bites. */
const LOGS_CAP = 10;

describe("indexer (Ponder) on PGlite and PostgreSQL", function () {
  this.timeout(600_000);
  const work = workDirectory("indexer");
  const processes = new ProcessSet("indexer");
  const rulesFile = path.join(work.dir, "rules.json");
  const schema = "datasafe_test";
  let chain: Chain;
  let cluster: PostgresCluster;
  /** One proxy per indexer, each refusing eth_getLogs over LOGS_CAP blocks. */
  const proxies: Partial<Record<"pglite" | "postgres", CappedRpcProxy>> = {};
  let storyHead = 0;
  let network: Network;
  let script: Story;
  let bulkCount = 0;
  const databases: Record<"pglite" | "postgres", IndexerDatabase> = {
    pglite: { kind: "pglite", dir: path.join(work.dir, "pglite") },
    postgres: { kind: "postgres", url: "" },
  };
  const indexers: Partial<Record<"pglite" | "postgres", IndexerProcess>> = {};

  before(async function () {
    this.timeout(600_000);
    writeFileSync(rulesFile, JSON.stringify(TEST_RULES));
    [chain, cluster] = await Promise.all([startChain(work.dir), startPostgres()]);
    databases.postgres = { kind: "postgres", url: await cluster.createDatabase("indexer") };
    network = await setUpNetwork(chain);
    const bulkHolders = [];
    for (let i = 0; i < 4; i++) bulkHolders.push(await newHolder(network, `bulk${i}`));
    bulkCount = await bulkAssets(network, bulkHolders, BULK_BATCHES, BULK_PER_BATCH);
    script = await story(network);
    storyHead = await head();
    proxies.pglite = await CappedRpcProxy.start(chain.url, LOGS_CAP);
    proxies.postgres = await CappedRpcProxy.start(chain.url, LOGS_CAP);
  });

  after(async () => {
    await Promise.all(Object.values(indexers).map((indexer) => indexer?.stop("SIGKILL")));
    await processes.stopAll();
    await Promise.all(Object.values(proxies).map((proxy) => proxy?.close()));
    await chain?.stop();
    await cluster?.stop();
    work.remove();
  });

  async function head(): Promise<number> {
    return chain.provider.getBlockNumber();
  }

  /** Every log of the suite's four contracts, decoded, in chain order. */
  async function chainEvents(): Promise<{ name: string; args: Result; log: Log }[]> {
    const sources = [
      [chain.addresses["DataSafe#DataSafe"]!, DataSafe__factory.createInterface()],
      [chain.addresses["DataCatalog#DataCatalog"]!, DataCatalog__factory.createInterface()],
      [chain.addresses["KeyDirectory#KeyDirectory"]!, KeyDirectory__factory.createInterface()],
      [chain.addresses["Governance#DataSafeAccessManager"]!, DataSafeAccessManager__factory.createInterface()],
    ] as const;
    const events = [];
    for (const [address, iface] of sources) {
      const logs = await chain.provider.getLogs({ address, fromBlock: 0, toBlock: "latest" });
      for (const log of logs) {
        const parsed = (iface as Interface).parseLog(log)!;
        events.push({ name: parsed.name, args: parsed.args, log });
      }
    }
    return events.sort((a, b) => a.log.blockNumber - b.log.blockNumber || a.log.index - b.log.index);
  }

  function countOf(events: { name: string }[], ...names: string[]): number {
    return events.filter((event) => names.includes(event.name)).length;
  }

  /** The tables say what the chain says: counts per table and the rows of the scripted story. */
  async function checkTables(db: TableReader): Promise<void> {
    const events = await chainEvents();
    const count = async (sql: string) => (await db.rows<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`))[0]!.n;
    expect(await count("member")).to.equal(countOf(events, "MemberRegistered"));
    expect(await count("data_type")).to.equal(countOf(events, "DataTypeDefined"));
    expect(await count("subject")).to.equal(countOf(events, "SubjectRegistered"));
    expect(await count("asset")).to.equal(countOf(events, "AssetIssued"));
    expect(await count("return_request")).to.equal(countOf(events, "ReturnRequested"));
    expect(await count("access_request")).to.equal(countOf(events, "AccessRequested"));
    expect(await count("grant_version")).to.equal(countOf(events, "GrantIssued"));
    expect(await count("consent_grant")).to.equal(
      new Set(events.filter((e) => e.name === "GrantIssued").map((e) => e.args.grantId)).size,
    );
    expect(await count("access")).to.equal(countOf(events, "AccessRecorded"));
    expect(await count("access WHERE outcome IS NOT NULL")).to.equal(countOf(events, "AccessOutcomeRecorded"));
    const governanceEvents = events.filter(
      (e) =>
        e.log.address === chain.addresses["Governance#DataSafeAccessManager"] ||
        e.log.address === chain.addresses["DataCatalog#DataCatalog"] ||
        [
          "MemberRegistered",
          "MemberUpdated",
          "MemberSuspended",
          "MemberReinstated",
          "RecoveryDelaySet",
          "AuthorityUpdated",
          "MemberKeySet",
        ].includes(e.name),
    );
    expect(await count("governance")).to.equal(governanceEvents.length);
    expect(await count("subject_event")).to.equal(
      countOf(events, "SubjectRegistered", "ControllerChanged", "RecoveryInitiated", "RecoveryCancelled") +
        countOf(events, "NonceInvalidated", "NoncesCancelled", "HolderKeySet"),
    );
    // Statistics: nothing counted twice (a replayed event would be).
    const [totals] = await db.rows<{ reads: number; outcomes: number; approved: number }>(
      "SELECT sum(reads)::int AS reads, sum(outcomes)::int AS outcomes, sum(approved)::int AS approved FROM stat_daily",
    );
    expect(totals).to.deep.equal({
      reads: countOf(events, "AccessRecorded"),
      outcomes: countOf(events, "AccessOutcomeRecorded"),
      approved: events.filter((e) => e.name === "AccessOutcomeRecorded" && Number(e.args.outcome) === 1).length,
    });

    // A read, as the chain recorded it, with its asset's type and issuer and its outcome.
    const first = script.reads[0]!;
    const recorded = events.find((e) => e.name === "AccessRecorded" && e.args.accessId === first.accessId)!;
    const [read] = await db.rows(
      `SELECT grant_id, subject_id, consumer, asset_id, data_type, issuer, purpose, fields::text, read_number,
              max_reads, block_number, tx_hash, outcome FROM access WHERE access_id = $1`,
      [first.accessId],
    );
    expect(read).to.deep.equal({
      grant_id: first.grantId,
      subject_id: script.holders[0]!.subjectId,
      consumer: network.wallets.bank.address.toLowerCase(),
      asset_id: script.assets[0]!.assetId,
      data_type: HOUSEHOLD.id,
      issuer: network.wallets.publicSecurity.address.toLowerCase(),
      purpose: Purpose.Loan,
      fields: "0",
      read_number: 1,
      max_reads: 3,
      block_number: recorded.log.blockNumber,
      tx_hash: recorded.log.transactionHash,
      outcome: 1,
    });
    // Grants: reads used as the chain counts them, statuses, requested vs granted durations.
    for (const grantId of [...script.grants, script.directGrant]) {
      const onChain = await network.safe.consent.getGrant(grantId);
      const [row] = await db.rows<{ reads: number; status: string; version: number }>(
        "SELECT reads, status, version FROM consent_grant WHERE grant_id = $1",
        [grantId],
      );
      expect(row, grantId).to.deep.equal({
        reads: onChain.reads,
        status: onChain.status === "Revoked" ? "revoked" : "active",
        version: onChain.version,
      });
    }
    const [direct] = await db.rows(
      "SELECT request_id, requested_duration, granted_duration FROM consent_grant WHERE grant_id = $1",
      [script.directGrant],
    );
    expect(direct!.request_id).to.equal(null);
    expect(direct!.requested_duration).to.equal(86_400);
    expect(direct!.granted_duration).to.be.within(10 * 86_400 - 5, 10 * 86_400);
    const requests = await db.rows<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM access_request GROUP BY status ORDER BY status",
    );
    expect(requests).to.deep.equal([
      { status: "approved", n: 4 },
      { status: "pending", n: 1 },
      { status: "rejected", n: 1 },
    ]);
    // Assets and return requests.
    const statusOf = async (assetId: string) =>
      (await db.rows<{ status: string }>("SELECT status FROM asset WHERE asset_id = $1", [assetId]))[0]?.status;
    expect(await statusOf(script.revokedAsset)).to.equal("revoked");
    expect(await statusOf(script.supersededAsset)).to.equal("superseded");
    expect(await statusOf(script.supersedingAsset)).to.equal("valid");
    const returns = await db.rows(
      "SELECT request_id, status FROM return_request WHERE request_id IN ($1, $2) ORDER BY status",
      [script.cancelledReturn, script.fulfilledReturn],
    );
    expect(returns).to.deep.equal([
      { request_id: script.cancelledReturn, status: "cancelled" },
      { request_id: script.fulfilledReturn, status: "fulfilled" },
    ]);
    // Members: the suspension, and the member registered by a delayed governance operation.
    const [suspended] = await db.rows("SELECT status, suspended_reason FROM member WHERE account = $1", [
      script.suspended.toLowerCase(),
    ]);
    expect(suspended).to.deep.equal({ status: "suspended", suspended_reason: 2 });
    expect(await count(`member WHERE account = '${script.lateMember.toLowerCase()}'`)).to.equal(1);
    const operations = await db.rows("SELECT op_id, status FROM manager_operation ORDER BY status");
    expect(operations).to.deep.equal([
      { op_id: script.canceledOperation, status: "canceled" },
      { op_id: script.executedOperation, status: "executed" },
    ]);
    const kinds = (await db.rows<{ kind: string }>("SELECT DISTINCT kind FROM governance ORDER BY kind")).map(
      (row) => row.kind,
    );
    expect(kinds).to.include.members([
      "member-registered",
      "member-suspended",
      "data-type-defined",
      "issuer-authorised",
      "member-key-set",
      "role-granted",
      "operation-scheduled",
      "operation-executed",
      "operation-canceled",
    ]);
  }

  /** The alerts the scripted traffic raises under TEST_RULES, with the events that raised them. */
  async function checkAlerts(db: TableReader): Promise<void> {
    const bank = network.wallets.bank.address.toLowerCase();
    const alerts = await db.rows<{
      rule: string;
      severity: string;
      consumer: string | null;
      subject_id: string | null;
      count: number;
      events: { kind: string; id: string; txHash: string }[];
    }>("SELECT rule, severity, consumer, subject_id, count, events FROM alert WHERE block_number <= $1 ORDER BY rule", [
      storyHead,
    ]);
    const byRule = Object.fromEntries(alerts.map((alert) => [alert.rule, alert]));
    expect(Object.keys(byRule).sort()).to.deep.equal(
      ["busy-hour", "long-grant", "night-reads", "no-outcome", "sweeping-reads"].sort(),
    );
    const ids = (rule: string) => byRule[rule]!.events.map((event) => event.id);
    const reads = script.reads;
    // Six bank reads in one hour, limit 3: the fourth raises it, the fifth and sixth add to it.
    expect(byRule["busy-hour"]).to.include({ consumer: bank, severity: "warning", count: 3 });
    expect(ids("busy-hour")).to.deep.equal([reads[3]!.accessId, reads[4]!.accessId, reads[5]!.accessId]);
    // Holders 0-3 for one purpose within the hour, limit 2: holders 2 and 3 raise it.
    expect(byRule["sweeping-reads"]).to.include({ consumer: bank, count: 2 });
    expect(ids("sweeping-reads")).to.deep.equal([reads[2]!.accessId, reads[3]!.accessId]);
    expect(byRule["night-reads"]).to.include({ consumer: bank, count: 1 });
    expect(ids("night-reads")).to.deep.equal([script.offHoursRead.accessId]);
    expect(byRule["long-grant"]).to.include({
      severity: "critical",
      consumer: network.wallets.school.address.toLowerCase(),
      subject_id: script.holders[5]!.subjectId,
    });
    expect(ids("long-grant")).to.deep.equal([script.directGrant]);
    // The bank's Monday reads without an outcome are overdue by Saturday; the school's has one.
    expect(byRule["no-outcome"]).to.include({ consumer: bank, count: 3 });
    expect(ids("no-outcome")).to.deep.equal([reads[3]!.accessId, reads[4]!.accessId, reads[5]!.accessId]);
    const events = await chainEvents();
    for (const alert of alerts) {
      for (const event of alert.events) {
        const source = events.find((e) => e.args.accessId === event.id || e.args.grantId === event.id);
        expect(event.txHash, `${alert.rule} ${event.id}`).to.equal(source?.log.transactionHash);
      }
    }
  }

  /** Every table's rows as the database serialises them, for comparing the two databases. */
  async function dump(db: TableReader): Promise<Record<string, string>> {
    const tables = await db.rows<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = $1 AND table_name NOT LIKE '\_%' ORDER BY table_name`,
      [schema],
    );
    const out: Record<string, string> = {};
    for (const { table_name: table } of tables) {
      const [row] = await db.rows<{ rows: string | null }>(
        `SELECT (SELECT jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text) FROM "${table}" t)::text AS rows`,
      );
      out[table] = row!.rows ?? "[]";
    }
    return out;
  }

  it("indexes from the deployment block; killed with SIGKILL mid-backfill, resumes with nothing lost or doubled", async () => {
    const start = (kind: "pglite" | "postgres") =>
      IndexerProcess.start(processes, {
        name: kind,
        rpcUrl: proxies[kind]!.url,
        deploymentDir: chain.deploymentDir,
        database: databases[kind],
        schema,
        rulesFile,
        logsRange: LOGS_CAP,
      });
    indexers.pglite = await start("pglite");
    indexers.postgres = await start("postgres");
    const target = await head();
    const { startBlock: deploymentBlock } = suiteAddresses({ DATASAFE_DEPLOYMENT_DIR: chain.deploymentDir });

    // Kill each once its backfill has committed part of the history and before it is done (/ready
    // is 503 until then): the cap makes it fetch and commit the history in 10-block steps.
    await Promise.all(
      (["pglite", "postgres"] as const).map(async (kind) => {
        const indexer = indexers[kind]!;
        const indexed = await waitFor(
          `${kind} mid-backfill`,
          async () => {
            const block = await indexer.indexedBlock();
            if (block === undefined || block <= deploymentBlock) return undefined;
            const ready = await fetch(`${indexer.url}/ready`);
            if (ready.status === 200)
              throw new Error(`${kind} finished its backfill before the test saw it mid-way (exited)`);
            return block;
          },
          180_000,
          10,
        );
        await indexer.stop("SIGKILL");
        expect(indexed).to.be.lessThan(target);
        console.log(`      ${kind} killed mid-backfill at indexed block ${indexed} of ${target}`);
        indexer.launch();
      }),
    );
    const times = await Promise.all([indexers.pglite.waitIndexed(target), indexers.postgres.waitIndexed(target)]);
    console.log(`      after restart, indexed to block ${target}: pglite ${times[0]} ms, postgres ${times[1]} ms`);
    // Every log query the proxies forwarded spanned at most the cap.
    for (const proxy of Object.values(proxies)) {
      const forwarded = proxy!.queries.filter((query) => query.outcome === "forwarded");
      expect(forwarded.length).to.be.greaterThan(0);
      for (const query of forwarded) expect(query.toBlock - query.fromBlock + 1).to.be.at.most(LOGS_CAP);
    }
    expect(bulkCount).to.equal(BULK_BATCHES * BULK_PER_BATCH);

    const db = await openTables(databases.postgres, schema);
    try {
      await checkTables(db);
      await checkAlerts(db);
    } finally {
      await db.close();
    }
  });

  it("follows a reorganisation: rows of orphaned blocks disappear, the new blocks' rows appear", async () => {
    const provider = chain.provider;
    const snapshot = await rpc<string>(provider, "evm_snapshot");
    const bank = network.as(network.wallets.bank);
    const orphanRead = await (
      await bank.accessLog.recordAccess({ asset: script.assets[1]!.key, purpose: Purpose.Loan })
    ).wait();
    await (await network.as(network.wallets.regulator).members.reinstate(script.suspended)).wait();
    const orphanHead = await head();
    await Promise.all([indexers.pglite!.waitIndexed(orphanHead), indexers.postgres!.waitIndexed(orphanHead)]);
    const db = await openTables(databases.postgres, schema);
    try {
      const statusOf = async () =>
        (
          await db.rows<{ status: string }>("SELECT status FROM member WHERE account = $1", [
            script.suspended.toLowerCase(),
          ])
        )[0]!.status;
      expect(await db.rows("SELECT access_id FROM access WHERE access_id = $1", [orphanRead.accessId])).to.have.length(
        1,
      );
      expect(await statusOf()).to.equal("active");

      await rpc(provider, "evm_revert", [snapshot]);
      // Different blocks in their place, and more of them.
      const school = network.as(network.wallets.school);
      const newRead = await (
        await school.accessLog.recordAccess({ asset: script.assets[5]!.key, purpose: Purpose.Enrolment })
      ).wait();
      for (let i = 0; i < 3; i++) await rpc(provider, "evm_mine");
      const newHead = await head();
      expect(newHead).to.be.greaterThan(orphanHead);
      await Promise.all([indexers.pglite!.waitIndexed(newHead), indexers.postgres!.waitIndexed(newHead)]);
      await waitFor(
        "the reorganisation in PostgreSQL",
        async () =>
          (await db.rows("SELECT 1 FROM access WHERE access_id = $1", [newRead.accessId])).length === 1
            ? true
            : undefined,
        30_000,
      );
      expect(await db.rows("SELECT 1 FROM access WHERE access_id = $1", [orphanRead.accessId])).to.have.length(0);
      expect(await statusOf()).to.equal("suspended");
      await checkTables(db);
    } finally {
      await db.close();
    }
  });

  it("has the same rows on PGlite as on PostgreSQL", async () => {
    const pgDb = await openTables(databases.postgres, schema);
    let fromPostgres: Record<string, string>;
    try {
      fromPostgres = await dump(pgDb);
    } finally {
      await pgDb.close();
    }
    await indexers.pglite!.stop("SIGTERM");
    const lite = await openTables(databases.pglite, schema);
    try {
      await checkTables(lite);
      await checkAlerts(lite);
      const fromLite = await dump(lite);
      expect(Object.keys(fromLite)).to.have.length(21);
      expect(fromLite).to.deep.equal(fromPostgres);
    } finally {
      await lite.close();
    }
  });

  async function indexedBefore(indexer: IndexerProcess): Promise<number | undefined> {
    return indexer.indexedBlock().catch(() => undefined);
  }
});
