import pg from "pg";

import type { PayloadStore, ReleaseRow, StoredPayload } from "./store.js";

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
 * share the database.
 */
export class PostgresStore implements PayloadStore {
  readonly kind = "postgres";
  readonly #pool: pg.Pool;

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

  async recordRelease(r: ReleaseRow): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `INSERT INTO releases (access_id, asset_id, consumer, transaction_hash, block_number, released_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (access_id) DO NOTHING`,
      [r.accessId, r.assetId, r.consumer, r.transactionHash, r.blockNumber, r.releasedAt],
    );
    return rowCount === 1;
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
