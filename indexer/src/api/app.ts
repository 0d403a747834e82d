import { existsSync } from "node:fs";

import { serveStatic } from "@hono/node-server/serve-static";
import { type Context, Hono } from "hono";
import { z } from "zod";

import {
  EXPORT_COLUMNS,
  EXPORT_DATASETS,
  EXPORT_FORMAT,
  type ExportDocument,
  SUPERVISION_ROUTES,
  exportCsv,
  exportDigest,
} from "../../../sdk/supervision.js";
import type { Auth, SessionClaims } from "./auth.js";
import { Refusal, invalidParameter, problemResponse } from "./problems.js";
import * as q from "./queries.js";

/**
 * The supervision API's routes (Hono, mounted in Ponder's server by ./index.ts): query parameters
 * validated at the edge (one zod schema per route; a bad one is a 400 naming it), sessions checked
 * by one middleware and scoped per route, every refusal mapped to `application/problem+json` in
 * `onError`. The dashboard's static files are served at `/` and `/dashboard/*` when present.
 */

export interface ApiDependencies {
  run: q.Run;
  auth: Auth;
  chainId: number;
  /** The suite's deployment block: the default start of an export. */
  startBlock: number;
  /** The chain's head block and a block's time, from the API's RPC client. */
  head: () => Promise<{ number: number; timestamp: number }>;
  blockTime: (blockNumber: number) => Promise<number>;
  alertRules: () => unknown;
  /** Folder of the dashboard's static files; served if it exists. */
  dashboardDir?: string;
}

type Env = { Variables: { session: SessionClaims } };

const MAX_LIMIT = 500;

const blockNumber = z
  .string()
  .regex(/^\d{1,15}$/, "expected a block number")
  .transform(Number);
const unixTime = z
  .string()
  .regex(/^\d{1,12}$/, "expected unix seconds")
  .transform(Number);
const smallInt = (max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, "expected a non-negative integer")
    .transform(Number)
    .refine((n) => n <= max, `at most ${max}`);
const addressParam = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "expected an address")
  .transform((a) => a.toLowerCase());
const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "expected 32 bytes as 0x-hex")
  .transform((h) => h.toLowerCase() as `0x${string}`);
const page = {
  limit: smallInt(MAX_LIMIT)
    .refine((n) => n >= 1, "at least 1")
    .optional(),
  cursor: z.string().max(300).optional(),
  order: z.enum(["asc", "desc"]).optional(),
};
const blocks = { fromBlock: blockNumber.optional(), toBlock: blockNumber.optional() };

const TrailQuery = z.strictObject({ ...page, ...blocks });
const ReadsQuery = z.strictObject({
  ...page,
  ...blocks,
  consumer: addressParam.optional(),
  dataType: smallInt(2 ** 32 - 1).optional(),
  purpose: smallInt(65_535).optional(),
  issuer: addressParam.optional(),
  subjectId: bytes32.optional(),
});
const GrantsQuery = z.strictObject({
  ...page,
  subjectId: bytes32.optional(),
  consumer: addressParam.optional(),
  status: z.enum(["open", "revoked", "expired", "exhausted"]).optional(),
});
const RequestsQuery = z.strictObject({
  ...page,
  subjectId: bytes32.optional(),
  consumer: addressParam.optional(),
  status: z.enum(["pending", "approved", "rejected", "cancelled", "expired"]).optional(),
});
const GovernanceQuery = z.strictObject({ ...page, ...blocks, kind: z.string().max(64).optional() });
const StatsQuery = z.strictObject({
  by: z.enum(["consumer", "dataType", "purpose", "department", "day"]),
  fromTime: unixTime.optional(),
  toTime: unixTime.optional(),
});
const AlertsQuery = z.strictObject({ ...page, rule: z.string().max(64).optional(), since: unixTime.optional() });
const SearchQuery = z.strictObject({ q: z.string().trim().min(1).max(100) });
const ExportQuery = z.strictObject({
  dataset: z.enum(EXPORT_DATASETS),
  ...blocks,
  format: z.enum(["csv", "json"]).optional(),
});
const VerifyBody = z.strictObject({
  message: z.string().min(1).max(4_000),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/, "expected 0x-hex"),
  subjectId: bytes32.optional(),
});

