/**
 * Benchmark of the payload gateway: consumer fetches per second over HTTP, with p50/p99 latency,
 * 1 KB payloads, against `hardhat node` configured like the Besu network (chain 1337, zero base fee,
 * Cancun; the suite deployed by Ignition over HTTP), once with the embedded database (node:sqlite)
 * and once with a throwaway PostgreSQL server. Every release is a recorded read on chain; the reads
 * are prepared before the clock starts, one transaction each, sent pipelined 100 at a time, and the
 * fetch requests signed beforehand, so the timed part is the gateway's work only: the signature
 * check, the chain checks at a confirmed block (one receipt per read, member state once per
 * block), the payload opened at rest, the release row written durably, the payload sealed to the
 * consumer's key. It also times those steps alone in this process, to name the bottleneck.
 *
 *   npx tsx bench/gateway.ts            # prints a table, saves bench/results/gateway.json
 *   GATEWAY_BENCH_RELEASES=500 npx tsx bench/gateway.ts
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent, request as httpRequest } from "node:http";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Interface, type Wallet, hexlify, keccak256, recoverAddress, toUtf8Bytes } from "ethers";

import { AtRestCipher } from "../gateway/at-rest.js";
import { GatewayDigests } from "../gateway/digests.js";
import { recoverSigner, signatureBackend } from "../gateway/signatures.js";
import { openStore } from "../gateway/store/index.js";
import {
  DataSafeClient,
  Delivery,
  GATEWAY_ROUTES,
  KeySuite,
  type AssetKey,
  type Hex,
  canonicalJson,
  cipherSuite,
  commitRecord,
  consumerFetchTypedData,
  gatewayDomain,
  releaseAad,
  sealTo,
} from "../sdk/index.js";
import { type Chain, startChain, startGateway, stopAll, workDirectory } from "../test/helpers/gateway-harness.js";
import { startPostgres } from "../test/helpers/postgres.js";

const RESULTS = fileURLToPath(new URL("./results/gateway.json", import.meta.url));
const READS_PER_TRANSACTION = 100;
const WARM_UP = 100;
const DATA_TYPE = 8;
const PURPOSE = 1;

export interface GatewayBenchOptions {
  /** Timed releases per database. */
  releases?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  databases?: ("sqlite" | "postgres")[];
  /** Gateway processes (the `workers` setting); default one per CPU. */
  workers?: number;
}

export interface GatewayBenchRow {
  database: "sqlite" | "postgres";
  workers: number;
  releases: number;
  concurrency: number;
  seconds: number;
  releasesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses other than 200 (there should be none). */
  failures: number;
  /** The machine's 1-minute load average when the timed run ended (other work on it, this run included). */
  loadAverage: number;
  /**
   * CPU time per release during the timed run, in milliseconds: the gateway's processes (all
   * workers), this client (HTTP requests), the chain node. Independent of other load on the
   * machine, unlike the rate; undefined where /proc is not available.
   */
  cpuMsPerRelease: { gateway?: number; client: number; node?: number };
}

/** Milliseconds one step of a release takes alone, in this process (median of many). */
export interface StepCost {
  step: string;
  ms: number;
}

export interface GatewayBenchResult {
  date: string;
  node: string;
  cpus: number;
  /** The 1-, 5- and 15-minute load averages before the benchmark started. */
  loadBefore: { "1m": number; "5m": number; "15m": number };
  payloadBytes: number;
  rows: GatewayBenchRow[];
  steps: StepCost[];
}

