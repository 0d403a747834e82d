/*
 * The indexer's settings, from the environment (names agreed in /work/supervision-api.md): which
 * chain, which deployment, which rules. Read by ponder.config.ts (addresses, start block, polling)
 * and by the handlers (alert rules). Plain Node: no Ponder import, so tests can use it too.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { getAddress, isAddress } from "viem";

import { parseIgnitionJournal } from "../sdk/deployment.js";

/** The repository root (this file lives in indexer/; Ponder's vite-node sets no import.meta.dirname). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A setting that is missing or malformed; names the variable. */
export class IndexerSettingsError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "IndexerSettingsError";
  }
}

/** The suite's contracts and the first block that can hold their events. */
export interface SuiteAddresses {
  dataSafe: `0x${string}`;
  dataCatalog: `0x${string}`;
  keyDirectory: `0x${string}`;
  accessManager: `0x${string}`;
  startBlock: number;
}

/** The Ignition future ids of the suite's contracts (deploy/modules). */
const FUTURE_IDS = {
  dataSafe: "DataSafe#DataSafe",
  dataCatalog: "DataCatalog#DataCatalog",
  keyDirectory: "KeyDirectory#KeyDirectory",
  accessManager: "Governance#DataSafeAccessManager",
} as const;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") throw new IndexerSettingsError(name, "is not set");
  return value.trim();
}

function address(variable: string, value: unknown, what: string): `0x${string}` {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) {
    throw new IndexerSettingsError(variable, `${what} is not an address: ${JSON.stringify(value)}`);
  }
  return getAddress(value);
}

/**
 * The suite's addresses: from `DATASAFE_DEPLOYMENT_DIR` (an Ignition deployment folder; its journal
 * gives each contract's creation block, the earliest is the start block) or `DATASAFE_ADDRESSES`
 * (JSON `{dataSafe, dataCatalog, keyDirectory, accessManager, startBlock}`).
 */
export function suiteAddresses(env: NodeJS.ProcessEnv = process.env): SuiteAddresses {
  const dir = env.DATASAFE_DEPLOYMENT_DIR?.trim();
  if (dir) {
    const journal = path.join(path.resolve(dir), "journal.jsonl");
    let text: string;
    try {
      text = readFileSync(journal, "utf8");
    } catch (error) {
      throw new IndexerSettingsError("DATASAFE_DEPLOYMENT_DIR", `cannot read ${journal}: ${(error as Error).message}`);
    }
    const deployment = parseIgnitionJournal(text, journal);
    const found = Object.fromEntries(
      Object.entries(FUTURE_IDS).map(([key, futureId]) => {
        const contract = deployment.contracts[futureId];
        if (contract === undefined) {
          throw new IndexerSettingsError("DATASAFE_DEPLOYMENT_DIR", `${journal} created no ${futureId}`);
        }
        return [key, contract];
      }),
    ) as Record<keyof typeof FUTURE_IDS, { address: string; blockNumber: number }>;
    return {
      dataSafe: getAddress(found.dataSafe.address),
      dataCatalog: getAddress(found.dataCatalog.address),
      keyDirectory: getAddress(found.keyDirectory.address),
      accessManager: getAddress(found.accessManager.address),
      startBlock: Math.min(...Object.values(found).map((contract) => contract.blockNumber)),
    };
  }
  const json = env.DATASAFE_ADDRESSES?.trim();
  if (!json) {
    throw new IndexerSettingsError("DATASAFE_DEPLOYMENT_DIR", "neither it nor DATASAFE_ADDRESSES is set");
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new IndexerSettingsError("DATASAFE_ADDRESSES", "is not JSON");
  }
  const startBlock = parsed.startBlock ?? 0;
  if (typeof startBlock !== "number" || !Number.isSafeInteger(startBlock) || startBlock < 0) {
    throw new IndexerSettingsError("DATASAFE_ADDRESSES", `startBlock is not a block number: ${String(startBlock)}`);
  }
  return {
    dataSafe: address("DATASAFE_ADDRESSES", parsed.dataSafe, "dataSafe"),
    dataCatalog: address("DATASAFE_ADDRESSES", parsed.dataCatalog, "dataCatalog"),
    keyDirectory: address("DATASAFE_ADDRESSES", parsed.keyDirectory, "keyDirectory"),
    accessManager: address("DATASAFE_ADDRESSES", parsed.accessManager, "accessManager"),
    startBlock,
  };
}

