/*
 * The indexer as its users start it (`npm run indexer -- --port P`, settings in the environment),
 * in its own process group, and the two ways the tests read its tables: PostgreSQL directly (pg),
 * and the embedded PGlite directory opened with @electric-sql/pglite (the version Ponder bundles)
 * once the indexer has stopped, since a PGlite directory has one process at a time.
 */
import path from "node:path";

import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

import { type ProcessSet, type Started, freePort, stop, waitFor } from "../helpers/processes.js";

export type IndexerDatabase = { kind: "pglite"; dir: string } | { kind: "postgres"; url: string };

export interface IndexerOptions {
  name: string;
  rpcUrl: string;
  deploymentDir: string;
  database: IndexerDatabase;
  /** Ponder's schema (DATABASE_SCHEMA). */
  schema: string;
  rulesFile?: string;
  logsRange?: number;
}

/** Ponder's /status: the last indexed block per chain. */
interface PonderStatus {
  datasafe?: { id: number; block: { number: number; timestamp: number } | null };
}

export class IndexerProcess {
  readonly url: string;
  #current: Started | undefined;
  readonly #processes: ProcessSet;
  readonly #options: IndexerOptions;
  readonly #log: string;
  #startedAt = 0;

  private constructor(processes: ProcessSet, options: IndexerOptions, port: number) {
    this.#processes = processes;
    this.#options = options;
    this.url = `http://127.0.0.1:${port}`;
    this.#log = processes.logFile(options.name);
  }

  static async start(processes: ProcessSet, options: IndexerOptions): Promise<IndexerProcess> {
    const indexer = new IndexerProcess(processes, options, await freePort());
    indexer.launch();
    return indexer;
  }

  /** Starts the process (again), with the same settings and port. */
  launch(): void {
    const { database, rpcUrl, deploymentDir, schema, rulesFile, logsRange } = this.#options;
    this.#startedAt = Date.now();
    this.#current = this.#processes.start(
      "npm",
      ["run", "--silent", "indexer", "--", "--port", new URL(this.url).port],
      this.#log,
      {
        DATASAFE_RPC_URL: rpcUrl,
        DATASAFE_CHAIN_ID: "1337",
        DATASAFE_DEPLOYMENT_DIR: deploymentDir,
        DATASAFE_ADDRESSES: undefined,
        DATABASE_URL: database.kind === "postgres" ? database.url : undefined,
        DATABASE_PRIVATE_URL: undefined,
        DATASAFE_INDEXER_DIR: database.kind === "pglite" ? database.dir : undefined,
        DATABASE_SCHEMA: schema,
        DATASAFE_ALERT_RULES: rulesFile,
        DATASAFE_LOGS_RANGE: logsRange === undefined ? undefined : String(logsRange),
        DATASAFE_POLLING_MS: "100",
      },
    );
  }

  /** What the process printed, for failure messages. */
  output(): string {
    return this.#current?.output() ?? "";
  }

  #died(): string | undefined {
    const child = this.#current?.child;
    if (child === undefined || (child.exitCode === null && child.signalCode === null)) return undefined;
    return `indexer ${this.#options.name} exited (${child.exitCode ?? child.signalCode}):\n${this.output().slice(-4000)}`;
  }

  /** The last block Ponder has indexed, or undefined before it serves. */
  async indexedBlock(): Promise<number | undefined> {
    const response = await fetch(`${this.url}/status`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
    const status = (await response.json()) as PonderStatus;
    return status.datasafe?.block?.number ?? undefined;
  }

  /** Waits until /ready answers 200 (backfill done) and /status reaches `block`; returns ms since launch. */
  async waitIndexed(block: number, timeoutMs = 180_000): Promise<number> {
    await waitFor(
      `indexer ${this.#options.name} at block ${block}`,
      async () => {
        const ready = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(2_000) });
        if (ready.status !== 200) return undefined;
        const indexed = await this.indexedBlock();
        return indexed !== undefined && indexed >= block ? true : undefined;
      },
      timeoutMs,
      100,
      () => this.#died(),
    ).catch((error: Error) => {
      const tail = this.output().split("\n").slice(-30).join("\n");
      throw new Error(`${error.message}\n--- ${this.#options.name} output (end) ---\n${tail}`);
    });
    return Date.now() - this.#startedAt;
  }

  /** Ends it: SIGTERM (Ponder closes its database) or SIGKILL (nothing flushed, a crash). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.#current !== undefined) await stop(this.#current.child, signal);
  }
}

/** Reads an indexer's tables: `rows(sql)` with unqualified table names resolved in its schema. */
export interface TableReader {
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function openTables(database: IndexerDatabase, schema: string): Promise<TableReader> {
  if (database.kind === "postgres") {
    // int8 as numbers (block numbers and times fit), as PGlite gives them.
    const client = new pg.Client({
      connectionString: database.url,
      types: {
        getTypeParser: ((oid: number, format: "text" | "binary") =>
          oid === 20 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    await client.connect();
    await client.query(`SET search_path TO "${schema}"`);
    return {
      rows: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
      close: () => client.end(),
    };
  }
  const db = new PGlite(path.join(database.dir, "pglite"));
  await db.query(`SET search_path TO "${schema}"`);
  return {
    rows: async <T>(sql: string, params: unknown[] = []) =>
      (await db.query<Record<string, unknown>>(sql, params)).rows.map(
        (row) =>
          Object.fromEntries(
            Object.entries(row).map(([key, value]) => [key, typeof value === "bigint" ? Number(value) : value]),
          ) as T,
      ),
    close: () => db.close(),
  };
}
