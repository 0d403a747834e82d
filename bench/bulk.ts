/**
 * Benchmark of bulk issuance, side by side in one run against `hardhat node --network besuLike`
 * (chain 1337, zero base fee, Cancun; each transaction automined into its own block) over HTTP,
 * the suite deployed by Ignition:
 *
 * - naive: one `issueAsset` per transaction through the SDK (`assets.issue(...).wait()`), each awaited;
 * - bulk: `readImportFile` + `importAssets` of a CSV file: `issueAssets` batches sized by measured
 *   gas, signed locally, pipelined with a bounded number in flight.
 *
 * Prints a table and saves bench/results/bulk.json: assets/s, gas per asset, transactions, batch
 * size, in flight, and where the bulk run's time went (this process's CPU: encoding, signing,
 * JSON-RPC; the node's CPU: executing and mining).
 *
 *   npx tsx bench/bulk.ts
 *   BULK_BENCH_ASSETS=2000 BULK_BENCH_NAIVE=100 npx tsx bench/bulk.ts    # a short CI run
 *   BULK_BENCH_IN_FLIGHT=4 BULK_BENCH_BATCH=250 npx tsx bench/bulk.ts    # other settings
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { importAssets, readImportFile } from "../sdk/index.js";
import { type BulkChain, csvOf, records, startBulkChain, writeInput } from "../test/helpers/bulk-chain.js";
import { ProcessSet } from "../test/helpers/processes.js";

const RESULTS = fileURLToPath(new URL("./results/bulk.json", import.meta.url));

function envNumber(name: string, fallback: number | undefined): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got ${value}`);
  return n;
}

const ASSETS = envNumber("BULK_BENCH_ASSETS", 20_000)!;
const NAIVE = envNumber("BULK_BENCH_NAIVE", 300)!;
const IN_FLIGHT = envNumber("BULK_BENCH_IN_FLIGHT", 8)!;
const BATCH = envNumber("BULK_BENCH_BATCH", undefined);

interface Row {
  path: "naive" | "bulk";
  assets: number;
  seconds: number;
  assetsPerSecond: number;
  gasPerAsset: number;
  transactions: number;
  batchSize: number;
  inFlight: number;
  /** CPU seconds of this process (encoding, signing, JSON-RPC) during the run. */
  clientCpuSeconds: number;
  /** CPU seconds of the node's processes (execution, mining, state root) during the run; undefined without /proc. */
  nodeCpuSeconds: number | undefined;
  /** Assets per CPU-second of this process and of the node: the rates without the machine's other load. */
  assetsPerClientCpuSecond: number;
  assetsPerNodeCpuSecond: number | undefined;
}

/** CPU seconds used so far by a process tree rooted at `pid` (Linux /proc), or undefined. */
function treeCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const ticks = 100; // USER_HZ on Linux
    const children = new Map<number, number[]>();
    let total = 0;
    const stats = new Map<number, { ppid: number; cpu: number }>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        stats.set(Number(entry), { ppid: Number(fields[1]), cpu: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // the process ended meanwhile
      }
    }
    for (const [child, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), child]);
    const walk = (p: number) => {
      total += stats.get(p)?.cpu ?? 0;
      for (const c of children.get(p) ?? []) walk(c);
    };
    walk(pid);
    return total / ticks;
  } catch {
    return undefined;
  }
}

