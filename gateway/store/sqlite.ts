import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

import { GroupCommit } from "./group-commit.js";
import { SqliteReleaseWriter } from "./sqlite-writer.js";
import type { PayloadStore, ReleaseRow, StoredPayload } from "./store.js";

/**
 * The embedded store: SQLite through Node's built-in `node:sqlite`, in WAL mode with
 * `synchronous=FULL`, so every committed release row is on disk before its response is sent and a
 * killed process loses nothing it acknowledged. Several gateway processes may share the file:
 * SQLite serialises their writers (`BEGIN IMMEDIATE`, waiting up to `busy_timeout`), and the primary
 * key on the access id decides which one's release row exists. Release rows, the hot write, are
 * group-committed (one transaction, one WAL fsync, for the rows that arrived meanwhile; see
 * group-commit.ts) on a thread of their own (sqlite-writer.ts), so a slow fsync stalls no request;
 * the rest (reads, uploads, holder nonces) are synchronous calls on this thread.
 */
export class SqliteStore implements PayloadStore {
  readonly kind = "sqlite";
  readonly #db: DatabaseSync;
  #statements: ReturnType<typeof prepare> | undefined;
  readonly #writer: SqliteReleaseWriter;
  readonly #releases: GroupCommit<ReleaseRow>;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#writer = new SqliteReleaseWriter(file);
    this.#releases = new GroupCommit<ReleaseRow>((rows) => this.#writer.write(rows));
  }

  async init(): Promise<void> {
    // The busy timeout first: other processes may be opening the same file.
    this.#db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS payloads (
        asset_id    TEXT PRIMARY KEY,
        issuer      TEXT NOT NULL,
        subject_id  TEXT NOT NULL,
        data_type   INTEGER NOT NULL,
        key_id      TEXT NOT NULL,
        iv          BLOB NOT NULL,
        sealed      BLOB NOT NULL,
        uploaded_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS releases (
        access_id        TEXT PRIMARY KEY,
        asset_id         TEXT NOT NULL,
        consumer         TEXT NOT NULL,
        transaction_hash TEXT NOT NULL,
        block_number     INTEGER NOT NULL,
        released_at      INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS fetch_nonces (
        signer     TEXT NOT NULL,
        nonce      TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (signer, nonce)
      ) STRICT;
      CREATE INDEX IF NOT EXISTS fetch_nonces_expiry ON fetch_nonces (expires_at);
    `);
    this.#statements = prepare(this.#db);
  }

  get #sql() {
    if (this.#statements === undefined) throw new Error("SqliteStore used before init()");
    return this.#statements;
  }

  async putPayload(p: StoredPayload): Promise<"created" | "existing"> {
    const { changes } = this.#sql.putPayload.run(
      p.assetId,
      p.issuer,
      p.subjectId,
      p.dataType,
      p.keyId,
      p.iv,
      p.sealed,
      p.uploadedAt,
    );
    return changes === 1 ? "created" : "existing";
  }

  async getPayload(assetId: string): Promise<StoredPayload | undefined> {
    const row = this.#sql.getPayload.get(assetId) as Record<string, unknown> | undefined;
    if (row === undefined) return undefined;
    return {
      assetId: row.asset_id as string,
      issuer: row.issuer as string,
      subjectId: row.subject_id as string,
      dataType: Number(row.data_type),
      keyId: row.key_id as string,
      iv: Buffer.from(row.iv as Uint8Array),
      sealed: Buffer.from(row.sealed as Uint8Array),
      uploadedAt: Number(row.uploaded_at),
    };
  }

  async isReleased(accessId: string): Promise<boolean> {
    return this.#sql.isReleased.get(accessId) !== undefined;
  }

  recordRelease(r: ReleaseRow): Promise<boolean> {
    return this.#releases.submit(r);
  }

  async useNonce(signer: string, nonce: string, expiresAt: number): Promise<boolean> {
    return this.#sql.useNonce.run(signer, nonce, expiresAt).changes === 1;
  }

  async purgeNonces(now: number): Promise<number> {
    return Number(this.#sql.purgeNonces.run(now).changes);
  }

  async close(): Promise<void> {
    await this.#writer.close();
    if (this.#db.isOpen) this.#db.close();
  }
}

function prepare(db: DatabaseSync): Record<string, StatementSync> {
  return {
    putPayload: db.prepare(
      `INSERT INTO payloads (asset_id, issuer, subject_id, data_type, key_id, iv, sealed, uploaded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id) DO NOTHING`,
    ),
    getPayload: db.prepare(`SELECT * FROM payloads WHERE asset_id = ?`),
    isReleased: db.prepare(`SELECT 1 FROM releases WHERE access_id = ?`),
    useNonce: db.prepare(
      `INSERT INTO fetch_nonces (signer, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT (signer, nonce) DO NOTHING`,
    ),
    purgeNonces: db.prepare(`DELETE FROM fetch_nonces WHERE expires_at < ?`),
  };
}