export function createSupervisionApp(deps: ApiDependencies): Hono<Env> {
  const app = new Hono<Env>();
  const { run, auth } = deps;

  app.get(SUPERVISION_ROUTES.status, async (c) => {
    const [indexed, head] = await Promise.all([q.indexedHead(run), chainRead(deps.head)]);
    return c.json({
      chainId: deps.chainId,
      headBlock: head.number,
      indexedBlock: indexed.block,
      lagBlocks: Math.max(0, head.number - indexed.block),
      lagSeconds: Math.max(0, head.timestamp - indexed.timestamp),
      ready: indexed.ready,
    });
  });

  app.get(SUPERVISION_ROUTES.nonce, (c) => c.json(auth.issueNonce(originOf(c))));

  app.post(SUPERVISION_ROUTES.verify, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw invalidParameter("body", "expected a JSON object");
    }
    const input = parse(VerifyBody, body);
    return c.json(await auth.signIn({ ...input, signature: input.signature as `0x${string}` }, originOf(c)));
  });

  // Every other /api route needs a session.
  app.use("/api/*", async (c, next) => {
    if (c.req.path === SUPERVISION_ROUTES.status || c.req.path.startsWith("/api/auth/")) return next();
    c.set("session", await auth.authenticate(c.req.header("authorization")));
    return next();
  });

  app.get(SUPERVISION_ROUTES.trail, async (c) => {
    const subjectId = parse(z.object({ subjectId: bytes32 }), { subjectId: c.req.param("subjectId") }).subjectId;
    holderScope(c, subjectId);
    const query = parse(TrailQuery, c.req.query());
    const result = await q.reads(run, { subjectId, ...blockFilter(query) }, pageOf(query));
    return c.json(pageBody(result));
  });

  app.get(SUPERVISION_ROUTES.reads, async (c) => {
    regulatorOnly(c);
    const query = parse(ReadsQuery, c.req.query());
    const { consumer, dataType, purpose, issuer, subjectId } = query;
    const result = await q.reads(
      run,
      { consumer, dataType, purpose, issuer, subjectId, ...blockFilter(query) },
      pageOf(query),
    );
    return c.json(pageBody(result));
  });

  app.get(SUPERVISION_ROUTES.grants, async (c) => {
    const query = parse(GrantsQuery, c.req.query());
    holderScope(c, query.subjectId);
    const now = (await q.indexedHead(run)).timestamp;
    const result = await q.grants(run, query, now, pageOf(query));
    return c.json(pageBody(result));
  });

  app.get(SUPERVISION_ROUTES.requests, async (c) => {
    const query = parse(RequestsQuery, c.req.query());
    holderScope(c, query.subjectId);
    const now = (await q.indexedHead(run)).timestamp;
    const result = await q.requests(run, query, now, pageOf(query));
    return c.json(pageBody(result));
  });

  app.get(SUPERVISION_ROUTES.governance, async (c) => {
    regulatorOnly(c);
    const query = parse(GovernanceQuery, c.req.query());
    const result = await q.governance(run, { ...blockFilter(query), kind: query.kind }, pageOf(query));
    return c.json(pageBody(result));
  });

  app.get(SUPERVISION_ROUTES.stats, async (c) => {
    regulatorOnly(c);
    const query = parse(StatsQuery, c.req.query());
    return c.json(await q.stats(run, query.by, query));
  });

  app.get(SUPERVISION_ROUTES.alerts, async (c) => {
    regulatorOnly(c);
    const query = parse(AlertsQuery, c.req.query());
    return c.json(pageBody(await q.alerts(run, query, pageOf(query))));
  });

  app.get(SUPERVISION_ROUTES.alertRules, (c) => {
    regulatorOnly(c);
    return c.json(deps.alertRules());
  });

  app.get(SUPERVISION_ROUTES.search, async (c) => {
    regulatorOnly(c);
    const { q: text } = parse(SearchQuery, c.req.query());
    const needle = text.toLowerCase();
    if (!/^0x([0-9a-f]{40}|[0-9a-f]{64})$/.test(needle)) {
      throw invalidParameter("q", "expected a subject, asset, grant or access id (32 bytes) or an address");
    }
    const found = await q.search(run, needle);
    if (found === undefined) throw new Refusal("no-match", `nothing indexed is ${text}`);
    return c.json(found);
  });

  app.get(SUPERVISION_ROUTES.export, async (c) => {
    regulatorOnly(c);
    const query = parse(ExportQuery, c.req.query());
    const indexed = await q.indexedHead(run);
    const fromBlock = query.fromBlock ?? deps.startBlock;
    const toBlock = query.toBlock ?? indexed.block;
    if (fromBlock > toBlock) throw invalidParameter("fromBlock", `${fromBlock} is after toBlock ${toBlock}`);
    // A range past the indexed head would be exported incomplete, and differ when exported again.
    if (toBlock > indexed.block) {
      throw new Refusal("range-not-indexed", `toBlock ${toBlock} is past the indexed block ${indexed.block}`, {
        indexedBlock: indexed.block,
      });
    }
    const toTime = await chainRead(() => deps.blockTime(toBlock));
    let rows;
    try {
      rows = await q.exportRows(run, query.dataset, { fromBlock, toBlock, toTime });
    } catch (error) {
      if (error instanceof q.ExportTooLarge) {
        throw invalidParameter("toBlock", `the range holds more than ${q.EXPORT_ROW_LIMIT} rows: export it in parts`);
      }
      throw error;
    }
    const meta = { chainId: deps.chainId, dataset: query.dataset, fromBlock, toBlock };
    const digest = exportDigest(meta, rows);
    c.header("X-Datasafe-Block-Range", `${fromBlock}-${toBlock}`);
    c.header("X-Datasafe-Digest", digest);
    c.header("X-Datasafe-Rows", String(rows.length));
    const name = `datasafe-${query.dataset}-${fromBlock}-${toBlock}`;
    if (query.format === "csv") {
      c.header("content-disposition", `attachment; filename="${name}.csv"`);
      return c.body(exportCsv(query.dataset, rows), 200, { "content-type": "text/csv; charset=utf-8" });
    }
    const document: ExportDocument = {
      format: EXPORT_FORMAT,
      ...meta,
      columns: [...EXPORT_COLUMNS[query.dataset]],
      digest,
      rows,
    };
    c.header("content-disposition", `attachment; filename="${name}.json"`);
    return c.json(document);
  });

  app.all("/api/*", (c) => {
    throw new Refusal("not-found", `${c.req.method} ${c.req.path}`);
  });

  if (deps.dashboardDir !== undefined && existsSync(deps.dashboardDir)) {
    const root = deps.dashboardDir;
    app.get("/", serveStatic({ root, path: "index.html" }));
    app.get(
      "/dashboard/*",
      serveStatic({ root, rewriteRequestPath: (path) => path.replace(/^\/dashboard/, "") || "/index.html" }),
    );
  }

  app.onError((error, c) => {
    const refusal = error instanceof Refusal ? error : new Refusal("internal-error", "the API failed; see its log");
    if (refusal.status >= 500)
      console.error(JSON.stringify({ event: "refusal", code: refusal.code, route: c.req.path, error: String(error) }));
    return problemResponse(refusal, c.req.path);
  });

  return app;
}

