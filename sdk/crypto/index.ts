/**
 * Encryption to a recipient's public key, the way datasafe delivers payloads: one small interface,
 * two suites (the default HPKE over X25519, the national SM2/SM3/SM4), self-describing envelopes.
 *
 * @example
 * const bank = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
 * const envelope = await sealTo(bank, record, accessId);        // `aad`: what the envelope is for
 * const plaintext = await openWith(bank, envelope, accessId);   // DecryptionError on any change
 */
import { knownSuite } from "./envelope.js";
import { x25519Hpke } from "./hpke.js";
import { sm2Suite } from "./sm2.js";
import { KeySuite, type CipherSuite, type KeyPair, type PublicKey } from "./types.js";

export { KeySuite, type CipherSuite, type KeyPair, type PublicKey } from "./types.js";
export { DecryptionError, InvalidKeyError, UnsupportedSuiteError, type DecryptionFailure } from "./errors.js";
export { ENVELOPE_VERSION, envelopeHeader, type EnvelopeHeader } from "./envelope.js";

const SUITES = { [KeySuite.X25519Hpke]: x25519Hpke, [KeySuite.Sm2]: sm2Suite } as const;

/**
 * The cipher suite numbered `suite` (the on-chain `KeyDirectory` enum).
 * @throws UnsupportedSuiteError for `KeySuite.None` or a number this SDK does not implement.
 */
export function cipherSuite(suite: number): CipherSuite {
  return SUITES[knownSuite(suite)];
}

/**
 * Encrypts `plaintext` to `recipient` under the recipient's suite.
 * @param aad bytes the envelope is bound to (e.g. the access id); `openWith` needs the same.
 * @returns the envelope: version byte, suite byte, the suite's fields.
 */
export function sealTo(recipient: PublicKey, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
  return cipherSuite(recipient.suite).seal(recipient.publicKey, plaintext, aad);
}

/**
 * Decrypts an envelope sealed to `keyPair` (only its `suite` and `privateKey` are read).
 * @throws DecryptionError if the envelope, the key or the aad is not the one sealed.
 */
export function openWith(keyPair: KeyPair, envelope: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
  return cipherSuite(keyPair.suite).open(keyPair.privateKey, envelope, aad);
}
