/*
 * Placeholder of the query API (owned by supapi, who replaces this file): Ponder needs an API
 * file to start. It serves Ponder's read-only SQL-over-HTTP endpoint, which the indexer's tests use.
 */
import { db } from "ponder:api";
import schema from "ponder:schema";
import { Hono } from "hono";
import { client } from "ponder";

const app = new Hono();

app.use("/sql/*", client({ db, schema }));

export default app;