/** Runs the benchmark; see the file comment. */
export async function benchGateway(options: GatewayBenchOptions = {}): Promise<GatewayBenchResult> {
  const releases = options.releases ?? 3_000;
  const concurrency = options.concurrency ?? 16;
  const databases = options.databases ?? ["sqlite", "postgres"];
  const workers = options.workers ?? availableParallelism();
  const [one, five, fifteen] = loadavg().map((l) => round(l, 2));
  const loadBefore = { "1m": one, "5m": five, "15m": fifteen };
  const work = workDirectory("gateway-bench");
  let chain: Chain | undefined;
  const cluster = databases.includes("postgres") ? await startPostgres() : undefined;
  try {
    chain = await startChain(work.dir);
    const network = await setUp(chain);
    const rows: GatewayBenchRow[] = [];
    for (const database of databases) {
      const reads = await recordReads(network, WARM_UP + releases);
      await chain.provider.send("evm_mine", []);
      const gateway = await startGateway(
        work.dir,
        {
          workers,
          chain: { rpcUrl: chain.url, chainId: 1337, confirmations: 1 },
          deployment: { ignitionDir: chain.deploymentDir },
          database:
            database === "sqlite"
              ? { kind: "sqlite", path: path.join(work.dir, "bench.db") }
              : { kind: "postgres", url: await cluster!.createDatabase("gateway_bench"), poolSize: 10 },
          log: { level: "info" },
        },
        randomBytes(32).toString("hex"),
        process.env.GATEWAY_BENCH_NODE_OPTIONS,
      );
      try {
        await upload(gateway.url, network);
        const bodies = await signFetches(network, reads);
        await fire(gateway.url, bodies.slice(0, WARM_UP), concurrency);
        const cpuBefore = { gateway: treeCpuMs(gateway.pid()), client: process.cpuUsage(), node: treeCpuMs(chain.pid) };
        const started = performance.now();
        const latencies = await fire(gateway.url, bodies.slice(WARM_UP), concurrency);
        const seconds = (performance.now() - started) / 1000;
        const clientCpu = process.cpuUsage(cpuBefore.client);
        const perRelease = (before: number | undefined, after: number | undefined) =>
          before === undefined || after === undefined ? undefined : round((after - before) / releases, 3);
        const ok = latencies.filter((l) => l.status === 200).map((l) => l.ms);
        ok.sort((a, b) => a - b);
        rows.push({
          database,
          workers,
          releases: ok.length,
          concurrency,
          seconds: round(seconds, 2),
          releasesPerSecond: Math.round(ok.length / seconds),
          p50Ms: round(percentile(ok, 0.5), 1),
          p99Ms: round(percentile(ok, 0.99), 1),
          maxMs: round(ok[ok.length - 1] ?? 0, 1),
          failures: latencies.length - ok.length,
          loadAverage: round(loadavg()[0], 2),
          cpuMsPerRelease: {
            gateway: perRelease(cpuBefore.gateway, treeCpuMs(gateway.pid())),
            client: round((clientCpu.user + clientCpu.system) / 1000 / releases, 3),
            node: perRelease(cpuBefore.node, treeCpuMs(chain.pid)),
          },
        });
        // Served once: the same requests again are all refused.
        const again = await fire(gateway.url, bodies.slice(WARM_UP, WARM_UP + 20), concurrency);
        if (again.some((l) => l.status !== 409)) throw new Error("a served access was released again");
      } finally {
        await gateway.kill();
      }
    }
    return {
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      loadBefore,
      payloadBytes: Buffer.byteLength(canonicalJson(network.record)),
      rows,
      steps: await stepCosts(work.dir, network),
    };
  } finally {
    await stopAll();
    await chain?.stop();
    await cluster?.stop();
    work.remove();
  }
}

interface Network {
  safe: DataSafeClient;
  department: Wallet;
  bank: Wallet;
  bankKey: Awaited<ReturnType<ReturnType<typeof cipherSuite>["generateKeyPair"]>>;
  asset: AssetKey;
  assetId: Hex;
  record: Record<string, unknown>;
  salt: Hex;
  subjectId: Hex;
}