/** The validated value, or a 400 naming the first parameter at fault. */
function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name =
    issue.code === "unrecognized_keys" ? (issue.keys[0] ?? "query") : issue.path.map(String).join(".") || "query";
  const detail = issue.code === "unrecognized_keys" ? "unknown parameter" : issue.message;
  throw invalidParameter(name, detail);
}

function pageOf(query: { limit?: number; cursor?: string; order?: "asc" | "desc" }): q.PageRequest {
  const order = query.order ?? "asc";
  return {
    limit: query.limit ?? 100,
    order,
    cursor: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
  };
}

function pageBody<T>(result: { items: T[]; next: q.Cursor | null }) {
  return { items: result.items, nextCursor: result.next === null ? null : encodeCursor(result.next) };
}

function blockFilter(query: { fromBlock?: number; toBlock?: number }) {
  return { fromBlock: query.fromBlock, toBlock: query.toBlock };
}

/** A cursor is the last row's sort key, base64url JSON: opaque to callers, checked on the way back. */
function encodeCursor(cursor: q.Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(text: string): q.Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      (Number.isSafeInteger(value[1]) || (typeof value[1] === "string" && /^[0-9a-z:x-]{1,200}$/.test(value[1])))
    ) {
      return value as q.Cursor;
    }
  } catch {
    // refused below
  }
  throw new Refusal("invalid-cursor", "pass back the nextCursor of the previous page", { parameter: "cursor" });
}

function regulatorOnly(c: Context<Env>): void {
  if (c.get("session").role !== "regulator") throw new Refusal("regulator-only");
}

/** A regulator sees every subject; a holder only its own (and must name it). */
function holderScope(c: Context<Env>, subjectId: string | undefined): void {
  const session = c.get("session");
  if (session.role === "regulator") return;
  if (subjectId === undefined || subjectId.toLowerCase() !== session.subjectId?.toLowerCase()) {
    throw new Refusal("not-your-subject", "a holder's session sees its own subject only: pass subjectId");
  }
}

function originOf(c: Context): { host: string; origin: string } {
  const url = new URL(c.req.url);
  const host = c.req.header("host") ?? url.host;
  return { host, origin: `${url.protocol}//${host}` };
}

async function chainRead<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new Refusal("chain-unavailable", (error as Error).message.split("\n")[0]);
  }
}
