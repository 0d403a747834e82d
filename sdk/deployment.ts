import { getAddress } from "ethers";

import { DeploymentRecordError } from "./errors.js";
import type { Address } from "./types.js";

/**
 * Where a deployment starts, from the folder Hardhat Ignition writes
 * (`deploy/deployments/<deployment id>/`): its `journal.jsonl` records every transaction receipt,
 * with the block each contract was created in. No history of the suite's contracts lies before
 * that block, so the trail is read from there instead of from block 0. Plain file reading: no
 * Hardhat runtime is needed.
 */

/** A contract an Ignition deployment created. */
export interface DeployedContract {
  address: Address;
  /** The block of its creation. */
  blockNumber: number;
}

/** What an Ignition journal says about a deployment. */
export interface IgnitionDeployment {
  /** The chain it was deployed on. */
  chainId: number;
  /** The contracts it created, by Ignition future id (e.g. `DataSafe#DataSafe`). */
  contracts: Record<string, DeployedContract>;
  /** Where the journal was read from, for errors. */
  source: string;
}

/** The future ids of the suite's modules (deploy/modules), as `ignition deploy` records them. */
export const SUITE_FUTURE_IDS = {
  dataSafe: "DataSafe#DataSafe",
  catalog: "DataCatalog#DataCatalog",
  keyDirectory: "KeyDirectory#KeyDirectory",
} as const;

interface JournalEntry {
  type?: unknown;
  futureId?: unknown;
  chainId?: unknown;
  receipt?: { blockNumber?: unknown; contractAddress?: unknown };
}

/**
 * Reads a deployment from an Ignition journal's text (JSON lines).
 * @param journal the content of `journal.jsonl`
 * @param source where it was read, for errors
 * @throws DeploymentRecordError if a line is not JSON or the journal has no chain id
 */
export function parseIgnitionJournal(journal: string, source = "journal.jsonl"): IgnitionDeployment {
  let chainId: number | undefined;
  const contracts: Record<string, DeployedContract> = {};
  journal.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch (error) {
      throw new DeploymentRecordError(source, `line ${index + 1} is not JSON`, { cause: error });
    }
    if (entry.type === "DEPLOYMENT_INITIALIZE" && typeof entry.chainId === "number") chainId = entry.chainId;
    const receipt = entry.receipt;
    // A confirmed creation: the last confirmation of a future wins (a resent transaction replaces a dropped one).
    if (
      entry.type === "TRANSACTION_CONFIRM" &&
      typeof entry.futureId === "string" &&
      typeof receipt?.contractAddress === "string" &&
      typeof receipt.blockNumber === "number"
    ) {
      contracts[entry.futureId] = { address: getAddress(receipt.contractAddress), blockNumber: receipt.blockNumber };
    }
  });
  if (chainId === undefined) throw new DeploymentRecordError(source, "no DEPLOYMENT_INITIALIZE entry with a chain id");
  return { chainId, contracts, source };
}

/**
 * Reads the deployment in an Ignition deployment folder.
 * @param deploymentDir e.g. `deploy/deployments/chain-1337`
 * @throws DeploymentRecordError if the folder has no readable journal
 * @example const deployment = await readIgnitionDeployment("deploy/deployments/chain-1337");
 */
export async function readIgnitionDeployment(deploymentDir: string): Promise<IgnitionDeployment> {
  // Loaded here, not at the top, so that bundling the SDK for a browser does not need node:fs.
  const [{ readFile }, path] = await Promise.all([import("node:fs/promises"), import("node:path")]);
  const file = path.join(deploymentDir, "journal.jsonl");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new DeploymentRecordError(file, "cannot read the deployment journal", { cause: error });
  }
  return parseIgnitionJournal(text, file);
}

/**
 * The first block that can hold events of `addresses`: the earliest block in which the deployment
 * created one of them.
 * @throws DeploymentRecordError if the deployment did not create one of them
 * @example deploymentBlockOf(deployment, [safe.address, safe.catalogAddress])
 */
export function deploymentBlockOf(deployment: IgnitionDeployment, addresses: Address[]): number {
  const byAddress = new Map(Object.values(deployment.contracts).map((c) => [c.address.toLowerCase(), c.blockNumber]));
  const blocks = addresses.map((account) => {
    const block = byAddress.get(account.toLowerCase());
    if (block === undefined) {
      throw new DeploymentRecordError(deployment.source, `the deployment did not create ${account}`);
    }
    return block;
  });
  if (blocks.length === 0) throw new DeploymentRecordError(deployment.source, "no contract address given");
  return Math.min(...blocks);
}

/**
 * The suite's addresses and first block in a deployment.
 * @throws DeploymentRecordError if the deployment lacks the core or the catalog
 */
export function suiteOf(
  deployment: IgnitionDeployment,
  futureIds: { dataSafe: string; catalog: string; keyDirectory?: string } = SUITE_FUTURE_IDS,
): { address: Address; catalogAddress: Address; keyDirectoryAddress?: Address; fromBlock: number } {
  const core = deployment.contracts[futureIds.dataSafe];
  const catalog = deployment.contracts[futureIds.catalog];
  for (const [futureId, contract] of [
    [futureIds.dataSafe, core],
    [futureIds.catalog, catalog],
  ] as const) {
    if (contract === undefined) {
      throw new DeploymentRecordError(deployment.source, `no contract created for ${futureId}`, {
        details: `created: ${Object.keys(deployment.contracts).join(", ") || "none"}`,
      });
    }
  }
  // The key directory is optional: a deployment of the core alone has none.
  const keyDirectory = futureIds.keyDirectory === undefined ? undefined : deployment.contracts[futureIds.keyDirectory];
  return {
    address: core.address,
    catalogAddress: catalog.address,
    keyDirectoryAddress: keyDirectory?.address,
    fromBlock: Math.min(core.blockNumber, catalog.blockNumber),
  };
}
