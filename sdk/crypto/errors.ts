import { DataSafeError, type DataSafeErrorOptions } from "../errors.js";
import type { KeySuite } from "./types.js";

/** Why an envelope did not open. */
export type DecryptionFailure =
  /** Shorter than the smallest envelope of its suite, or cut inside a field. */
  | "malformed"
  /** The first byte names an envelope version this SDK does not read. */
  | "version"
  /** The envelope was sealed for another suite than the key's. */
  | "suite"
  /** The key does not open it, the aad differs, or a byte was changed. */
  | "authentication";

/**
 * An envelope did not open: it was changed, sealed to another key, bound to another `aad`, or is
 * not an envelope at all. The plaintext is never returned in part.
 */
export class DecryptionError extends DataSafeError {
  readonly reason: DecryptionFailure;

  constructor(reason: DecryptionFailure, options: DataSafeErrorOptions = {}) {
    super(`the envelope did not open (${reason})`, options);
    this.name = "DecryptionError";
    this.reason = reason;
  }
}

/** A key suite that this SDK does not implement (e.g. `KeySuite.None`, or one read from a newer contract). */
export class UnsupportedSuiteError extends DataSafeError {
  /** The suite as it was given: a number or a name. */
  readonly suite: number | string;

  constructor(suite: number | string, options: DataSafeErrorOptions = {}) {
    super(`key suite ${suite} is not supported`, options);
    this.name = "UnsupportedSuiteError";
    this.suite = suite;
  }
}

/** A public or private key that is not a valid key of its suite (wrong length, not on the curve, out of range). */
export class InvalidKeyError extends DataSafeError {
  readonly suite: KeySuite;
  /** Which key was rejected. */
  readonly key: "publicKey" | "privateKey";

  constructor(
    suite: KeySuite,
    key: "publicKey" | "privateKey",
    shortMessage: string,
    options: DataSafeErrorOptions = {},
  ) {
    super(`${key}: ${shortMessage}`, options);
    this.name = "InvalidKeyError";
    this.suite = suite;
    this.key = key;
  }
}