/** The chain: `DATASAFE_RPC_URL`, `DATASAFE_CHAIN_ID`, and the polling interval. */
export function chainSettings(env: NodeJS.ProcessEnv = process.env): {
  id: number;
  rpc: string;
  pollingInterval: number;
  ethGetLogsBlockRange: number | undefined;
} {
  const rpc = required(env, "DATASAFE_RPC_URL");
  const id = Number(required(env, "DATASAFE_CHAIN_ID"));
  if (!Number.isSafeInteger(id) || id <= 0) throw new IndexerSettingsError("DATASAFE_CHAIN_ID", "is not a chain id");
  // Hardhat (31337) and the besuLike test network (1337) mine a block per transaction: poll often so
  // tests and the demo see a block within a fraction of a second. A Besu QBFT network makes a block
  // every few seconds (blockperiodseconds, 2 s in ops/): a 1 s poll sees each block once or twice.
  const pollingInterval = Number(env.DATASAFE_POLLING_MS ?? (id === 31337 || id === 1337 ? 200 : 1_000));
  if (!Number.isSafeInteger(pollingInterval) || pollingInterval < 100) {
    throw new IndexerSettingsError("DATASAFE_POLLING_MS", "must be an integer of at least 100 (ms)");
  }
  // Ponder finds a capped node's range from its error message (Besu's "exceeds maximum RPC range
  // limit" included); DATASAFE_LOGS_RANGE sets it up front and saves the failed first requests.
  const range = env.DATASAFE_LOGS_RANGE === undefined ? undefined : Number(env.DATASAFE_LOGS_RANGE);
  if (range !== undefined && (!Number.isSafeInteger(range) || range < 1)) {
    throw new IndexerSettingsError("DATASAFE_LOGS_RANGE", "must be a positive integer (blocks)");
  }
  return { id, rpc, pollingInterval, ethGetLogsBlockRange: range };
}

/**
 * The database: PostgreSQL at `DATABASE_URL`, else embedded PGlite in `DATASAFE_INDEXER_DIR`
 * (default indexer/.ponder) / pglite.
 */
export function databaseSettings(
  env: NodeJS.ProcessEnv = process.env,
): { kind: "postgres"; connectionString: string } | { kind: "pglite"; directory: string } {
  const url = env.DATABASE_URL?.trim();
  if (url) return { kind: "postgres", connectionString: url };
  const dir = env.DATASAFE_INDEXER_DIR?.trim();
  return {
    kind: "pglite",
    directory: path.join(dir ? path.resolve(dir) : path.join(REPO_ROOT, "indexer", ".ponder"), "pglite"),
  };
}

/** Path of the alert rules file: `DATASAFE_ALERT_RULES`, else indexer/alert-rules.default.json. */
export function alertRulesPath(env: NodeJS.ProcessEnv = process.env): string {
  const file = env.DATASAFE_ALERT_RULES?.trim();
  return file ? path.resolve(file) : path.join(REPO_ROOT, "indexer", "alert-rules.default.json");
}

/** sha256 of the rules file's bytes: part of Ponder's build id, so changing the rules means a reindex. */
export function alertRulesDigest(env: NodeJS.ProcessEnv = process.env): string {
  const file = alertRulesPath(env);
  try {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch (error) {
    throw new IndexerSettingsError("DATASAFE_ALERT_RULES", `cannot read ${file}: ${(error as Error).message}`);
  }
}
