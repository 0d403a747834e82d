/*
 * Indexing speed: fills a fresh `hardhat node` with N AssetIssued events (bulk issuance, 200 per
 * transaction) plus the scripted story of test/indexer/traffic.ts, then starts the indexer from
 * scratch and reports events/s over Ponder's backfill (from its "Started backfill indexing" to its
 * "Completed backfill indexing" log line, so start-up is excluded and printed apart).
 *
 *   npx tsx indexer/scripts/speed.ts [events=20000] [--postgres]
 *
 * The load helper's benchmark runs the 1M-event figure; this is the quick one.
 */
import path from "node:path";

import { startChain, workDirectory } from "../../test/helpers/gateway-harness.js";
import { startPostgres } from "../../test/helpers/postgres.js";
import { ProcessSet, waitFor } from "../../test/helpers/processes.js";
import { IndexerProcess } from "../../test/indexer/harness.js";
import { bulkAssets, newHolder, setUpNetwork, story } from "../../test/indexer/traffic.js";

const events = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 20_000);
const postgres = process.argv.includes("--postgres");
const work = workDirectory("indexer-speed");
const processes = new ProcessSet("indexer-speed");
const chain = await startChain(work.dir);
const cluster = postgres ? await startPostgres() : undefined;
try {
  const network = await setUpNetwork(chain);
  const holders = [];
  for (let i = 0; i < 4; i++) holders.push(await newHolder(network, `speed${i}`));
  const perBatch = 200;
  const made = Date.now();
  await bulkAssets(network, holders, Math.ceil(events / perBatch), perBatch);
  await story(network);
  const madeMs = Date.now() - made;
  let total = 0;
  for (const future of [
    "DataSafe#DataSafe",
    "DataCatalog#DataCatalog",
    "KeyDirectory#KeyDirectory",
    "Governance#DataSafeAccessManager",
  ]) {
    total += (await chain.provider.getLogs({ address: chain.addresses[future], fromBlock: 0, toBlock: "latest" }))
      .length;
  }
  const head = await chain.provider.getBlockNumber();
  const indexer = await IndexerProcess.start(processes, {
    name: "speed",
    rpcUrl: chain.url,
    deploymentDir: chain.deploymentDir,
    database: cluster
      ? { kind: "postgres", url: await cluster.createDatabase("speed") }
      : { kind: "pglite", dir: path.join(work.dir, "pglite") },
    schema: "speed",
  });
  const startedMs = await indexer.waitIndexed(head, 900_000);
  const lines = indexer
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { msg: string; time: number });
  const time = (msg: string) => lines.find((line) => line.msg.startsWith(msg))?.time;
  await waitFor("backfill log", async () => time("Completed backfill indexing"), 10_000);
  const backfillMs = time("Completed backfill indexing")! - time("Started backfill indexing")!;
  console.log(
    JSON.stringify(
      {
        database: postgres ? "postgres" : "pglite",
        events: total,
        blocks: head,
        trafficSeconds: Math.round(madeMs / 1000),
        backfillSeconds: backfillMs / 1000,
        eventsPerSecond: Math.round(total / (backfillMs / 1000)),
        startToIndexedSeconds: startedMs / 1000,
      },
      null,
      2,
    ),
  );
  await indexer.stop();
} finally {
  await processes.stopAll();
  await chain.stop();
  await cluster?.stop();
  work.remove();
}
