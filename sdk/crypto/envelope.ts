import { InvalidInputError } from "../errors.js";
import { DecryptionError, UnsupportedSuiteError } from "./errors.js";
import { KeySuite } from "./types.js";

/** Version of the envelope layout; the first byte of every envelope. */
export const ENVELOPE_VERSION = 1;

/** Bytes before the suite's own fields: version, suite. */
export const HEADER_LENGTH = 2;

/**
 * Domain label of datasafe envelopes. HPKE takes it (with the header) as `info`; the SM2 suite puts
 * it first in the SM4-GCM associated data. A ciphertext made for another protocol under the same key
 * therefore never opens as a datasafe envelope, nor the reverse. Typed as plain `Uint8Array`: the
 * inferred type is @types/node's `NodeJS.NonSharedUint8Array`, which the package's declarations
 * must not name (a consumer's @types/node may predate it).
 */
export const ENVELOPE_LABEL: Uint8Array = new TextEncoder().encode("datasafe/envelope");

/** The first two bytes of an envelope. */
export interface EnvelopeHeader {
  version: number;
  suite: number;
}

/**
 * Reads the version and suite of an envelope without opening it, e.g. to pick the key to open it with.
 * @throws DecryptionError (`malformed`) if it is shorter than a header.
 */
export function envelopeHeader(envelope: Uint8Array): EnvelopeHeader {
  if (!(envelope instanceof Uint8Array) || envelope.length < HEADER_LENGTH) {
    throw new DecryptionError("malformed", { details: "an envelope starts with a version byte and a suite byte" });
  }
  return { version: envelope[0], suite: envelope[1] };
}

/** The header bytes of an envelope of `suite`. */
export function headerOf(suite: KeySuite): Uint8Array {
  return Uint8Array.of(ENVELOPE_VERSION, suite);
}

/**
 * Checks that `envelope` is a version-1 envelope of `suite` at least `minLength` long; the suites call
 * it before touching any field.
 */
export function checkEnvelope(envelope: Uint8Array, suite: KeySuite, minLength: number): void {
  const header = envelopeHeader(envelope);
  if (header.version !== ENVELOPE_VERSION) {
    throw new DecryptionError("version", {
      details: `envelope version ${header.version}, this SDK reads version ${ENVELOPE_VERSION}`,
    });
  }
  if (header.suite !== suite) {
    throw new DecryptionError("suite", {
      details: `envelope sealed for suite ${header.suite}, the key is of suite ${suite} (${KeySuite[suite]})`,
    });
  }
  if (envelope.length < minLength) {
    throw new DecryptionError("malformed", {
      details: `${envelope.length} bytes, a suite ${suite} envelope has at least ${minLength}`,
    });
  }
}

const SUITE_NUMBERS: Record<string, KeySuite> = { X25519Hpke: KeySuite.X25519Hpke, Sm2: KeySuite.Sm2 };

/** Bytes of `value`, or throws InvalidInputError naming `field`. The default is the empty string. */
export function bytesArgument(field: string, value: Uint8Array | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (!(value instanceof Uint8Array)) throw new InvalidInputError(field, "expected a Uint8Array");
  return value;
}

/** The suite, by number or name, as a `KeySuite` this SDK implements, or UnsupportedSuiteError. */
export function knownSuite(suite: number | string): KeySuite.X25519Hpke | KeySuite.Sm2 {
  const number = typeof suite === "string" && Object.hasOwn(SUITE_NUMBERS, suite) ? SUITE_NUMBERS[suite] : suite;
  if (number === KeySuite.X25519Hpke || number === KeySuite.Sm2) return number;
  throw new UnsupportedSuiteError(suite, {
    details: `supported: ${KeySuite.X25519Hpke} (X25519Hpke), ${KeySuite.Sm2} (Sm2)`,
  });
}
