/**
 * Imports a department's CSV or JSONL file with the SDK's bulk path (readImportFile + importAssets):
 * the smallest program that uses them, run by the tests as a child process that is killed mid-way
 * and run again. The `datasafe department issue --from FILE` command is the one for people.
 *
 *   DATASAFE_RPC_URL=http://127.0.0.1:8545 DATASAFE_PRIVATE_KEY=0x… \
 *     npx tsx scripts/import-assets.ts --deployment deploy/deployments/chain-1337 --file returns.csv \
 *       [--journal returns.csv.journal] [--max-in-flight 8] [--max-batch-size 500]
 *
 * The key comes from the environment only (no default). Prints one JSON line per progress step
 * (`{"progress":…}`) and the report last (`{"report":…}`); exit code 2 for a refused file.
 */
import { parseArgs } from "node:util";

import { JsonRpcProvider, Wallet } from "ethers";

import { DataSafeClient, ImportInputError, importAssets, readImportFile } from "../sdk/index.js";

const { values } = parseArgs({
  options: {
    deployment: { type: "string" },
    file: { type: "string" },
    journal: { type: "string" },
    "max-in-flight": { type: "string" },
    "max-batch-size": { type: "string" },
  },
});
const url = process.env.DATASAFE_RPC_URL;
const key = process.env.DATASAFE_PRIVATE_KEY;
if (values.deployment === undefined || values.file === undefined || url === undefined || key === undefined) {
  console.error(
    "usage: DATASAFE_RPC_URL=… DATASAFE_PRIVATE_KEY=… tsx scripts/import-assets.ts --deployment DIR --file FILE",
  );
  process.exit(64);
}

const provider = new JsonRpcProvider(url, undefined, { pollingInterval: 100 });
try {
  const department = await DataSafeClient.fromDeployment(values.deployment, new Wallet(key, provider));
  const rows = await readImportFile(values.file, department);
  const report = await importAssets(department, rows, {
    journal: values.journal,
    maxInFlight: values["max-in-flight"] === undefined ? undefined : Number(values["max-in-flight"]),
    maxBatchSize: values["max-batch-size"] === undefined ? undefined : Number(values["max-batch-size"]),
    onProgress: (progress) => console.log(JSON.stringify({ progress })),
  });
  console.log(JSON.stringify({ report }, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = error instanceof ImportInputError ? 2 : 1;
} finally {
  provider.destroy();
}
