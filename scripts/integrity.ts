/*
 * Integrity check of the supervision database against the chain.
 *
 *   npm run integrity -- --api http://127.0.0.1:42069 --from 0 --to 5000 \
 *       --rpc http://127.0.0.1:8545 --deployment deploy/deployments/chain-1337 \
 *       [--dataset reads,grants,requests] [--keystore regulator.json]
 *   npm run integrity -- --verify-file export.json [--rpc ... --deployment ...]
 *   npm run integrity -- --verify-file export.csv --dataset reads --from 0 --to 5000 --chain-id 1337 \
 *       --digest sha256:...
 *
 * Fetches each dataset's export of the range from the API (its digest checked), recomputes the same
 * rows from the chain with the SDK's paged getLogs, and prints every row that differs (missing,
 * extra, or which fields changed). Exits 1 if any row differs or a digest does not match, 2 on a
 * usage error. A saved export file is re-verified against its digest, and against the chain when
 * --rpc is given.
 *
 * Signing in: a session token in DATASAFE_SUPERVISION_TOKEN, or a regulator's key from an encrypted
 * JSON keystore (--keystore FILE, password in DATASAFE_KEYSTORE_PASSWORD), or the key in
 * DATASAFE_REGULATOR_KEY. There is no flag for a plaintext key, and no default key.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";

import { JsonRpcProvider, Wallet } from "ethers";

import { readIgnitionDeployment, suiteOf } from "../sdk/deployment.js";
import {
  EXPORT_DATASETS,
  type ExportDataset,
  type ExportDocument,
  SupervisionClient,
  exportDigest,
  parseExportCsv,
} from "../sdk/supervision.js";
import { ChainExporter } from "./lib/export-from-chain.js";
import { describeDifference, diffExport } from "./lib/export-diff.js";

/** The datasets the chain alone can recompute (alerts are derived by the indexer's rules). */
export const CHAIN_DATASETS: ExportDataset[] = ["reads", "grants", "requests"];

class UsageError extends Error {}

export interface IntegrityReport {
  dataset: ExportDataset;
  rows: number;
  digest: string;
  differences: string[];
}

/** Compares the API's export of each dataset with the chain's rows; one report per dataset. */
export async function checkRange(options: {
  api: SupervisionClient;
  chain: ChainExporter;
  datasets: ExportDataset[];
  fromBlock: number;
  toBlock: number;
}): Promise<IntegrityReport[]> {
  const reports: IntegrityReport[] = [];
  for (const dataset of options.datasets) {
    const document = await options.api.export({ dataset, fromBlock: options.fromBlock, toBlock: options.toBlock });
    reports.push(await compareWithChain(document, options.chain));
  }
  return reports;
}

/** Compares an export document (its digest already checked) with the chain. */
export async function compareWithChain(document: ExportDocument, chain: ChainExporter): Promise<IntegrityReport> {
  const truth = await chain.rows(document.dataset, document.fromBlock, document.toBlock);
  const differences = diffExport(document.dataset, document.rows, truth).map((d) =>
    describeDifference(document.dataset, d),
  );
  return { dataset: document.dataset, rows: document.rows.length, digest: document.digest, differences };
}

