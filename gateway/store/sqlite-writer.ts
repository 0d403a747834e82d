import { Worker } from "node:worker_threads";

import type { ReleaseRow } from "./store.js";

/**
 * The thread that commits release rows to the SQLite file. `node:sqlite` is synchronous, and a
 * durable commit waits for an fsync of the WAL: measured 0.3 ms on this machine when its disk is
 * quiet and 3-4 ms while other work writes to it. On the event loop that wait stops every request
 * of the process; on this thread, with its own connection, it stops nothing else, and the rows
 * that arrive meanwhile form the next batch (see group-commit.ts).
 *
 * The thread's code is plain JavaScript evaluated from a string (`eval: true`): it needs neither
 * the TypeScript loader nor a file beside the compiled gateway, and it is short enough to read here.
 * Each batch is one `BEGIN IMMEDIATE … COMMIT` with `synchronous = FULL` (a per-connection setting,
 * so set on this connection too); its answer is, per row, whether the row was inserted.
 */
const WRITER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(workerData.file);
db.exec("PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;");
const begin = db.prepare("BEGIN IMMEDIATE");
const commit = db.prepare("COMMIT");
const rollback = db.prepare("ROLLBACK");
const insert = db.prepare(
  "INSERT INTO releases (access_id, asset_id, consumer, transaction_hash, block_number, released_at) " +
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (access_id) DO NOTHING",
);
parentPort.on("message", (message) => {
  if (message.type === "close") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    begin.run();
    try {
      const written = message.rows.map(
        (r) => insert.run(r.accessId, r.assetId, r.consumer, r.transactionHash, r.blockNumber, r.releasedAt).changes === 1,
      );
      commit.run();
      parentPort.postMessage({ id: message.id, written });
    } catch (error) {
      if (db.isTransaction) rollback.run();
      throw error;
    }
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String((error && error.message) || error) });
  }
});
`;

type Answer = { id: number; written: boolean[] } | { id: number; error: string };

/** A release row batch could not be committed (the database's reason). */
export class SqliteWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SqliteWriteError";
  }
}

/** Commits batches of release rows on a thread of its own. */
export class SqliteReleaseWriter {
  readonly #file: string;
  #worker: Worker | undefined;
  #next = 0;
  readonly #waiting = new Map<number, { resolve(written: boolean[]): void; reject(error: Error): void }>();

  constructor(file: string) {
    this.#file = file;
  }

  /** Inserts the rows in one durable transaction; per row, whether it was inserted. */
  write(rows: ReleaseRow[]): Promise<boolean[]> {
    const worker = this.#started();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ type: "write", id, rows });
    });
  }

  /** Ends the thread once its batches are answered (a store closes when no request is in flight). */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    this.#worker = undefined;
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.postMessage({ type: "close" });
    await exited;
  }

  #started(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(WRITER_SOURCE, { eval: true, workerData: { file: this.#file } });
    worker.on("message", (answer: Answer) => {
      const waiting = this.#waiting.get(answer.id);
      if (waiting === undefined) return;
      this.#waiting.delete(answer.id);
      if ("error" in answer) waiting.reject(new SqliteWriteError(answer.error));
      else waiting.resolve(answer.written);
    });
    // A thread that died (it could not open the file, …) fails what it was given; the next write
    // starts a new one.
    const fail = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [id, waiting] of this.#waiting) {
        this.#waiting.delete(id);
        waiting.reject(new SqliteWriteError(`the SQLite writer thread stopped: ${error.message}`));
      }
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`exit code ${code}`)));
    this.#worker = worker;
    return worker;
  }
}
