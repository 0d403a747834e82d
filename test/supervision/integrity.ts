import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import pg from "pg";

import { SupervisionClient } from "../../sdk/supervision.js";
import { type Chain, ROOT, startChain, stopAll, workDirectory } from "../helpers/gateway-harness.js";
import { type PostgresCluster, startPostgres } from "../helpers/postgres.js";
import { type Indexer, type Traffic, craftTraffic, startIndexer } from "../helpers/supervision.js";

/*
 * The integrity command against the indexer on PostgreSQL: it passes on the honest database, and
 * catches a row changed or deleted directly in PostgreSQL (an UPDATE behind the indexer's back),
 * naming the row and the field; a saved export is re-verified by its digest. The API's trail and
 * statistics queries are checked with EXPLAIN to use the schema's indexes.
 */

/** Runs `npm run integrity -- args`; resolves with its exit code and output. */
function integrity(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "integrity", "--", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("integrity check against the indexer on PostgreSQL", function () {
  this.timeout(240_000);
  const work = workDirectory("supervision-integrity");
  const schema = "supervision_integrity";
  let chain: Chain;
  let cluster: PostgresCluster;
  let traffic: Traffic;
  let indexer: Indexer;
  let db: pg.Client;
  let args: string[];
  let env: Record<string, string>;

  before(async function () {
    this.timeout(400_000);
    [chain, cluster] = await Promise.all([startChain(work.dir), startPostgres()]);
    traffic = await craftTraffic(chain);
    const databaseUrl = await cluster.createDatabase("supervision");
    indexer = await startIndexer(chain, work.dir, { databaseUrl, schema });
    await indexer.waitForBlock(traffic.lastBlock, 240_000);
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(`SET search_path TO "${schema}"`);
    args = [
      "--api",
      indexer.url,
      "--from",
      String(traffic.firstBlock),
      "--to",
      String(traffic.lastBlock),
      "--rpc",
      chain.url,
      "--deployment",
      chain.deploymentDir,
    ];
    env = { DATASAFE_REGULATOR_KEY: traffic.wallets.regulator.privateKey };
  });

  after(async () => {
    await db?.end();
    await indexer?.stop();
    await stopAll();
    await chain?.stop();
    await cluster?.stop();
    work.remove();
  });

  it("passes on the honest database", async () => {
    const { code, output } = await integrity(args, env);
    expect(output).to.match(/reads: 5 rows exported \(sha256:[0-9a-f]{64}\), 0 differ from the chain/);
    expect(output).to.match(/grants: 4 rows exported .*, 0 differ/);
    expect(output).to.match(/requests: 4 rows exported .*, 0 differ/);
    expect(code, output).to.equal(0);
  });

  it("refuses to sign in without a key or token, naming the ways to give one (exit 2)", async () => {
    const { code, output } = await integrity(args, { DATASAFE_REGULATOR_KEY: "" });
    expect(code).to.equal(2);
    expect(output).to.include("DATASAFE_KEYSTORE_PASSWORD");
  });

  it("catches a tampered outcome, a tampered grant and a deleted request, row by row (exit 1)", async () => {
    const [{ access_id: accessId }] = (
      await db.query("SELECT access_id FROM access WHERE outcome = 1 ORDER BY block_number LIMIT 1")
    ).rows;
    const [{ id: grantVersionId, grant_id: grantId, version }] = (
      await db.query("SELECT id, grant_id, version FROM grant_version ORDER BY issued_block LIMIT 1")
    ).rows;
    const [{ request_id: requestId }] = (
      await db.query("SELECT request_id FROM access_request WHERE status = 'rejected'")
    ).rows;
    // Behind the indexer's back: a read's outcome turned into "approved" → "declined", a grant's
    // allowance raised, a rejected request erased.
    await db.query("UPDATE access SET outcome = 2 WHERE access_id = $1", [accessId]);
    await db.query("UPDATE grant_version SET max_reads = max_reads + 10 WHERE id = $1", [grantVersionId]);
    await db.query("DELETE FROM access_request WHERE request_id = $1", [requestId]);
    try {
      const { code, output } = await integrity(args, env);
      expect(code, output).to.equal(1);
      expect(output).to.include(`reads ${accessId}: CHANGED outcome export="2" chain="1"`);
      expect(output).to.include(`grants ${grantId}/${version}: CHANGED maxReads`);
      expect(output).to.include(`requests ${requestId}: MISSING from the export`);
      expect(output).to.match(/reads: 5 rows exported .*, 1 differ from the chain/);
    } finally {
      await db.query("UPDATE access SET outcome = 1 WHERE access_id = $1", [accessId]);
      await db.query("UPDATE grant_version SET max_reads = max_reads - 10 WHERE id = $1", [grantVersionId]);
    }
  });

  it("re-verifies a saved export by its digest, and against the chain", async () => {
    const api = new SupervisionClient(indexer.url);
    await api.signIn(traffic.wallets.regulator);
    const document = await api.export({ dataset: "reads", fromBlock: traffic.firstBlock, toBlock: traffic.lastBlock });
    const file = path.join(work.dir, "reads.json");
    writeFileSync(file, JSON.stringify(document));
    const chainArgs = ["--rpc", chain.url, "--deployment", chain.deploymentDir];
    const honest = await integrity(["--verify-file", file, ...chainArgs], {});
    expect(honest.code, honest.output).to.equal(0);
    expect(honest.output).to.include(`digest ${document.digest} matches its 5 rows`);

    const csv = await api.exportCsv({ dataset: "reads", fromBlock: traffic.firstBlock, toBlock: traffic.lastBlock });
    const csvFile = path.join(work.dir, "reads.csv");
    writeFileSync(csvFile, csv.csv);
    const csvMeta = [
      "--dataset",
      "reads",
      "--from",
      String(csv.fromBlock),
      "--to",
      String(csv.toBlock),
      "--chain-id",
      "1337",
    ];
    const csvCheck = await integrity(["--verify-file", csvFile, ...csvMeta, "--digest", csv.digest], {});
    expect(csvCheck.code, csvCheck.output).to.equal(0);

    // One edited cell: the digest no longer matches, and the chain says which row and field.
    const edited = JSON.parse(readFileSync(file, "utf8"));
    edited.rows[0].purpose = "9";
    writeFileSync(file, JSON.stringify(edited));
    const tampered = await integrity(["--verify-file", file, ...chainArgs], {});
    expect(tampered.code).to.equal(1);
    expect(tampered.output).to.include("DIGEST MISMATCH");
    expect(tampered.output).to.include(`reads ${edited.rows[0].accessId}: CHANGED purpose export="9"`);
  });

  it("the trail, consumer reads and statistics queries use the schema's indexes", async () => {
    // Enough rows that the planner prefers an index to a sequential scan only if one fits.
    await db.query("SET enable_seqscan = off");
    const plan = async (query: string, params: unknown[]) =>
      (await db.query(`EXPLAIN ${query}`, params)).rows.map((r) => r["QUERY PLAN"]).join("\n");
    const subject = traffic.holders[0].subjectId;
    const trail = await plan(
      `SELECT * FROM access a WHERE a.subject_id = $1 AND (a.block_number, a.log_index) > ($2, $3)
       ORDER BY a.block_number, a.log_index LIMIT 101`,
      [subject, 0, 0],
    );
    expect(trail).to.match(/Index Scan using \S*subject\S*/i);
    expect(trail).to.not.match(/Sort/);
    const consumer = await plan(
      `SELECT * FROM access a WHERE a.consumer = $1 ORDER BY a.block_number, a.log_index LIMIT 101`,
      [traffic.wallets.bank.address.toLowerCase()],
    );
    expect(consumer).to.match(/Index Scan using \S*consumer\S*/i);
    expect(consumer).to.not.match(/Sort/);
    const stats = await plan(
      `SELECT consumer, SUM(reads) FROM stat_daily WHERE day_start >= $1 AND day_start <= $2 GROUP BY consumer`,
      [0, 2 ** 31],
    );
    expect(stats).to.match(/Index (Only )?Scan using \S*(day|consumer)\S*/i);
  });
});
