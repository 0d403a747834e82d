import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Interface, JsonRpcProvider, Network, Wallet, getBytes, keccak256, toUtf8Bytes } from "ethers";

import {
  DataSafeClient,
  type Hex,
  ImportIncompleteError,
  ImportInputError,
  ImportJournalError,
  type ImportProgress,
  assetIdOf,
  importAssets,
  issueAssetsCalldata,
  parseImportText,
  readImportFile,
} from "../../sdk/index.js";
import { signRawTransaction } from "../../sdk/raw-transaction.js";
import {
  type BulkChain,
  type Record_,
  TYPES,
  UNAUTHORISED_TYPE,
  csvOf,
  jsonlOf,
  records,
  startBulkChain,
  writeInput,
} from "../helpers/bulk-chain.js";
import { FaultyRpcProxy } from "../helpers/faulty-rpc-proxy.js";
import { ProcessSet, stop, waitFor } from "../helpers/processes.js";

/*
 * Bulk issuance against a real `hardhat node --network besuLike` process over HTTP: pipelined
 * imports issue exactly the file's assets, RPC failures and a SIGKILL mid-import duplicate and lose
 * nothing, bad files are refused whole with every bad row named and no transaction sent.
 */

const processes = new ProcessSet("bulk");
let chain: BulkChain;
let work: string;
let department: DataSafeClient;

/** The department's AssetIssued events since `fromBlock`, as asset ids. */
async function issuedSince(fromBlock: number): Promise<Hex[]> {
  const dataSafe = chain.safe.contracts.dataSafe;
  const events = await dataSafe.queryFilter(
    dataSafe.filters.AssetIssued(undefined, undefined, chain.department.address),
    fromBlock,
  );
  return events.map((e) => e.args.assetId);
}

async function nonce(): Promise<number> {
  return chain.provider.getTransactionCount(chain.department.address, "latest");
}

/** Every transaction of the department mined since `fromBlock`, with its status. */
async function transactionsSince(fromBlock: number): Promise<{ hash: string; status: number }[]> {
  const latest = await chain.provider.getBlockNumber();
  const out: { hash: string; status: number }[] = [];
  for (let b = fromBlock; b <= latest; b++) {
    const block = await chain.provider.getBlock(b, true);
    for (const tx of block!.prefetchedTransactions) {
      if (tx.from !== chain.department.address) continue;
      const receipt = await chain.provider.getTransactionReceipt(tx.hash);
      out.push({ hash: tx.hash, status: receipt!.status! });
    }
  }
  return out;
}