/** A department, a bank with an X25519 key, a holder, one 1 KB record issued and granted for many reads. */
async function setUp(chain: Chain): Promise<Network> {
  const [memberAdmin, catalogAdmin, authority, department, bank, holder] = [2, 3, 5, 6, 8, 12].map((i) =>
    chain.account(i),
  );
  const safe = await DataSafeClient.at(chain.addresses["DataSafe#DataSafe"], chain.provider, {
    keyDirectoryAddress: chain.addresses["KeyDirectory#KeyDirectory"],
  });
  const admin = safe.connect(memberAdmin);
  await (await admin.members.register({ account: authority.address, kind: "IdentityAuthority", name: "IA" })).wait();
  await (await admin.members.register({ account: department.address, kind: "Department", name: "Fund" })).wait();
  await (await admin.members.register({ account: bank.address, kind: "Consumer", name: "Bank" })).wait();
  const catalog = safe.connect(catalogAdmin).catalog;
  await (
    await catalog.define({ dataType: DATA_TYPE, name: "personal-housing-fund", schemaURI: "urn:bench", schema: {} })
  ).wait();
  await (await catalog.authoriseIssuer(DATA_TYPE, department.address)).wait();
  const bankKey = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
  await (
    await safe.connect(bank).keys.setMemberKey({ suite: "X25519Hpke", publicKey: hexlify(bankKey.publicKey) })
  ).wait();
  const subjectId = keccak256(toUtf8Bytes("bench-holder"));
  await (await safe.connect(authority).subjects.register(subjectId, holder.address)).wait();
  // A 1 KB record: its canonical JSON is 1,024 bytes.
  const base = { accountNumber: "BENCH-HF-0001", balance: 86_400, paidUntil: "2025-09", status: "active", note: "" };
  const record = { ...base, note: "x".repeat(1_024 - Buffer.byteLength(canonicalJson(base))) };
  const { commitment, salt } = commitRecord(record);
  const { assetId, key } = await (
    await safe.connect(department).assets.issue({ subjectId, dataType: DATA_TYPE, contentCommitment: commitment })
  ).wait();
  await (
    await safe.connect(holder).consent.grant({
      subjectId,
      consumers: [bank.address],
      targets: [assetId],
      purpose: PURPOSE,
      expiresAt: Math.floor(Date.now() / 1000) + 365 * 86_400, // within MAX_GRANT_DURATION
      maxReads: 4_000_000_000,
    })
  ).wait();
  return { safe, department, bank, bankKey, asset: key, assetId, record, salt, subjectId };
}

/** Records `count` reads, one transaction each, `READS_PER_TRANSACTION` sent pipelined at a time. */
async function recordReads(network: Network, count: number) {
  const core = new Interface(network.safe.contracts.dataSafe.interface.fragments);
  const topic = core.getEvent("AccessRecorded")!.topicHash;
  const reads: { accessId: Hex; transactionHash: Hex }[] = [];
  const dataSafe = network.safe.contracts.dataSafe.connect(network.bank);
  for (let done = 0; done < count; done += READS_PER_TRANSACTION) {
    const batch = Math.min(READS_PER_TRANSACTION, count - done);
    const sent = [];
    // Sent one after another (the node orders the bank's nonces), mined while the next are sent.
    for (let i = 0; i < batch; i += 1) sent.push(await dataSafe.recordAccess(network.asset, 0, PURPOSE, 0));
    for (const receipt of await Promise.all(sent.map((tx) => tx.wait()))) {
      for (const log of receipt!.logs) {
        if (log.topics[0] !== topic) continue;
        reads.push({ accessId: core.parseLog(log)!.args.accessId, transactionHash: receipt!.hash });
      }
    }
  }
  if (reads.length !== count) throw new Error(`recorded ${reads.length} reads, expected ${count}`);
  return reads;
}

async function upload(url: string, network: Network): Promise<void> {
  const delivery = new Delivery(network.safe.connect(network.department), url);
  await delivery.upload({
    subjectId: network.subjectId,
    dataType: DATA_TYPE,
    scheme: "record",
    record: network.record,
    salt: network.salt,
  });
}

async function signFetches(network: Network, reads: { accessId: Hex; transactionHash: Hex }[]) {
  const domain = gatewayDomain(1337n, network.safe.address);
  const deadline = Math.floor(Date.now() / 1000) + 550;
  return Promise.all(
    reads.map(async (read) => {
      const request = { ...read, assetId: network.assetId, deadline };
      const p = consumerFetchTypedData(domain, request);
      const signature = await network.bank.signTypedData(p.domain, p.types, p.message);
      return JSON.stringify({ account: network.bank.address, ...request, signature });
    }),
  );
}

/**
 * Sends every body with `concurrency` requests in flight, each on its own keep-alive connection;
 * returns each one's status and latency. Node's `http` client: the load generator shares the
 * machine's two cores with the gateway, and `fetch` costs it about twice the CPU per request.
 */
