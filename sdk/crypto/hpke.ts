import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite as HpkeSuite, DhkemX25519HkdfSha256, EncapError, HkdfSha256 } from "@hpke/core";

import { concat, fromBase64Url, fromHex } from "./bytes.js";
import { DecryptionError, InvalidKeyError } from "./errors.js";
import { ENVELOPE_LABEL, HEADER_LENGTH, bytesArgument, checkEnvelope, headerOf } from "./envelope.js";
import { KeySuite, type CipherSuite, type KeyPair } from "./types.js";

/** X25519 public and private keys are 32 bytes (RFC 7748); so is `enc`. */
const X25519_KEY_LENGTH = 32;
/** DER of a PKCS #8 X25519 private key up to the 32 key bytes (RFC 8410). */
const PKCS8_X25519_PREFIX = fromHex("302e020100300506032b656e04220420");
/** Poly1305 tag. */
const TAG_LENGTH = 16;
/** version | suite | enc (32) | ChaCha20-Poly1305 ciphertext and tag. */
const MIN_ENVELOPE_LENGTH = HEADER_LENGTH + X25519_KEY_LENGTH + TAG_LENGTH;

/**
 * The RFC 9180 suite of Appendix A.2: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
 * X25519 and HKDF run on WebCrypto (native in Node); ChaCha20-Poly1305 on hpke-js's @noble/ciphers.
 */
export const hpkeSuite = new HpkeSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});

/** A key as hpke-js holds it (a WebCrypto `CryptoKey`). */
type HpkeKey = Awaited<ReturnType<typeof hpkeSuite.kem.deserializePublicKey>>;

/** HPKE `info` of datasafe envelopes: the domain label then the header, so both are in the key schedule. */
const ENVELOPE_INFO = concat(ENVELOPE_LABEL, headerOf(KeySuite.X25519Hpke));

/**
 * HPKE single-shot base-mode Seal (RFC 9180 §6.1) with this module's suite. `ekm` fixes the ephemeral
 * key material, which only the RFC's test vectors need.
 * @internal exported for the test vectors; use `cipherSuite(KeySuite.X25519Hpke).seal`.
 */
export async function hpkeSeal(
  recipient: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  info: Uint8Array,
  ekm?: Uint8Array,
): Promise<{ enc: Uint8Array; ciphertext: Uint8Array }> {
  const recipientPublicKey = await importPublicKey(recipient);
  try {
    const sealed = await hpkeSuite.seal(
      { recipientPublicKey, info, ekm: ekm && (await hpkeSuite.kem.deriveKeyPair(ekm)) },
      plaintext,
      aad,
    );
    return { enc: new Uint8Array(sealed.enc), ciphertext: new Uint8Array(sealed.ct) };
  } catch (error) {
    // DHKEM fails encapsulation only when the shared secret is all zero: a low-order public key.
    if (error instanceof EncapError) {
      throw new InvalidKeyError(KeySuite.X25519Hpke, "publicKey", "X25519 key of low order", { cause: error });
    }
    throw error;
  }
}

/**
 * HPKE single-shot base-mode Open (RFC 9180 §6.1) with this module's suite.
 * @internal exported for the test vectors; use `cipherSuite(KeySuite.X25519Hpke).open`.
 */
export async function hpkeOpen(
  privateKey: Uint8Array,
  enc: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  info: Uint8Array,
): Promise<Uint8Array> {
  const recipientKey = await importPrivateKey(privateKey);
  try {
    return new Uint8Array(await hpkeSuite.open({ recipientKey, enc, info }, ciphertext, aad));
  } catch (error) {
    // DecapError (an `enc` of low order or not a key) or OpenError (the tag): both mean the envelope,
    // the key or the aad is not the one sealed.
    throw new DecryptionError("authentication", { cause: error });
  }
}

/**
 * The default suite: HPKE base mode to an X25519 key. Envelope: version (1) | suite (1) | enc (32) |
 * ciphertext with its 16-byte tag. Overhead: 50 bytes.
 */
export const x25519Hpke: CipherSuite = {
  suite: KeySuite.X25519Hpke,
  name: "HPKE-X25519-SHA256-ChaCha20Poly1305",

  async generateKeyPair(): Promise<KeyPair> {
    const pair = await hpkeSuite.kem.generateKeyPair();
    return {
      suite: KeySuite.X25519Hpke,
      publicKey: new Uint8Array(await hpkeSuite.kem.serializePublicKey(pair.publicKey)),
      privateKey: new Uint8Array(await hpkeSuite.kem.serializePrivateKey(pair.privateKey)),
    };
  },

  async publicKeyOf(privateKey: Uint8Array): Promise<Uint8Array> {
    checkLength(privateKey, "privateKey");
    // A private JWK carries its public half; hpke-js keeps its imported keys non-extractable.
    const key = await crypto.subtle.importKey("pkcs8", concat(PKCS8_X25519_PREFIX, privateKey), "X25519", true, [
      "deriveBits",
    ]);
    const { x } = await crypto.subtle.exportKey("jwk", key);
    return fromBase64Url(x ?? "");
  },

  async seal(recipient: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const { enc, ciphertext } = await hpkeSeal(
      recipient,
      bytesArgument("plaintext", plaintext),
      bytesArgument("aad", aad),
      ENVELOPE_INFO,
    );
    return concat(headerOf(KeySuite.X25519Hpke), enc, ciphertext);
  },

  async open(privateKey: Uint8Array, envelope: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    checkLength(privateKey, "privateKey");
    checkEnvelope(envelope, KeySuite.X25519Hpke, MIN_ENVELOPE_LENGTH);
    const encEnd = HEADER_LENGTH + X25519_KEY_LENGTH;
    return hpkeOpen(
      privateKey,
      envelope.subarray(HEADER_LENGTH, encEnd),
      envelope.subarray(encEnd),
      bytesArgument("aad", aad),
      ENVELOPE_INFO,
    );
  },
};

async function importPublicKey(publicKey: Uint8Array): Promise<HpkeKey> {
  checkLength(publicKey, "publicKey");
  try {
    return await hpkeSuite.kem.deserializePublicKey(publicKey);
  } catch (error) {
    throw new InvalidKeyError(KeySuite.X25519Hpke, "publicKey", "not an X25519 public key", { cause: error });
  }
}

async function importPrivateKey(privateKey: Uint8Array): Promise<HpkeKey> {
  checkLength(privateKey, "privateKey");
  try {
    return await hpkeSuite.kem.deserializePrivateKey(privateKey);
  } catch (error) {
    throw new InvalidKeyError(KeySuite.X25519Hpke, "privateKey", "not an X25519 private key", { cause: error });
  }
}

function checkLength(key: Uint8Array, which: "publicKey" | "privateKey"): void {
  if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_LENGTH) {
    throw new InvalidKeyError(KeySuite.X25519Hpke, which, `an X25519 key is ${X25519_KEY_LENGTH} bytes`, {
      details: key instanceof Uint8Array ? `got ${key.length} bytes` : `got ${typeof key}`,
    });
  }
}
