/**
 * Key suites, numbered as the on-chain `KeyDirectory` enum: a member's or a holder's encryption key
 * names its suite, and every envelope carries the number in its second byte.
 */
export enum KeySuite {
  /** No encryption key registered. */
  None = 0,
  /** HPKE (RFC 9180) base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305. The default. */
  X25519Hpke = 1,
  /** SM2 public-key encryption (GB/T 32918.4) of a fresh SM4-GCM key (GB/T 32907), SM3 (GB/T 32905) inside SM2. */
  Sm2 = 2,
}

/**
 * A suite by name, as the rest of the SDK reports enums (`safe.keys` returns `suite: "Sm2"`); the
 * crypto functions take a name or a number alike.
 */
export type KeySuiteName = keyof typeof KeySuite;

/**
 * A recipient as `sealTo` accepts it: a `PublicKey`, or a key as `safe.keys` returns it (suite by
 * name, public key as 0x-hex).
 */
export interface RecipientKey {
  suite: KeySuite | KeySuiteName;
  publicKey: Uint8Array | string;
}

/** A key pair as `openWith` accepts it; only the suite and the private key are read. */
export interface OpeningKey {
  suite: KeySuite | KeySuiteName;
  privateKey: Uint8Array;
}

/** A public encryption key and its suite, as read from chain. */
export interface PublicKey {
  suite: KeySuite;
  /** X25519: the 32-byte u-coordinate. SM2: 64 bytes, x || y (no `04` prefix). */
  publicKey: Uint8Array;
}

/** An encryption key pair. The private key never leaves its holder. */
export interface KeyPair extends PublicKey {
  /** X25519: the 32-byte scalar (RFC 7748). SM2: the 32-byte big-endian scalar d, 1 <= d <= n - 2. */
  privateKey: Uint8Array;
}

/** One way of encrypting to a recipient's public key; `cipherSuite(suite)` returns it. */
export interface CipherSuite {
  readonly suite: KeySuite;
  /** Human-readable name, e.g. `HPKE-X25519-SHA256-ChaCha20Poly1305`. */
  readonly name: string;
  /** A fresh key pair from the platform's CSPRNG. */
  generateKeyPair(): Promise<KeyPair>;
  /**
   * The public key of `privateKey`.
   * @throws InvalidKeyError if `privateKey` is not a key of this suite.
   */
  publicKeyOf(privateKey: Uint8Array): Promise<Uint8Array>;
  /**
   * Encrypts `plaintext` to `recipient` (this suite's public key bytes) into a self-describing
   * envelope: version byte, suite byte, then the suite's fields. `aad` (default empty) is bound to the
   * envelope but not carried in it: `open` needs the same bytes.
   * @throws InvalidKeyError if `recipient` is not a public key of this suite.
   */
  seal(recipient: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /**
   * Decrypts an envelope made by `seal` to the public key of `privateKey`, with the same `aad`.
   * @throws DecryptionError on any change to the envelope, another key, another aad.
   * @throws InvalidKeyError if `privateKey` is not a key of this suite.
   */
  open(privateKey: Uint8Array, envelope: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
}
