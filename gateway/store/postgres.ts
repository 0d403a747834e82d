import pg from "pg";

import { GroupCommit } from "./group-commit.js";
import type { PayloadStore, ReleaseRow, StoredPayload } from "./store.js";

/** Release batches written at once per process; more rows wait and form the next batch. */
const RELEASE_BATCHES_IN_FLIGHT = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS payloads (
    asset_id    TEXT PRIMARY KEY,
    issuer      TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    data_type   INTEGER NOT NULL,
    key_id      TEXT NOT NULL,
    iv          BYTEA NOT NULL,
    sealed      BYTEA NOT NULL,
    uploaded_at BIGINT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS releases (
    access_id        TEXT PRIMARY KEY,
    asset_id         TEXT NOT NULL,
    consumer         TEXT NOT NULL,
    transaction_hash TEXT NOT NULL,
    block_number     BIGINT NOT NULL,
    released_at      BIGINT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS fetch_nonces (
    signer     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (signer, nonce)
  );
  CREATE INDEX IF NOT EXISTS fetch_nonces_expiry ON fetch_nonces (expires_at);
`;

/**
 * The production store: PostgreSQL through `pg`'s pool. Each write is one statement
 * (`INSERT … ON CONFLICT DO NOTHING`), atomic and durable at commit; the primary key on
 * the access id makes a second release of the same read impossible however many gateway processes
 * share the database. Release rows are group-committed (see group-commit.ts): the rows that arrive
 * while a batch is being written go in one multi-row insert, and `RETURNING` names the ones written.
 */
export class PostgresStore implements PayloadStore {
  readonly kind = "postgres";
  readonly #pool: pg.Pool;
  readonly #releases = new GroupCommit<ReleaseRow>((rows) => this.#writeReleases(rows), RELEASE_BATCHES_IN_FLIGHT);

  constructor(url: string, poolSize: number) {
    this.#pool = new pg.Pool({ connectionString: url, max: poolSize });
    // An idle client losing its connection must not crash the process: the next query reconnects.
    this.#pool.on("error", () => undefined);
  }

  async init(): Promise<void> {
    // Several gateway processes may start together: one migrates at a time.
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(hashtext('datasafe-gateway-schema'))");
      await client.query(SCHEMA);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async putPayload(p: StoredPayload): Promise<"created" | "existing"> {
    const { rowCount } = await this.#pool.query(
      `INSERT INTO payloads (asset_id, issuer, subject_id, data_type, key_id, iv, sealed, uploaded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (asset_id) DO NOTHING`,
      [p.assetId, p.issuer, p.subjectId, p.dataType, p.keyId, p.iv, p.sealed, p.uploadedAt],
    );
    return rowCount === 1 ? "created" : "existing";
  }

  async getPayload(assetId: string): Promise<StoredPayload | undefined> {
    const { rows } = await this.#pool.query(`SELECT * FROM payloads WHERE asset_id = $1`, [assetId]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      assetId: row.asset_id,
      issuer: row.issuer,
      subjectId: row.subject_id,
      dataType: Number(row.data_type),
      keyId: row.key_id,
      iv: row.iv,
      sealed: row.sealed,
      uploadedAt: Number(row.uploaded_at),
    };
  }

  async isReleased(accessId: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(`SELECT 1 FROM releases WHERE access_id = $1`, [accessId]);
    return rowCount === 1;
  }

  recordRelease(r: ReleaseRow): Promise<boolean> {
    return this.#releases.submit(r);
  }

  /** One statement (one transaction) for a batch of release rows of distinct accesses. */
  async #writeReleases(rows: ReleaseRow[]): Promise<boolean[]> {
    const { rows: written } = await this.#pool.query<{ access_id: string }>(
      `INSERT INTO releases (access_id, asset_id, consumer, transaction_hash, block_number, released_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
       ON CONFLICT (access_id) DO NOTHING RETURNING access_id`,
      [
        rows.map((r) => r.accessId),
        rows.map((r) => r.assetId),
        rows.map((r) => r.consumer),
        rows.map((r) => r.transactionHash),
        rows.map((r) => r.blockNumber),
        rows.map((r) => r.releasedAt),
      ],
    );
    const ids = new Set(written.map((row) => row.access_id));
    return rows.map((r) => ids.has(r.accessId));
  }

  async useNonce(signer: string, nonce: string, expiresAt: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `INSERT INTO fetch_nonces (signer, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT (signer, nonce) DO NOTHING`,
      [signer, nonce, expiresAt],
    );
    return rowCount === 1;
  }

  async purgeNonces(now: number): Promise<number> {
    const { rowCount } = await this.#pool.query(`DELETE FROM fetch_nonces WHERE expires_at < $1`, [now]);
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
