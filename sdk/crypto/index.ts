/**
 * Encryption to a recipient's public key, the way datasafe delivers payloads: one small interface,
 * two suites (the default HPKE over X25519, the national SM2/SM3/SM4), self-describing envelopes.
 *
 * Suites are named by the numbers of the on-chain `KeyDirectory` enum (`KeySuite` here) or by name
 * (`"X25519Hpke"`, `"Sm2"`, as `safe.keys` returns them); public keys are bytes or 0x-hex.
 *
 * @example
 * const bank = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
 * const envelope = await sealTo(bank, record, accessId);        // `aad`: what the envelope is for
 * const plaintext = await openWith(bank, envelope, accessId);   // DecryptionError on any change
 */
import { fromHex } from "./bytes.js";
import { knownSuite } from "./envelope.js";
import { InvalidKeyError } from "./errors.js";
import { x25519Hpke } from "./hpke.js";
import { sm2Suite } from "./sm2.js";
import { KeySuite, type CipherSuite, type KeySuiteName, type OpeningKey, type RecipientKey } from "./types.js";

export {
  KeySuite,
  type CipherSuite,
  type KeyPair,
  type KeySuiteName,
  type OpeningKey,
  type PublicKey,
  type RecipientKey,
} from "./types.js";
export { DecryptionError, InvalidKeyError, UnsupportedSuiteError, type DecryptionFailure } from "./errors.js";
export { ENVELOPE_VERSION, envelopeHeader, type EnvelopeHeader } from "./envelope.js";

const SUITES = { [KeySuite.X25519Hpke]: x25519Hpke, [KeySuite.Sm2]: sm2Suite } as const;

/**
 * The cipher suite numbered `suite` (the on-chain `KeyDirectory` enum) or so named.
 * @throws UnsupportedSuiteError for `KeySuite.None` or a suite this SDK does not implement.
 */
export function cipherSuite(suite: number | KeySuiteName): CipherSuite {
  return SUITES[knownSuite(suite)];
}

/**
 * Encrypts `plaintext` to `recipient` under the recipient's suite.
 * @param aad bytes the envelope is bound to (e.g. the access id); `openWith` needs the same.
 * @returns the envelope: version byte, suite byte, the suite's fields.
 */
export async function sealTo(recipient: RecipientKey, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
  const suite = knownSuite(recipient.suite);
  return SUITES[suite].seal(publicKeyBytes(suite, recipient.publicKey), plaintext, aad);
}

/**
 * Decrypts an envelope sealed to `keyPair` (only its `suite` and `privateKey` are read).
 * @throws DecryptionError if the envelope, the key or the aad is not the one sealed.
 */
export async function openWith(keyPair: OpeningKey, envelope: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
  return cipherSuite(keyPair.suite).open(keyPair.privateKey, envelope, aad);
}

function publicKeyBytes(suite: KeySuite, publicKey: Uint8Array | string): Uint8Array {
  if (typeof publicKey !== "string") return publicKey;
  if (!/^0x(?:[0-9a-fA-F]{2})*$/.test(publicKey)) {
    throw new InvalidKeyError(suite, "publicKey", "expected bytes or 0x-hex");
  }
  return fromHex(publicKey.slice(2));
}
