/*
 * A chain for the bulk-issuance tests and benchmark: `hardhat node --network besuLike` on a free
 * port (each transaction automined), the suite deployed to it by Ignition over HTTP, a department
 * registered and authorised for two data types, and import files written from generated rows.
 * It imports neither Hardhat nor hardhat.config.ts: the benchmark runs it from a plain `tsx` process.
 */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { HDNodeWallet, type JsonRpcProvider, Wallet, keccak256, toUtf8Bytes } from "ethers";

import { DataSafeClient, type ImportColumn } from "../../sdk/index.js";
import { type HardhatNode, type NpxLauncher, ProcessSet, deploySuite, startHardhatNode } from "./processes.js";

/** Hardhat's development mnemonic: the accounts `hardhat node` funds. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
/** Account indices of deploy/parameters/localBesu.json's roles, and of the test's members. */
const MEMBER_ADMIN = 2;
const CATALOG_ADMIN = 3;
const DEPARTMENT = 6;
const OTHER_DEPARTMENT = 7;
/** Types the department may issue; `UNAUTHORISED_TYPE` is defined but authorised to the other department only. */
export const TYPES = [11, 12] as const;
export const UNAUTHORISED_TYPE = 13;

export interface BulkChain {
  url: string;
  provider: JsonRpcProvider;
  node: HardhatNode;
  deploymentDir: string;
  /** The suite, read-only. */
  safe: DataSafeClient;
  /** The department's key, on `provider`. */
  department: Wallet;
  /** Another department (authorised for `UNAUTHORISED_TYPE` only). */
  otherDepartment: Wallet;
  account(index: number): Wallet;
  stop(): Promise<void>;
}

/** Starts the node, deploys, registers the departments and the types. `processes` ends them. */
export async function startBulkChain(processes: ProcessSet, label: string): Promise<BulkChain> {
  const launch: NpxLauncher = (name, args, env) => processes.start("npx", args, processes.logFile(name), env);
  const node = await startHardhatNode(launch, { pollingInterval: 50, cacheTimeout: -1 });
  const deploymentId = `bulk-${label}-${process.pid}-${Date.now()}`;
  let deploymentDir: string | undefined;
  try {
    ({ deploymentDir } = await deploySuite(launch, node.url, deploymentId));
    const account = (index: number) =>
      new Wallet(HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey, node.provider);
    const safe = await DataSafeClient.fromDeployment(deploymentDir, node.provider);
    const department = account(DEPARTMENT);
    const otherDepartment = account(OTHER_DEPARTMENT);
    const admin = safe.connect(account(MEMBER_ADMIN));
    await (await admin.members.register({ account: department.address, kind: "Department", name: "Records" })).wait();
    await (
      await admin.members.register({ account: otherDepartment.address, kind: "Department", name: "Other" })
    ).wait();
    const catalog = safe.connect(account(CATALOG_ADMIN)).catalog;
    for (const dataType of [...TYPES, UNAUTHORISED_TYPE]) {
      await (await catalog.define({ dataType, name: `type-${dataType}`, schemaURI: "urn:bulk", schema: {} })).wait();
    }
    for (const dataType of TYPES) await (await catalog.authoriseIssuer(dataType, department.address)).wait();
    await (await catalog.authoriseIssuer(UNAUTHORISED_TYPE, otherDepartment.address)).wait();
    const dir = deploymentDir;
    return {
      url: node.url,
      provider: node.provider,
      node,
      deploymentDir,
      safe,
      department,
      otherDepartment,
      account,
      stop: async () => {
        await node.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await node.stop();
    if (deploymentDir !== undefined) rmSync(deploymentDir, { recursive: true, force: true });
    throw error;
  }
}

export type Record_ = Partial<Record<ImportColumn, string | number>>;

/** `count` distinct records of the department's types, from `seed` (other seeds, other assets). */
export function records(count: number, seed: string, validUntil = 0): Record_[] {
  return Array.from({ length: count }, (_, i) => ({
    subjectId: keccak256(toUtf8Bytes(`${seed}/subject/${i % 997}`)),
    dataType: TYPES[i % TYPES.length],
    contentCommitment: keccak256(toUtf8Bytes(`${seed}/record/${i}`)),
    payloadPointer: keccak256(toUtf8Bytes(`${seed}/payload/${i}`)),
    validUntil,
  }));
}

/** The CSV text of records (header from the first record's keys, or `columns`). */
export function csvOf(rows: Record_[], columns?: string[]): string {
  const header = columns ?? Object.keys(rows[0]);
  return [header.join(","), ...rows.map((r) => header.map((c) => String(r[c as ImportColumn] ?? "")).join(","))].join(
    "\n",
  );
}

/** The JSONL text of records. */
export function jsonlOf(rows: Record_[]): string {
  return rows.map((r) => JSON.stringify(r)).join("\n");
}

/** Writes `text` to `name` in `dir`; returns the path. */
export function writeInput(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