describe("bulk issuance (hardhat node over HTTP)", function () {
  this.timeout(300_000);

  before(async function () {
    this.timeout(300_000);
    work = mkdtempSync(path.join(tmpdir(), "datasafe-bulk-test-"));
    chain = await startBulkChain(processes, "test");
    department = chain.safe.connect(chain.department);
  });

  after(async function () {
    await chain?.stop();
    await processes.stopAll();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  describe("encoding", function () {
    it("hashes each row to the asset id the contract computes (assetIdOf)", function () {
      const rows = parseImportText(csvOf(records(5, "ids")), { format: "csv", issuer: chain.department.address });
      for (const r of rows) {
        expect(r.assetId).to.equal(
          assetIdOf({
            issuer: chain.department.address,
            subjectId: r.subjectId,
            dataType: r.dataType,
            contentCommitment: r.contentCommitment,
          }),
        );
      }
    });

    it("encodes issueAssets calldata as the ABI coder does", function () {
      const rows = parseImportText(csvOf(records(7, "calldata", 4_000_000_000)), {
        format: "csv",
        issuer: chain.department.address,
      });
      const iface = new Interface(chain.safe.contracts.dataSafe.interface.fragments);
      const expected = iface.encodeFunctionData("issueAssets", [
        rows.map((r) => [r.subjectId, r.dataType, r.contentCommitment, r.payloadPointer, r.validUntil]),
      ]);
      expect(issueAssetsCalldata(iface.getFunction("issueAssets")!.selector, rows)).to.equal(expected);
    });

    it("signs transactions byte for byte as ethers does (legacy and EIP-1559)", async function () {
      const wallet = Wallet.createRandom();
      const data = `0x${"00ab".repeat(4_000)}`;
      const feeses = [
        { gasPrice: 0n },
        { gasPrice: 7n },
        { maxFeePerGas: 1_000_000_000n, maxPriorityFeePerGas: 0n },
        { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n },
      ];
      for (const fees of feeses) {
        for (const nonce of [0, 1, 127, 128, 300_000]) {
          const fields = { to: chain.department.address, gasLimit: 15_000_000, nonce, chainId: 1337n };
          const expected = await wallet.signTransaction({
            ...fields,
            data,
            value: 0n,
            ...fees,
            type: "gasPrice" in fees ? 0 : 2,
          });
          const signed = signRawTransaction(wallet.signingKey, { ...fields, data: getBytes(data), fees });
          expect(signed.raw).to.equal(expected);
          expect(signed.hash).to.equal(keccak256(expected));
        }
      }
    });
  });

  describe("a pipelined import", function () {
    it("issues exactly the file's assets, and a re-run issues nothing", async function () {
      const file = writeInput(work, "pipelined.csv", csvOf(records(2_000, "pipelined")));
      const fromBlock = (await chain.provider.getBlockNumber()) + 1;
      const rows = await readImportFile(file, department);
      expect(rows).to.have.length(2_000);
      const progress: ImportProgress[] = [];
      const report = await importAssets(department, rows, {
        maxInFlight: 6,
        maxBatchSize: 150,
        onProgress: (p) => progress.push(p),
      });

      expect(report).to.include({ total: 2_000, issued: 2_000, alreadyIssued: 0, transactions: 14, batchSize: 150 });
      expect(report.refused).to.deep.equal([]);
      const ids = await issuedSince(fromBlock);
      expect(ids).to.have.length(2_000);
      expect(new Set(ids)).to.deep.equal(new Set(rows.map((r) => r.assetId)));
      expect(await department.assets.areIssued(rows.map((r) => r.assetId))).to.satisfy((a: boolean[]) =>
        a.every(Boolean),
      );
      const txs = await transactionsSince(fromBlock);
      expect(txs).to.have.length(14);
      expect(txs.every((t) => t.status === 1)).to.equal(true);
      expect(report.gasUsed > 0n).to.equal(true);
      // Progress climbs to the total, once per mined transaction after the first check.
      expect(progress[0]).to.include({ done: 0, total: 2_000 });
      expect(progress.at(-1)).to.include({ done: 2_000, issued: 2_000, transactions: 14 });
      for (let i = 1; i < progress.length; i++) expect(progress[i].done).to.be.at.least(progress[i - 1].done);

      const before = await nonce();
      const again = await importAssets(department, rows);
      expect(again).to.include({ issued: 0, alreadyIssued: 2_000, transactions: 0 });
      expect(await nonce()).to.equal(before);
    });

    it("stops on abort with the transactions in flight journaled, and a re-run finishes", async function () {
      const rows = await readImportFile(writeInput(work, "abort.csv", csvOf(records(600, "abort"))), department);
      const journal = path.join(work, "abort.journal");
      const fromBlock = (await chain.provider.getBlockNumber()) + 1;
      const controller = new AbortController();
      const options = { journal, maxBatchSize: 50, maxInFlight: 2 };
      const error = await importAssets(department, rows, {
        ...options,
        signal: controller.signal,
        onProgress: (p) => p.transactions >= 2 && controller.abort(),
      }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ImportIncompleteError);
      const { reason, report, remaining } = error as ImportIncompleteError;
      expect(reason).to.equal("aborted");
      expect(remaining).to.be.within(1, 500);
      expect(report.issued + remaining).to.equal(600);
      expect(await issuedSince(fromBlock)).to.have.length(report.issued);

      const finished = await importAssets(department, rows, options);
      expect(finished).to.include({ issued: 600, alreadyIssued: 0, resumed: true, transactions: 12 });
      const ids = await issuedSince(fromBlock);
      expect(ids).to.have.length(600);
      expect(new Set(ids).size).to.equal(600);
    });

    it("reports rows the chain refuses when the catalog changed after the file was checked", async function () {
      const file = writeInput(work, "refused.jsonl", jsonlOf(records(40, "refused")));
      const rows = await readImportFile(file, department);
      const catalogAdmin = chain.safe.connect(chain.account(3)).catalog;
      await (await catalogAdmin.deauthoriseIssuer(TYPES[1], chain.department.address)).wait();
      try {
        const report = await importAssets(department, rows, { maxBatchSize: 16 });
        const ofType = (t: number) => rows.filter((r) => r.dataType === t);
        expect(report.issued).to.equal(ofType(TYPES[0]).length);
        expect(report.refused.map((r) => r.row)).to.deep.equal(ofType(TYPES[1]).map((r) => r.row));
        expect(report.refused[0].reason).to.match(/^IssuerNotAuthorised\(dataType: 12, issuer: "0x/);
        const onChain = await department.assets.areIssued(rows.map((r) => r.assetId));
        rows.forEach((r, i) => expect(onChain[i]).to.equal(r.dataType === TYPES[0]));
      } finally {
        await (await catalogAdmin.authoriseIssuer(TYPES[1], chain.department.address)).wait();
      }
    });
  });

  describe("RPC errors mid-import", function () {
    it("lose and duplicate nothing: a send the node took whose answer was lost is not sent again", async function () {
      const proxy = await FaultyRpcProxy.start(chain.url);
      const provider = new JsonRpcProvider(proxy.url, Network.from(1337), {
        staticNetwork: true,
        pollingInterval: 50,
        cacheTimeout: -1,
      });
      try {
        const faultyDepartment = chain.safe.connect(new Wallet(chain.department.privateKey, provider));
        const file = writeInput(work, "faults.csv", csvOf(records(600, "faults")));
        const rows = await readImportFile(file, faultyDepartment);
        // From here on, counted from the import's first call of each method.
        proxy.startCounting();
        proxy.failWhen = (method, count) => {
          if (method === "eth_sendRawTransaction") {
            return ({ 2: "dropAfter", 4: "unavailableBefore", 6: "unavailableAfter", 8: "dropBefore" } as const)[count];
          }
          if (method === "eth_getBlockByNumber" && count % 5 === 0) return "unavailableBefore";
          if (method === "eth_blockNumber" && count % 7 === 0) return "dropAfter";
          if (method === "eth_call")
            return ({ 2: "dropBefore", 5: "dropAfter", 9: "unavailableAfter" } as const)[count];
          return undefined;
        };
        const fromBlock = (await chain.provider.getBlockNumber()) + 1;
        const report = await importAssets(faultyDepartment, rows, {
          maxInFlight: 4,
          maxBatchSize: 50,
          journal: path.join(work, "faults.journal"),
        });
        expect(proxy.injected.filter((i) => i.method === "eth_sendRawTransaction")).to.have.length(4);
        expect(proxy.injected.filter((i) => i.method === "eth_call")).to.have.length(3);
        expect(report).to.include({ issued: 600, alreadyIssued: 0, transactions: 12 });
        const ids = await issuedSince(fromBlock);
        expect(ids).to.have.length(600);
        expect(new Set(ids).size).to.equal(600);
        // One transaction per batch: no second transaction for rows whose first one landed.
        const txs = await transactionsSince(fromBlock);
        expect(txs).to.have.length(12);
        expect(txs.every((t) => t.status === 1)).to.equal(true);
      } finally {
        provider.destroy();
        await proxy.close();
      }
    });
  });

  describe("a killed import", function () {
    it("re-run with its journal finishes with nothing lost or duplicated", async function () {
      const file = writeInput(work, "killed.csv", csvOf(records(2_000, "killed")));
      const journal = path.join(work, "killed.journal");
      const fromBlock = (await chain.provider.getBlockNumber()) + 1;
      const args = [
        "tsx",
        "scripts/import-assets.ts",
        "--deployment",
        chain.deploymentDir,
        "--file",
        file,
        "--journal",
        journal,
        "--max-batch-size",
        "50",
        "--max-in-flight",
        "4",
      ];
      const env = { DATASAFE_RPC_URL: chain.url, DATASAFE_PRIVATE_KEY: chain.department.privateKey };
      const first = processes.start("npx", args, processes.logFile("import-1"), env);
      const mined = () => readFileSafe(journal).match(/"type":"mined"/g)?.length ?? 0;
      await waitFor(
        "the import to mine 5 transactions",
        async () => (mined() >= 5 ? true : undefined),
        180_000,
        20,
        () => (first.child.exitCode === null ? undefined : first.output()),
      );
      await stop(first.child, "SIGKILL");
      const minedAtKill = mined();
      expect(minedAtKill).to.be.below(40, "killed before the end");
      const issuedAtKill = (await issuedSince(fromBlock)).length;
      expect(issuedAtKill).to.be.within(250, 1_950);

      const second = processes.start("npx", args, processes.logFile("import-2"), env);
      expect(await second.exited).to.equal(0, second.output());
      const report = JSON.parse(second.output().trim().split("\n").at(-1)!).report;
      expect(report).to.include({ total: 2_000, issued: 2_000, alreadyIssued: 0, resumed: true });
      expect(report.refused).to.deep.equal([]);
      const ids = await issuedSince(fromBlock);
      expect(ids).to.have.length(2_000);
      expect(new Set(ids).size).to.equal(2_000);
      const rows = parseImportText(readFileSync(file, "utf8"), { format: "csv", issuer: chain.department.address });
      expect(new Set(ids)).to.deep.equal(new Set(rows.map((r) => r.assetId)));
      // Every transaction either issued its batch or was never mined: none reverted on a duplicate.
      const txs = await transactionsSince(fromBlock);
      expect(txs.filter((t) => t.status !== 1)).to.deep.equal([]);
      expect(txs).to.have.length(40);
    });

    it("refuses a journal written for other rows", async function () {
      const journal = path.join(work, "killed.journal");
      const rows = parseImportText(csvOf(records(3, "other")), { format: "csv", issuer: chain.department.address });
      const before = await nonce();
      const error = await importAssets(department, rows, { journal }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ImportJournalError);
      expect((error as ImportJournalError).message).to.match(/belongs to another import \(its rows is 2000, not 3\)/);
      expect(await nonce()).to.equal(before);
    });
  });

  describe("bad input files", function () {
    let nonceBefore: number;

    before(async function () {
      nonceBefore = await nonce();
    });

    after(async function () {
      expect(await nonce()).to.equal(nonceBefore, "a refused file sent a transaction");
    });

    async function refusal(name: string, text: string, options = {}): Promise<ImportInputError> {
      const error = await readImportFile(writeInput(work, name, text), department, options).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ImportInputError);
      return error as ImportInputError;
    }

    const good = (seed: string, n = 4): Record_[] => records(n, seed);

    it("malformed CSV: every record with the wrong number of fields, by line", async function () {
      const lines = csvOf(good("malformed", 5)).split("\n");
      lines[2] += ",extra";
      lines[4] = lines[4].split(",").slice(0, 3).join(",");
      const error = await refusal("malformed.csv", lines.join("\n"));
      expect(error.issues.map((i) => [i.row, i.field])).to.deep.equal([
        [3, "record"],
        [5, "record"],
      ]);
      expect(error.issues[0].message).to.match(/malformed CSV/);
    });

    it("malformed CSV: an unclosed quote", async function () {
      const text = `${csvOf(good("quote", 2))}\n"0x12,11,0x34`;
      const error = await refusal("quote.csv", text);
      expect(error.issues).to.have.length(1);
      expect(error.issues[0]).to.include({ row: 4, field: "record" });
      expect(error.issues[0].message).to.match(/CSV_QUOTE_NOT_CLOSED/);
    });

    it("unknown columns and missing required ones, in the header", async function () {
      const error = await refusal("header.csv", "subjectId,dataTipe,contentCommitment\n0x01,11,0x02");
      expect(error.issues.map((i) => [i.row, i.field])).to.deep.equal([
        [1, "dataTipe"],
        [1, "dataType"],
      ]);
    });

    it("unknown data type, and a type the department is not authorised for (checked once per type)", async function () {
      const rows = good("types", 5);
      rows[1].dataType = 99;
      rows[3].dataType = UNAUTHORISED_TYPE;
      rows[4].dataType = 99;
      const error = await refusal("types.csv", csvOf(rows));
      expect(error.issues.map((i) => [i.row, i.field])).to.deep.equal([
        [3, "dataType"],
        [5, "dataType"],
        [6, "dataType"],
      ]);
      expect(error.issues[0].message).to.equal("unknown data type 99: not defined in the catalog");
      expect(error.issues[1].message).to.match(/may not issue data type 13 \(type-13\)/);
    });

    it("invalid address, hex and numbers: each field of each row", async function () {
      const rows = good("fields", 5).map((r) => ({ ...r, issuer: chain.department.address }));
      rows[0].issuer = "0x1234";
      rows[1].subjectId = "0xabc";
      rows[2].contentCommitment = `0x${"0".repeat(64)}`;
      rows[2].validUntil = "soon";
      rows[3].dataType = "2^32";
      rows[4].issuer = chain.otherDepartment.address;
      rows[4].payloadPointer = "0x" + "g".repeat(64);
      const error = await refusal("fields.jsonl", jsonlOf(rows));
      expect(error.issues.map((i) => [i.row, i.field])).to.deep.equal([
        [1, "issuer"],
        [2, "subjectId"],
        [3, "contentCommitment"],
        [3, "validUntil"],
        [4, "dataType"],
        [5, "payloadPointer"],
      ]);
      expect(error.issues[0].message).to.match(/expected an address/);
      expect(error.issues[2].message).to.equal("must not be zero");
      expect(error.message).to.match(/fields\.jsonl: 6 problems in 5 rows/);
    });

    it("an issuer column naming another department", async function () {
      const rows = good("issuer", 2).map((r) => ({ ...r, issuer: chain.otherDepartment.address }));
      const error = await refusal("issuer.csv", csvOf(rows));
      expect(error.issues.map((i) => [i.row, i.field])).to.deep.equal([
        [2, "issuer"],
        [3, "issuer"],
      ]);
      expect(error.issues[0].message).to.include(`but ${chain.department.address} is importing`);
    });

    it("a validity date already past", async function () {
      const rows = good("expired", 2);
      rows[1].validUntil = 1_000;
      const error = await refusal("expired.csv", csvOf(rows));
      expect(error.issues).to.have.length(1);
      expect(error.issues[0]).to.include({ row: 3, field: "validUntil" });
    });

    it("duplicate rows: the same asset twice, even with another payload pointer", async function () {
      const rows = good("dupes", 4);
      rows.push({ ...rows[0] }, { ...rows[2], payloadPointer: keccak256(toUtf8Bytes("another")) });
      const error = await refusal("dupes.csv", csvOf(rows));
      expect(error.issues.map((i) => [i.row, i.message.slice(0, 15)])).to.deep.equal([
        [6, "duplicate of ro"],
        [7, "duplicate of ro"],
      ]);
      expect(error.issues[0].message).to.match(/^duplicate of row 2:/);
      expect(error.issues[1].message).to.match(/^duplicate of row 4:/);
    });

    it("a JSONL line that is not JSON, or not an object, or has an unknown key", async function () {
      const lines = jsonlOf(good("jsonl", 3)).split("\n");
      lines[0] = lines[0].slice(0, -2);
      lines[1] = "[1,2]";
      lines[2] = JSON.stringify({ ...JSON.parse(lines[2]), colour: "red" });
      const error = await refusal("bad.jsonl", lines.join("\n"));
      expect(error.issues.map((i) => [i.row, i.field])).to.deep.equal([
        [1, "record"],
        [2, "record"],
        [3, "colour"],
      ]);
    });

    it("an oversized file or batch: over the row or byte limit", async function () {
      const text = csvOf(good("oversized", 6));
      const rowsError = await refusal("rows.csv", text, { maxRows: 5 });
      expect(rowsError.issues).to.deep.equal([{ row: 0, field: "file", message: "6 rows, more than the limit of 5" }]);
      const bytesError = await refusal("bytes.csv", text, { maxFileBytes: 100 });
      expect(bytesError.issues).to.have.length(1);
      expect(bytesError.issues[0]).to.include({ row: 0, field: "file" });
      expect(bytesError.issues[0].message).to.match(/bytes, more than the limit of 100$/);
    });
  });
});

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