async function measure<T>(chain: BulkChain, run: () => Promise<T>) {
  const pid = chain.node.process.child.pid;
  const node0 = treeCpuSeconds(pid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const node1 = treeCpuSeconds(pid);
  return {
    value,
    seconds,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    nodeCpuSeconds: node0 === undefined || node1 === undefined ? undefined : node1 - node0,
  };
}

async function main(): Promise<void> {
  const processes = new ProcessSet("bulk-bench");
  const work = mkdtempSync(path.join(tmpdir(), "datasafe-bulk-bench-"));
  let chain: BulkChain | undefined;
  try {
    console.log(`starting hardhat node --network besuLike and deploying the suite...`);
    chain = await startBulkChain(processes, "bench");
    const department = chain.safe.connect(chain.department);

    // Naive: the SDK's one-asset write, awaited each time (nonce, gas and fees asked of the node each time).
    const naiveRecords = records(NAIVE, "naive");
    const naive = await measure(chain, async () => {
      let gas = 0n;
      for (const r of naiveRecords) {
        const pending = await department.assets.issue({
          subjectId: String(r.subjectId),
          dataType: Number(r.dataType),
          contentCommitment: String(r.contentCommitment),
          payloadPointer: String(r.payloadPointer),
        });
        await pending.wait();
        const receipt = await chain!.provider.getTransactionReceipt(pending.hash);
        gas += receipt!.gasUsed;
      }
      return gas;
    });
    const rows: Row[] = [
      {
        path: "naive",
        assets: NAIVE,
        seconds: round(naive.seconds, 3),
        assetsPerSecond: round(NAIVE / naive.seconds, 1),
        gasPerAsset: Math.round(Number(naive.value) / NAIVE),
        transactions: NAIVE,
        batchSize: 1,
        inFlight: 1,
        clientCpuSeconds: round(naive.clientCpuSeconds, 2),
        nodeCpuSeconds: naive.nodeCpuSeconds === undefined ? undefined : round(naive.nodeCpuSeconds, 2),
        ...perCpuSecond(NAIVE, naive),
      },
    ];

    // Bulk: the department's file, checked, then imported.
    const file = writeInput(work, "returns.csv", csvOf(records(ASSETS, "bulk")));
    const t0 = performance.now();
    const importRows = await readImportFile(file, department);
    const readSeconds = (performance.now() - t0) / 1000;
    const bulk = await measure(chain, () =>
      importAssets(department, importRows, {
        journal: path.join(work, "returns.journal"),
        maxInFlight: IN_FLIGHT,
        maxBatchSize: BATCH,
      }),
    );
    const report = bulk.value;
    if (report.issued !== ASSETS) throw new Error(`bulk issued ${report.issued} of ${ASSETS}`);
    rows.push({
      path: "bulk",
      assets: ASSETS,
      seconds: round(bulk.seconds, 3),
      assetsPerSecond: round(ASSETS / bulk.seconds, 1),
      gasPerAsset: Math.round(Number(report.gasUsed) / ASSETS),
      transactions: report.transactions,
      batchSize: report.batchSize,
      inFlight: report.maxInFlight,
      clientCpuSeconds: round(bulk.clientCpuSeconds, 2),
      nodeCpuSeconds: bulk.nodeCpuSeconds === undefined ? undefined : round(bulk.nodeCpuSeconds, 2),
      ...perCpuSecond(ASSETS, bulk),
    });

    // Where the node's time goes: the same areIssued reads the import makes (all rows before it
    // starts, each batch's rows once mined), timed alone; the rest is executing and mining.
    const ids = importRows.map((r) => r.assetId);
    const reads = await measure(chain, async () => {
      for (let i = 0; i < ids.length; i += 2_000) await department.assets.areIssued(ids.slice(i, i + 2_000));
    });

    const speedup = round(rows[1].assetsPerSecond / rows[0].assetsPerSecond, 1);
    console.log("\nbulk issuance, hardhat node --network besuLike over HTTP (automine), one run:");
    console.table(rows);
    console.log(
      `bulk vs naive: ${speedup}x; reading and checking the ${ASSETS}-row CSV (catalog checked once per type): ${round(readSeconds, 2)} s`,
    );
    console.log(`gas model measured: ${JSON.stringify(report.gasModel)}`);
    const readShare =
      reads.nodeCpuSeconds === undefined || bulk.nodeCpuSeconds === undefined
        ? undefined
        : round((2 * reads.nodeCpuSeconds) / bulk.nodeCpuSeconds, 2);
    console.log(
      `node CPU for areIssued of all ${ASSETS} ids: ${reads.nodeCpuSeconds?.toFixed(2)} s (the import reads each id twice: ${readShare === undefined ? "?" : Math.round(readShare * 100)}% of its node CPU); machine load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs`,
    );
    const goal = { assetsPerSecond: 5_000, speedup: 10 };
    const met = rows[1].assetsPerSecond >= goal.assetsPerSecond && speedup >= goal.speedup;
    console.log(`goal >= ${goal.assetsPerSecond} assets/s and >= ${goal.speedup}x naive: ${met ? "met" : "NOT met"}`);

    mkdirSync(path.dirname(RESULTS), { recursive: true });
    writeFileSync(
      RESULTS,
      `${JSON.stringify(
        {
          node: "hardhat node --network besuLike (automine), HTTP",
          cpus: availableParallelism(),
          loadAverage: round(loadavg()[0], 2),
          rows,
          speedup,
          readAndCheckSeconds: round(readSeconds, 3),
          areIssuedNodeCpuSeconds: reads.nodeCpuSeconds === undefined ? undefined : round(reads.nodeCpuSeconds, 2),
          areIssuedShareOfNodeCpu: readShare,
          gasModel: report.gasModel,
          goal: { ...goal, met },
        },
        null,
        2,
      )}\n`,
    );
    console.log(`saved ${path.relative(process.cwd(), RESULTS)}`);
  } finally {
    await chain?.stop();
    await processes.stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

function perCpuSecond(assets: number, run: { clientCpuSeconds: number; nodeCpuSeconds: number | undefined }) {
  return {
    assetsPerClientCpuSecond: Math.round(assets / run.clientCpuSeconds),
    assetsPerNodeCpuSecond: run.nodeCpuSeconds === undefined ? undefined : Math.round(assets / run.nodeCpuSeconds),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

await main();
