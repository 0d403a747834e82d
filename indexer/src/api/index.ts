/*
 * The supervision API, served by the indexer's own process (Ponder's HTTP server): the embedded
 * database can be opened by one process only, and this way the API reads the very rows the indexer
 * writes, through Ponder's read-only handle (on PostgreSQL a connection pool whose sessions are
 * `READ ONLY`). Routes: ./app.ts; sign-in: ./auth.ts; SQL: ./queries.ts; documented in
 * indexer/README.md § API.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

import { db, publicClients } from "ponder:api";
import type { SQL } from "ponder";

import { alertRulesPath, chainSettings, suiteAddresses } from "../../settings.js";
import { loadAlertRules } from "../alerts-rules.js";
import { createSupervisionApp } from "./app.js";
import { Auth, authChainOf } from "./auth.js";
import type { Row } from "./queries.js";

const chain = chainSettings();
const suite = suiteAddresses();
const client = publicClients.datasafe;

const secret = process.env.DATASAFE_SESSION_SECRET?.trim() || randomBytes(32).toString("hex");
const auth = new Auth(authChainOf(client, chain.id, suite.dataSafe), {
  secret,
  domain: process.env.DATASAFE_SIWE_DOMAIN?.trim() || undefined,
});

const rulesFile = alertRulesPath();

const app = createSupervisionApp({
  run: async (query: SQL) => ((await db.execute(query)) as unknown as { rows: Row[] }).rows,
  auth,
  chainId: chain.id,
  startBlock: suite.startBlock,
  head: async () => {
    const block = await client.getBlock({ blockTag: "latest" });
    return { number: Number(block.number), timestamp: Number(block.timestamp) };
  },
  blockTime: async (blockNumber) => Number((await client.getBlock({ blockNumber: BigInt(blockNumber) })).timestamp),
  alertRules: () => loadAlertRules(rulesFile),
  dashboardDir: fileURLToPath(new URL("../../../dashboard", import.meta.url)),
});

export default app;