/** Reads a saved export (JSON, or CSV with its metadata given) and checks its digest. */
export async function readSavedExport(
  file: string,
  meta: { dataset?: string; fromBlock?: number; toBlock?: number; chainId?: number; digest?: string },
): Promise<{ document: ExportDocument; digestOk: boolean; computed: string }> {
  const text = await readFile(file, "utf8");
  let document: ExportDocument;
  if (text.trimStart().startsWith("{")) {
    document = JSON.parse(text) as ExportDocument;
  } else {
    const { dataset, fromBlock, toBlock, chainId, digest } = meta;
    if (!isDataset(dataset) || fromBlock === undefined || toBlock === undefined || chainId === undefined || !digest) {
      throw new UsageError("a CSV export needs --dataset, --from, --to, --chain-id and --digest (from its headers)");
    }
    const rows = parseExportCsv(dataset, text);
    document = { format: "datasafe-export/1", chainId, dataset, fromBlock, toBlock, columns: [], digest, rows };
  }
  const computed = exportDigest(document, document.rows);
  return { document, digestOk: computed === document.digest, computed };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      api: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      dataset: { type: "string" },
      rpc: { type: "string" },
      deployment: { type: "string" },
      keystore: { type: "string" },
      "verify-file": { type: "string" },
      "chain-id": { type: "string" },
      digest: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      "usage: npm run integrity -- --api URL --from B --to B --rpc URL --deployment DIR [--dataset reads,grants,requests] [--keystore FILE]\n" +
        "       npm run integrity -- --verify-file FILE [--rpc URL --deployment DIR] [--dataset D --from B --to B --chain-id N --digest sha256:… for CSV]",
    );
    return 0;
  }
  const rpc = values.rpc ?? process.env.DATASAFE_RPC_URL;
  const deploymentDir = values.deployment ?? process.env.DATASAFE_DEPLOYMENT_DIR;
  const chain = rpc && deploymentDir ? await chainExporter(rpc, deploymentDir) : undefined;
  const fromBlock = blockArg("--from", values.from);
  const toBlock = blockArg("--to", values.to);

  if (values["verify-file"] !== undefined) {
    const { document, digestOk, computed } = await readSavedExport(values["verify-file"], {
      dataset: values.dataset,
      fromBlock,
      toBlock,
      chainId: values["chain-id"] === undefined ? undefined : Number(values["chain-id"]),
      digest: values.digest,
    });
    let failed = !digestOk;
    console.log(
      digestOk
        ? `${values["verify-file"]}: digest ${document.digest} matches its ${document.rows.length} rows`
        : `${values["verify-file"]}: DIGEST MISMATCH: carries ${document.digest}, rows hash to ${computed}`,
    );
    if (chain !== undefined) failed = print([await compareWithChain(document, chain)]) || failed;
    return failed ? 1 : 0;
  }

  if (!values.api) throw new UsageError("--api URL is required");
  if (fromBlock === undefined || toBlock === undefined) throw new UsageError("--from and --to are required");
  if (chain === undefined)
    throw new UsageError("--rpc and --deployment (or DATASAFE_RPC_URL, DATASAFE_DEPLOYMENT_DIR) are required");
  const datasets = (values.dataset ?? CHAIN_DATASETS.join(",")).split(",").map((d) => d.trim());
  for (const dataset of datasets) {
    if (!CHAIN_DATASETS.includes(dataset as ExportDataset)) {
      throw new UsageError(`--dataset ${dataset}: the chain can recompute ${CHAIN_DATASETS.join(", ")}`);
    }
  }
  const api = new SupervisionClient(values.api, { token: process.env.DATASAFE_SUPERVISION_TOKEN });
  if (api.token === undefined) await api.signIn(await regulatorSigner(values.keystore));
  const reports = await checkRange({ api, chain, datasets: datasets as ExportDataset[], fromBlock, toBlock });
  return print(reports) ? 1 : 0;
}

/** Prints the reports; whether any row differs. */
function print(reports: IntegrityReport[]): boolean {
  let differs = false;
  for (const report of reports) {
    for (const line of report.differences) console.log(line);
    console.log(
      `${report.dataset}: ${report.rows} rows exported (${report.digest}), ${report.differences.length} differ from the chain`,
    );
    differs ||= report.differences.length > 0;
  }
  return differs;
}

async function chainExporter(rpc: string, deploymentDir: string): Promise<ChainExporter> {
  const suite = suiteOf(await readIgnitionDeployment(deploymentDir));
  return new ChainExporter({
    provider: new JsonRpcProvider(rpc, undefined, { staticNetwork: true }),
    dataSafe: suite.address,
    startBlock: suite.fromBlock,
  });
}

async function regulatorSigner(keystore: string | undefined): Promise<Wallet> {
  if (keystore !== undefined) {
    const password = process.env.DATASAFE_KEYSTORE_PASSWORD;
    if (password === undefined) throw new UsageError("--keystore needs its password in DATASAFE_KEYSTORE_PASSWORD");
    const wallet = await Wallet.fromEncryptedJson(await readFile(keystore, "utf8"), password);
    return new Wallet(wallet.privateKey);
  }
  const key = process.env.DATASAFE_REGULATOR_KEY;
  if (key === undefined || key.trim() === "") {
    throw new UsageError(
      "sign in with DATASAFE_SUPERVISION_TOKEN, --keystore FILE (+ DATASAFE_KEYSTORE_PASSWORD) or DATASAFE_REGULATOR_KEY",
    );
  }
  return new Wallet(key.trim());
}

function blockArg(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const block = Number(value);
  if (!Number.isSafeInteger(block) || block < 0) throw new UsageError(`${flag} expects a block number, got ${value}`);
  return block;
}

function isDataset(value: unknown): value is ExportDataset {
  return typeof value === "string" && (EXPORT_DATASETS as readonly string[]).includes(value);
}

if (process.argv[1] !== undefined && import.meta.filename === (await import("node:fs")).realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof UsageError ? `integrity: ${error.message}` : error);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