async function fire(url: string, bodies: string[], concurrency: number) {
  const results: { status: number; ms: number }[] = new Array(bodies.length);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(`${url}${GATEWAY_ROUTES.consumerRelease}`);
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        target,
        {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (response) => {
          response.on("data", () => undefined);
          response.on("end", () => resolve(response.statusCode ?? 0));
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      const started = performance.now();
      const status = await post(bodies[i]);
      results[i] = { status, ms: performance.now() - started };
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return results;
}

/** Each CPU step of a release, alone, in this process: where the time goes. */
async function stepCosts(dir: string, network: Network): Promise<StepCost[]> {
  const domain = gatewayDomain(1337n, network.safe.address);
  const digests = new GatewayDigests(domain);
  const request = {
    accessId: hexlify(randomBytes(32)),
    transactionHash: hexlify(randomBytes(32)),
    assetId: network.assetId,
    deadline: 2_000_000_000,
  };
  const p = consumerFetchTypedData(domain, request);
  const signature = await network.bank.signTypedData(p.domain, p.types, p.message);
  const cipher = new AtRestCipher(randomBytes(32));
  const plaintext = toUtf8Bytes(canonicalJson({ key: network.asset, record: network.record, salt: network.salt }));
  const sealed = cipher.seal(network.assetId, plaintext);
  const aad = releaseAad(1337n, network.safe.address, { kind: "consumer", accessId: request.accessId });
  const sm2 = await cipherSuite(KeySuite.Sm2).generateKeyPair();
  const sqlite = await openStore({ kind: "sqlite", path: path.join(dir, "steps.db") });
  let n = 0;
  const steps: [string, () => unknown][] = [
    ["EIP-712 digest (precomputed domain)", () => digests.consumerFetch(request)],
    ["secp256k1 signature recovery (ethers, pure JS)", () => recoverAddress(digests.consumerFetch(request), signature)],
    [
      `secp256k1 signature recovery (gateway: ${signatureBackend})`,
      () => recoverSigner(digests.consumerFetch(request), signature),
    ],
    ["seal 1 KB to X25519 (HPKE)", () => sealTo(network.bankKey, plaintext, aad)],
    ["seal 1 KB to SM2 (national suite)", () => sealTo(sm2, plaintext, aad)],
    ["open at rest (AES-256-GCM)", () => cipher.open(network.assetId, sealed)],
    [
      "release row, durable (node:sqlite, synchronous=FULL)",
      () =>
        sqlite.recordRelease({
          accessId: `0x${(n++).toString(16).padStart(64, "0")}`,
          assetId: network.assetId,
          consumer: network.bank.address,
          transactionHash: request.transactionHash,
          blockNumber: 1,
          releasedAt: Date.now(),
        }),
    ],
  ];
  const costs: StepCost[] = [];
  for (const [step, run] of steps) {
    for (let i = 0; i < 20; i++) await run();
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await run();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    costs.push({ step, ms: round(percentile(times, 0.5), 3) });
  }
  await sqlite.close();
  return costs;
}

/** CPU milliseconds (user + system) used so far by a process and its descendants, from /proc. */
function treeCpuMs(root: number | undefined): number | undefined {
  if (root === undefined || !existsSync("/proc/self/stat")) return undefined;
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // After "pid (comm) ": state ppid … utime (14th field) stime (15th).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  let ticks = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    ticks += stats.get(pid)?.ticks ?? 0;
    for (const [child, stat] of stats) if (stat.ppid === pid) queue.push(child);
  }
  return (ticks * 1000) / clockTicksPerSecond();
}

let clockTicks: number | undefined;
function clockTicksPerSecond(): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return clockTicks;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const result = await benchGateway({
    releases: Number(process.env.GATEWAY_BENCH_RELEASES ?? 3_000),
    concurrency: Number(process.env.GATEWAY_BENCH_CONCURRENCY ?? 16),
    databases: process.env.GATEWAY_BENCH_DATABASES?.split(",") as GatewayBenchOptions["databases"],
    workers: process.env.GATEWAY_BENCH_WORKERS ? Number(process.env.GATEWAY_BENCH_WORKERS) : undefined,
  });
  console.log(
    `\nGateway consumer releases over HTTP, ${result.payloadBytes}-byte payloads, ${result.cpus} CPUs, ${result.node}, load average before ${Object.values(result.loadBefore).join(" ")}`,
  );
  console.table(
    result.rows.map((r) => ({
      database: r.database,
      workers: r.workers,
      releases: r.releases,
      "in flight": r.concurrency,
      "releases/s": r.releasesPerSecond,
      "p50 ms": r.p50Ms,
      "p99 ms": r.p99Ms,
      "max ms": r.maxMs,
      failures: r.failures,
      "load avg": r.loadAverage,
      "CPU ms/release: gateway": r.cpuMsPerRelease.gateway,
      client: r.cpuMsPerRelease.client,
      node: r.cpuMsPerRelease.node,
    })),
  );
  console.log("One release's CPU steps, alone (median ms):");
  console.table(Object.fromEntries(result.steps.map((s) => [s.step, s.ms])));
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`saved ${path.relative(process.cwd(), RESULTS)}`);
}
