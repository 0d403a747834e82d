/*
 * The indexer's Ponder configuration: one chain (DATASAFE_RPC_URL / DATASAFE_CHAIN_ID), the four
 * deployed contracts of the suite from their deployment block, and a block clock for the alert
 * rule that looks for missing outcomes. Settings come from the environment (indexer/settings.ts,
 * indexer/README.md).
 *
 * Finality: Ponder 0.16 has no finality setting; it treats the last 30 blocks of any chain id it
 * does not know (31337, 1337, a Besu network's id) as reorganisable. On hardhat that is how deep a
 * reorg it follows. On Besu QBFT a block is final once sealed, so the 30-block window only means
 * the newest 30 blocks' rows are also journalled for a reorg that never comes (indexer/README.md).
 */
import { createConfig } from "ponder";

import { accessManagerAbi, dataCatalogAbi, dataSafeAbi, keyDirectoryAbi } from "./abis.js";
import { alertRulesDigest, chainSettings, databaseSettings, suiteAddresses } from "./settings.js";

const chain = chainSettings();
const suite = suiteAddresses();

/**
 * Ponder's build id hashes the contracts' configuration: carrying the rules' digest here makes a
 * change of rules a different app, which Ponder refuses to resume into an old schema, so the
 * alerts are always those of one rules file (changing rules = reindex into a fresh schema).
 */
const dataSafe = {
  chain: "datasafe",
  abi: dataSafeAbi,
  address: suite.dataSafe,
  startBlock: suite.startBlock,
  alertRulesDigest: alertRulesDigest(),
} as const;

/** Blocks between two evaluations of time-based alert rules when no event arrives. */
export const ALERT_CLOCK_INTERVAL = 100;

export default createConfig({
  database: databaseSettings(),
  chains: {
    datasafe: {
      id: chain.id,
      rpc: chain.rpc,
      pollingInterval: chain.pollingInterval,
      ethGetLogsBlockRange: chain.ethGetLogsBlockRange,
    },
  },
  contracts: {
    DataSafe: dataSafe,
    DataCatalog: { chain: "datasafe", abi: dataCatalogAbi, address: suite.dataCatalog, startBlock: suite.startBlock },
    KeyDirectory: {
      chain: "datasafe",
      abi: keyDirectoryAbi,
      address: suite.keyDirectory,
      startBlock: suite.startBlock,
    },
    AccessManager: {
      chain: "datasafe",
      abi: accessManagerAbi,
      address: suite.accessManager,
      startBlock: suite.startBlock,
    },
  },
  blocks: {
    AlertClock: { chain: "datasafe", startBlock: suite.startBlock, interval: ALERT_CLOCK_INTERVAL },
  },
});
