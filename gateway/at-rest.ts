import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

import { getBytes } from "ethers";

/**
 * Payloads at rest: AES-256-GCM under the gateway's key, a fresh 96-bit IV per payload, the asset id
 * as additional data. A row moved to another asset, a flipped byte anywhere in the IV, ciphertext
 * or tag, or a key other than the one that sealed it fails authentication on read: the payload is
 * reported corrupt and never served.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload sealed at rest. */
export interface SealedAtRest {
  iv: Buffer;
  /** Ciphertext followed by the 16-byte GCM tag. */
  sealed: Buffer;
  /** Which key sealed it (see `keyIdOf`). */
  keyId: string;
}

/** The stored payload failed authentication. */
export class AtRestIntegrityError extends Error {
  constructor(
    readonly assetId: string,
    reason: string,
  ) {
    super(`stored payload of ${assetId} failed its integrity check: ${reason}`);
    this.name = "AtRestIntegrityError";
  }
}

/** An identifier of a key that reveals nothing of it: the first 8 bytes of a domain-separated SHA-256. */
export function keyIdOf(key: Uint8Array): string {
  return createHash("sha256").update("datasafe-gateway-at-rest-key:v1").update(key).digest("hex").slice(0, 16);
}

/** Seals and opens payloads with one 32-byte key. */
export class AtRestCipher {
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError("the at-rest key must be 32 bytes");
    this.#key = Buffer.from(key);
    this.keyId = keyIdOf(key);
  }

  seal(assetId: string, plaintext: Uint8Array): SealedAtRest {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(getBytes(assetId));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { iv, sealed, keyId: this.keyId };
  }

  /** @throws AtRestIntegrityError if the row does not authenticate under this key and asset id */
  open(assetId: string, row: SealedAtRest): Buffer {
    if (row.keyId !== this.keyId) throw new AtRestIntegrityError(assetId, `sealed under key ${row.keyId}`);
    if (row.iv.length !== IV_BYTES || row.sealed.length < TAG_BYTES)
      throw new AtRestIntegrityError(assetId, "truncated");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, row.iv);
    decipher.setAAD(getBytes(assetId));
    decipher.setAuthTag(row.sealed.subarray(row.sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(row.sealed.subarray(0, row.sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new AtRestIntegrityError(assetId, "authentication failed");
    }
  }
}
