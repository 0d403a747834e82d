/**
 * Benchmark of supervision at city scale, side by side on one chain: the load generator fills the
 * embedded network with a city's traffic (scripts/lib/load.ts; default 1,000,000 events), then
 *
 * - the peer: the SDK answering a holder's trail from the node (`events.usageOf`, paged
 *   `eth_getLogs` from the deployment block), per holder, and a scan of every event of the suite;
 * - the indexer (the supervision process, `npm run indexer`) indexing the chain from its deployment
 *   block, on embedded PGlite and on PostgreSQL (a throwaway cluster from Debian's binaries, started
 *   with test/helpers/postgres.ts, which the gateway benchmark uses as well): events indexed per
 *   second, within a time budget per database;
 * - the API on what was indexed: a holder's trail, a consumer's reads and the statistics by
 *   consumer, a few hundred requests each for random holders, consumers and months, p50 and p99.
 *
 * The chain is served to the indexer over loopback JSON-RPC by the same bridge the demo uses
 * (scripts/lib/demo-gateway.ts `serveJsonRpc`), from this process.
 *
 *   npx tsx bench/supervision.ts                   # prints a table, saves bench/results/supervision.json
 *   BENCH_SUPERVISION_EVENTS=20000 BENCH_SUPERVISION_INDEX_BUDGET_S=300 npx tsx bench/supervision.ts
 *
 * Knobs (environment): BENCH_SUPERVISION_EVENTS (1000000), BENCH_SUPERVISION_SEED ("bench"),
 * BENCH_SUPERVISION_DATABASES ("pglite,postgres"), BENCH_SUPERVISION_INDEX_BUDGET_S (1200, per
 * database), BENCH_SUPERVISION_REQUESTS (300 per route), BENCH_SUPERVISION_PEER_HOLDERS (20),
 * BENCH_SUPERVISION_OUT (bench/results/supervision.json).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";

import { JsonRpcProvider, Network } from "ethers";

import { DataSafeClient } from "../sdk/index.js";
import { type Status, SupervisionClient } from "../sdk/supervision.js";
import { serveJsonRpc } from "../scripts/lib/demo-gateway.js";
import { Random, generateLoad } from "../scripts/lib/load.js";
import { startLoadChain } from "../scripts/lib/load-chain.js";
import { formatElapsed } from "../scripts/lib/progress.js";
import { startSupervisionProcess } from "../scripts/lib/supervision-process.js";
import { type PostgresCluster, startPostgres } from "../test/helpers/postgres.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const env = (name: string, fallback: string) => process.env[name]?.trim() || fallback;
const TARGET = Number(env("BENCH_SUPERVISION_EVENTS", "1000000"));
const SEED = env("BENCH_SUPERVISION_SEED", "bench");
const DATABASES = env("BENCH_SUPERVISION_DATABASES", "pglite,postgres")
  .split(",")
  .map((d) => d.trim())
  .filter((d): d is "pglite" | "postgres" => d === "pglite" || d === "postgres");
const BUDGET_S = Number(env("BENCH_SUPERVISION_INDEX_BUDGET_S", "1200"));
const REQUESTS = Number(env("BENCH_SUPERVISION_REQUESTS", "300"));
const PEER_HOLDERS = Number(env("BENCH_SUPERVISION_PEER_HOLDERS", "20"));
const OUT = path.resolve(ROOT, env("BENCH_SUPERVISION_OUT", "bench/results/supervision.json"));

const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString("en");
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** p50 and p99 (nearest rank) of a sample, in milliseconds. */
function percentiles(samples: number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return {
    n: sorted.length,
    p50: round(at(0.5), 2),
    p99: round(at(0.99), 2),
    max: round(sorted.at(-1) ?? Number.NaN, 2),
  };
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

// --- fill -------------------------------------------------------------------------------------------

log(`filling a chain with about ${fmt(TARGET)} events (seed "${SEED}")`);
const chain = await startLoadChain();
const rpc = await serveJsonRpc(chain.provider);
/** Events on the chain up to each block the generator mined, to turn an indexed block into events. */
const eventsUpTo: { block: number; events: number }[] = [];
let lastLog = Date.now();
const load = await generateLoad(chain, {
  seed: SEED,
  targetEvents: TARGET,
  onProgress: (p) => {
    eventsUpTo.push({ block: p.block, events: p.events });
    if (Date.now() - lastLog > 30_000) {
      lastLog = Date.now();
      log(`  day ${p.day + 1} of ${p.days}: ${fmt(p.events)} events, ${fmt(p.transactions)} transactions`);
    }
  },
});
const fillSeconds = load.elapsedMs / 1000;
log(
  `filled ${fmt(load.events)} events in ${fmt(load.transactions)} transactions, ${fmt(load.blocks)} blocks, ` +
    `in ${formatElapsed(load.elapsedMs)} (${fmt(load.events / fillSeconds)} events/s)`,
);
const head = Number(BigInt((await chain.provider.request({ method: "eth_blockNumber" })) as string));
const eventsAt = (block: number): number => {
  let found = 0;
  for (const e of eventsUpTo) if (e.block <= block) found = e.events;
  return found;
};

// --- the peer: the SDK reading the node -----------------------------------------------------------------

const random = new Random(`${SEED}:bench`);
const pick = <T>(list: T[]): T => list[random.int(0, list.length - 1)];
const provider = new JsonRpcProvider(rpc.url, Network.from(Number(chain.chainId)), { staticNetwork: true });
const sdk = new DataSafeClient({ address: chain.suite.dataSafe, catalogAddress: chain.suite.catalog }, provider, {
  fromBlock: chain.startBlock,
});
const peerTimes: number[] = [];
let peerRecords = 0;
for (let i = 0; i < PEER_HOLDERS; i++) {
  const { ms, value } = await timed(() => sdk.events.usageOf(pick(load.applicants)));
  peerTimes.push(ms);
  peerRecords += value.length;
}
const peer = percentiles(peerTimes);
log(
  `SDK usageOf (getLogs from block ${chain.startBlock}): p50 ${peer.p50} ms, p99 ${peer.p99} ms over ${PEER_HOLDERS} holders`,
);
// Every event of the suite, page by page, as an indexer without an index would read them.
const scan = await timed(async () => {
  let logs = 0;
  for (let from = chain.startBlock; from <= head; from += 1_000) {
    const page = (await chain.provider.request({
      method: "eth_getLogs",
      params: [
        {
          fromBlock: `0x${from.toString(16)}`,
          toBlock: `0x${Math.min(head, from + 999).toString(16)}`,
          address: [chain.suite.dataSafe, chain.suite.catalog, chain.suite.keyDirectory, chain.suite.accessManager],
        },
      ],
    })) as unknown[];
    logs += page.length;
  }
  return logs;
});
log(
  `getLogs scan of every event: ${fmt(scan.value)} logs in ${formatElapsed(scan.ms)} (${fmt(scan.value / (scan.ms / 1000))} events/s)`,
);

// --- the indexer and the API, per database ----------------------------------------------------------

interface DatabaseResult {
  database: "pglite" | "postgres";
  complete: boolean;
  indexedBlock: number;
  headBlock: number;
  eventsIndexed: number;
  /** From the process's start (Ponder's start-up included) to the last status read. */
  seconds: number;
  eventsPerSecond: number;
  budgetSeconds: number;
  latencyMs?: Record<string, ReturnType<typeof percentiles>>;
  error?: string;
}

const signer = {
  getAddress: async () => chain.roles.regulator,
  signMessage: async (message: string) =>
    (await chain.provider.request({
      method: "personal_sign",
      params: [`0x${Buffer.from(message, "utf8").toString("hex")}`, chain.roles.regulator],
    })) as string,
};

async function benchDatabase(database: "pglite" | "postgres"): Promise<DatabaseResult> {
  const dir = mkdtempSync(path.join(tmpdir(), `datasafe-bench-supervision-${database}-`));
  let cluster: PostgresCluster | undefined;
  try {
    cluster = database === "postgres" ? await startPostgres() : undefined;
    const databaseUrl = cluster === undefined ? undefined : await cluster.createDatabase("supervision");
    const started = Date.now();
    const supervision = await startSupervisionProcess({
      rpcUrl: rpc.url,
      chainId: chain.chainId,
      addresses: {
        dataSafe: chain.suite.dataSafe,
        dataCatalog: chain.suite.catalog,
        keyDirectory: chain.suite.keyDirectory,
        accessManager: chain.suite.accessManager,
        startBlock: chain.startBlock,
      },
      databaseUrl,
      schema: "bench",
      dir,
    });
    try {
      let last: Status | undefined;
      let lastAt = started;
      let complete = true;
      let lastLine = 0;
      try {
        last = await supervision.waitForBlock(head, {
          timeoutMs: BUDGET_S * 1000,
          onStatus: (s) => {
            last = s;
            lastAt = Date.now();
            if (Date.now() - lastLine > 30_000) {
              lastLine = Date.now();
              log(
                `  ${database}: block ${fmt(s.indexedBlock)} of ${fmt(head)}, ${fmt(eventsAt(s.indexedBlock))} events`,
              );
            }
          },
        });
        lastAt = Date.now();
      } catch (error) {
        if (!(error as Error).message.includes("did not index")) throw error;
        complete = false;
        last = (await supervision.status()) ?? last;
        lastAt = Date.now();
      }
      const indexedBlock = last?.indexedBlock ?? 0;
      const eventsIndexed = eventsAt(indexedBlock);
      const seconds = (lastAt - started) / 1000;
      const result: DatabaseResult = {
        database,
        complete,
        indexedBlock,
        headBlock: head,
        eventsIndexed,
        seconds: round(seconds),
        eventsPerSecond: round(eventsIndexed / seconds),
        budgetSeconds: BUDGET_S,
      };
      log(
        `${database}: ${complete ? "indexed" : `budget spent, indexed`} ${fmt(eventsIndexed)} events ` +
          `(block ${fmt(indexedBlock)} of ${fmt(head)}) in ${formatElapsed(seconds * 1000)}: ${fmt(result.eventsPerSecond)} events/s`,
      );
      result.latencyMs = await latency(supervision.url);
      return result;
    } finally {
      await supervision.stop();
    }
  } catch (error) {
    log(`${database}: ${(error as Error).message}`);
    return {
      database,
      complete: false,
      indexedBlock: 0,
      headBlock: head,
      eventsIndexed: 0,
      seconds: 0,
      eventsPerSecond: 0,
      budgetSeconds: BUDGET_S,
      error: (error as Error).message.slice(0, 2_000),
    };
  } finally {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** p50/p99 of the trail, a consumer's reads and the statistics by consumer, on what is indexed. */
async function latency(url: string): Promise<Record<string, ReturnType<typeof percentiles>>> {
  const api = new SupervisionClient(url);
  await api.signIn(signer);
  // Holders and consumers the index holds: from the newest reads it has.
  const seen = await api.reads({ limit: 500, order: "desc" });
  const holders = [...new Set(seen.items.map((r) => r.subjectId))];
  const consumers = [...new Set(seen.items.map((r) => r.consumer))];
  const sample = holders.length > 0 ? holders : load.applicants;
  const months = Array.from({ length: 5 }, (_, m) => ({
    fromTime: Date.UTC(2021, m, 1) / 1000,
    toTime: Date.UTC(2021, m + 1, 1) / 1000,
  }));
  const routes: Record<string, () => Promise<unknown>> = {
    holderTrail: () => api.trail(pick(sample), { limit: 100 }),
    consumerReads: () => api.reads({ consumer: pick(consumers.length > 0 ? consumers : load.consumers), limit: 100 }),
    statsByConsumer: () => api.stats({ by: "consumer", ...pick(months) }),
  };
  const out: Record<string, ReturnType<typeof percentiles>> = {};
  for (const [name, call] of Object.entries(routes)) {
    await call(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) times.push((await timed(call)).ms);
    out[name] = percentiles(times);
    log(`  ${name}: p50 ${out[name].p50} ms, p99 ${out[name].p99} ms (${REQUESTS} requests)`);
  }
  return out;
}

const databases: DatabaseResult[] = [];
try {
  for (const database of DATABASES) databases.push(await benchDatabase(database));
} finally {
  provider.destroy();
  await rpc.close();
  await chain.close();
}

// --- report -------------------------------------------------------------------------------------------

const dashboardFile = path.join(ROOT, "bench", "results", "dashboard.json");
const dashboard = existsSync(dashboardFile) ? (JSON.parse(readFileSync(dashboardFile, "utf8")) as unknown) : null;
const result = {
  date: new Date().toISOString(),
  machine: { cpus: availableParallelism(), loadAverage1m: round(loadavg()[0], 2) },
  seed: SEED,
  fill: {
    targetEvents: TARGET,
    events: load.events,
    transactions: load.transactions,
    blocks: load.blocks,
    holders: load.holders,
    seconds: round(fillSeconds),
    eventsPerSecond: round(load.events / fillSeconds),
    counts: load.counts,
  },
  peer: {
    holderTrailUsageOfMs: peer,
    recordsPerHolder: round(peerRecords / PEER_HOLDERS, 2),
    getLogsScan: {
      events: scan.value,
      seconds: round(scan.ms / 1000, 2),
      eventsPerSecond: round(scan.value / (scan.ms / 1000)),
    },
  },
  indexer: databases,
  goal: "p99 < 50 ms for the holder trail and the consumer statistics, on PGlite and on PostgreSQL",
  dashboardFirstRender: dashboard,
};
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);

const rows: string[][] = [
  ["", "events", "events/s", "holder trail p50/p99 ms", "consumer reads p50/p99", "stats by consumer p50/p99"],
];
rows.push(["fill (load generator)", fmt(load.events), fmt(load.events / fillSeconds), "", "", ""]);
rows.push([
  "SDK getLogs (peer)",
  fmt(scan.value),
  `${fmt(scan.value / (scan.ms / 1000))} (scan)`,
  `${peer.p50} / ${peer.p99}`,
  "",
  "",
]);
for (const d of databases) {
  const l = d.latencyMs;
  rows.push([
    `indexer on ${d.database}${d.complete ? "" : " (partial)"}`,
    fmt(d.eventsIndexed),
    fmt(d.eventsPerSecond),
    l ? `${l.holderTrail.p50} / ${l.holderTrail.p99}` : "-",
    l ? `${l.consumerReads.p50} / ${l.consumerReads.p99}` : "-",
    l ? `${l.statsByConsumer.p50} / ${l.statsByConsumer.p99}` : "-",
  ]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log("\nSupervision benchmark (bench/supervision.ts)");
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join("  "));
console.log(`\nSaved ${path.relative(ROOT, OUT)}`);
