import type { SealedAtRest } from "../at-rest.js";

/**
 * Where the gateway keeps what must survive a restart: the sealed payloads, one row per access
 * served (the row that makes a recorded read release its data exactly once), and the holder fetch
 * nonces until their deadline. Two implementations, one contract: node:sqlite (embedded, the
 * default) and PostgreSQL (a server, for production), run by the same tests.
 */

/** A payload as stored: indexing columns in clear (ids the chain shows anyway) and the sealed body. */
export interface StoredPayload extends SealedAtRest {
  assetId: string;
  issuer: string;
  subjectId: string;
  dataType: number;
  /** Unix milliseconds of the first upload. */
  uploadedAt: number;
}

/** One access served to its consumer. */
export interface ReleaseRow {
  accessId: string;
  assetId: string;
  consumer: string;
  transactionHash: string;
  blockNumber: number;
  /** Unix milliseconds. */
  releasedAt: number;
}

export interface PayloadStore {
  /** `"sqlite"` or `"postgres"`, for logs and health. */
  readonly kind: string;

  /** Creates the tables if missing; safe on every start. */
  init(): Promise<void>;

  /**
   * Stores a payload unless one is stored for the asset already.
   * @returns `"created"`, or `"existing"` (the stored row is left as it is)
   */
  putPayload(payload: StoredPayload): Promise<"created" | "existing">;

  /** The stored payload of an asset. */
  getPayload(assetId: string): Promise<StoredPayload | undefined>;

  /** Whether an access was served (a cheap refusal before any work; `recordRelease` decides). */
  isReleased(accessId: string): Promise<boolean>;

  /**
   * Writes the row of a served access, atomically and durably, unless one exists.
   * @returns true if this call wrote it (the release may go out), false if the access was served already
   */
  recordRelease(release: ReleaseRow): Promise<boolean>;

  /**
   * Remembers a holder fetch nonce until `expiresAt` (unix seconds).
   * @returns true the first time, false if the signer used the nonce already
   */
  useNonce(signer: string, nonce: string, expiresAt: number): Promise<boolean>;

  /** Forgets nonces whose deadline passed before `now` (unix seconds). */
  purgeNonces(now: number): Promise<number>;

  close(): Promise<void>;
}
