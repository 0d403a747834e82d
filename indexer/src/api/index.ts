/*
 * The supervision API, served by the indexer's own process (Ponder's HTTP server): the embedded
 * database can be opened by one process only, and this way the API reads the very rows the indexer
 * writes, through Ponder's read-only handle (on PostgreSQL a connection pool whose sessions are
 * `READ ONLY`). Routes: ./app.ts; sign-in: ./auth.ts; SQL: ./queries.ts; documented in
 * indexer/README.md § API.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

import type { IncomingMessage } from "node:http";

import { client as sqlOverHttp } from "ponder";
import { db, publicClients } from "ponder:api";
import schema from "ponder:schema";

import { alertRulesPath, chainSettings, suiteAddresses } from "../../settings.js";
import { loadAlertRules } from "../alerts-rules.js";
import { createSupervisionApp } from "./app.js";
import { Auth, authChainOf } from "./auth.js";
import { type Row, type SQL, useIndexerSchema } from "./queries.js";

const chain = chainSettings();
const suite = suiteAddresses();
const client = publicClients.datasafe;

const secret = process.env.DATASAFE_SESSION_SECRET?.trim() || randomBytes(32).toString("hex");
const auth = new Auth(authChainOf(client, chain.id, suite.dataSafe), {
  secret,
  domain: process.env.DATASAFE_SIWE_DOMAIN?.trim() || undefined,
});

const rulesFile = alertRulesPath();

// The indexer's tables by their schema-qualified names (why: queries.ts, `useIndexerSchema`).
const indexerSchema =
  (globalThis as { PONDER_NAMESPACE_BUILD?: { schema?: string } }).PONDER_NAMESPACE_BUILD?.schema ??
  process.env.DATABASE_SCHEMA?.trim();
if (!indexerSchema) throw new Error("the API cannot tell the indexer's schema (Ponder's --schema)");
useIndexerSchema(indexerSchema);

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

/*
 * Ponder's read-only SQL-over-HTTP endpoint (what `@ponder/client` and the indexer's tests query)
 * reads every table with no session: it answers loopback clients only, so that the regulators'
 * access control above is the only way in from the network.
 */
app.use("/sql/*", async (c, next) => {
  const remote = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress ?? "";
  if (!/^(127\.|::1$|::ffff:127\.)/.test(remote)) return c.json({ code: "not-found" }, 404);
  return next();
});
app.use("/sql/*", sqlOverHttp({ db, schema }));

export default app;
