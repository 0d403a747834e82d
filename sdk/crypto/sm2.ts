import { sm2, sm4 } from "sm-crypto-v2";

import { concat, fromHex, randomBytes, toHex } from "./bytes.js";
import { DecryptionError, InvalidKeyError } from "./errors.js";
import { ENVELOPE_LABEL, HEADER_LENGTH, bytesArgument, checkEnvelope, headerOf } from "./envelope.js";
import { KeySuite, type CipherSuite, type KeyPair } from "./types.js";

/** Order n of the SM2 recommended curve (GB/T 32918.5). */
const SM2_ORDER = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
/** Public key x || y. */
const PUBLIC_KEY_LENGTH = 64;
const PRIVATE_KEY_LENGTH = 32;
/** SM4 key, the plaintext that SM2 encrypts. */
const DATA_KEY_LENGTH = 16;
/** SM2 ciphertext C1 || C3 || C2 of the data key: point (64), SM3 digest (32), the key xored (16). */
const SM2_CIPHERTEXT_LENGTH = PUBLIC_KEY_LENGTH + 32 + DATA_KEY_LENGTH;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
/** sm-crypto-v2's order of the SM2 ciphertext fields: 1 = C1 C3 C2, the current standard's. */
const C1C3C2 = 1;

/** Recipients remembered for the precomputation below; a gateway seals to a few members over and over. */
const RECIPIENT_CACHE_SIZE = 256;

const CIPHERTEXT_START = HEADER_LENGTH + SM2_CIPHERTEXT_LENGTH + NONCE_LENGTH;
const MIN_ENVELOPE_LENGTH = CIPHERTEXT_START + TAG_LENGTH;

/**
 * The national suite. SM2 public-key encryption (GB/T 32918.4) wraps a fresh 128-bit SM4 key; SM4-GCM
 * (GB/T 32907 in GCM, as RFC 8998 uses it) encrypts the payload. SM2 alone has no associated data, runs
 * its SM3 key stream over the whole message, and checks integrity only by a hash of the plaintext; the
 * hybrid binds the caller's `aad` and the SM2 part to an authenticated stream cipher.
 *
 * Envelope: version (1) | suite (1) | C1 (64) | C3 (32) | C2 (16) | nonce (12) | ciphertext | tag (16).
 * The SM4-GCM associated data is the domain label, the envelope up to the nonce, then `aad`.
 * Overhead: 142 bytes.
 */
export const sm2Suite: CipherSuite = {
  suite: KeySuite.Sm2,
  name: "SM2-SM3-SM4GCM",

  async generateKeyPair(): Promise<KeyPair> {
    for (;;) {
      const pair = sm2.generateKeyPairHex();
      const privateKey = fromHex(pair.privateKey);
      // sm-crypto-v2 draws d from [1, n - 1]; GB/T 32918 keys stop at n - 2.
      if (scalarOf(privateKey) > SM2_ORDER - 2n) continue;
      return { suite: KeySuite.Sm2, publicKey: fromHex(pair.publicKey.slice(2)), privateKey };
    }
  },

  async publicKeyOf(privateKey: Uint8Array): Promise<Uint8Array> {
    return fromHex(sm2.getPublicKeyFromPrivateKey(privateKeyHex(privateKey)).slice(2));
  },

  async seal(recipient: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const publicKey = recipientPoint(recipient);
    const data = bytesArgument("plaintext", plaintext);
    const bound = bytesArgument("aad", aad);
    const dataKey = randomBytes(DATA_KEY_LENGTH);
    const nonce = randomBytes(NONCE_LENGTH);
    const wrapped = fromHex(sm2.doEncrypt(dataKey, publicKey, C1C3C2));
    const head = concat(headerOf(KeySuite.Sm2), wrapped);
    const { output, tag } = sm4.encrypt(data, dataKey, {
      mode: "gcm",
      iv: nonce,
      associatedData: concat(ENVELOPE_LABEL, head, bound),
      output: "array",
      outputTag: true,
    });
    return concat(head, nonce, output, tag ?? new Uint8Array(0));
  },

  async open(privateKey: Uint8Array, envelope: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const scalar = privateKeyHex(privateKey);
    checkEnvelope(envelope, KeySuite.Sm2, MIN_ENVELOPE_LENGTH);
    const bound = bytesArgument("aad", aad);
    const head = envelope.subarray(0, HEADER_LENGTH + SM2_CIPHERTEXT_LENGTH);
    const nonce = envelope.subarray(head.length, CIPHERTEXT_START);
    const ciphertext = envelope.subarray(CIPHERTEXT_START, envelope.length - TAG_LENGTH);
    const tag = envelope.subarray(envelope.length - TAG_LENGTH);

    let dataKey: Uint8Array;
    try {
      // doDecrypt returns an empty array when C3 does not match; a C1 off the curve throws.
      dataKey = sm2.doDecrypt(toHex(head.subarray(HEADER_LENGTH)), scalar, C1C3C2, { output: "array" });
    } catch (error) {
      throw new DecryptionError("authentication", { details: "SM2 C1 is not a curve point", cause: error });
    }
    if (dataKey.length !== DATA_KEY_LENGTH) {
      throw new DecryptionError("authentication", {
        details: "SM2 C3 does not match: another key or a changed C1/C2/C3",
      });
    }
    try {
      return sm4.decrypt(ciphertext, dataKey, {
        mode: "gcm",
        iv: nonce,
        tag,
        associatedData: concat(ENVELOPE_LABEL, head, bound),
        output: "array",
      });
    } catch (error) {
      throw new DecryptionError("authentication", { details: "SM4-GCM tag does not match", cause: error });
    }
  },
};

type Recipient = string | ReturnType<typeof sm2.precomputePublicKey>;

/** Recently used recipients: `uses` so far, and the precomputed point once there is a second use. */
const recipients = new Map<string, { uses: number; point?: Recipient }>();

/**
 * The recipient in the form sm-crypto-v2 encrypts to. From its second use on, a public key's
 * multiples are precomputed (~10 ms once), which makes each later SM2 encryption to it about
 * nine times faster (the ephemeral k*G already uses the library's precomputed base point).
 */
function recipientPoint(publicKey: Uint8Array): Recipient {
  const hex = publicKeyHex(publicKey);
  const seen = recipients.get(hex);
  recipients.delete(hex); // re-inserted below: Map order is least recently used first
  const entry = { uses: (seen?.uses ?? 0) + 1, point: seen?.point };
  if (entry.uses >= 2 && entry.point === undefined) entry.point = sm2.precomputePublicKey(hex, 4);
  recipients.set(hex, entry);
  if (recipients.size > RECIPIENT_CACHE_SIZE) recipients.delete(recipients.keys().next().value as string);
  return entry.point ?? hex;
}

/** `04 || x || y` hex of a valid SM2 public key, or InvalidKeyError. */
function publicKeyHex(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new InvalidKeyError(KeySuite.Sm2, "publicKey", `an SM2 public key is ${PUBLIC_KEY_LENGTH} bytes, x || y`, {
      details: publicKey instanceof Uint8Array ? `got ${publicKey.length} bytes` : `got ${typeof publicKey}`,
    });
  }
  const hex = "04" + toHex(publicKey);
  let onCurve: boolean;
  try {
    onCurve = sm2.verifyPublicKey(hex);
  } catch {
    onCurve = false;
  }
  if (!onCurve) throw new InvalidKeyError(KeySuite.Sm2, "publicKey", "not a point of the SM2 curve");
  return hex;
}

/** Hex of a valid SM2 private key (1 <= d <= n - 2), or InvalidKeyError. */
function privateKeyHex(privateKey: Uint8Array): string {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== PRIVATE_KEY_LENGTH) {
    throw new InvalidKeyError(KeySuite.Sm2, "privateKey", `an SM2 private key is ${PRIVATE_KEY_LENGTH} bytes`, {
      details: privateKey instanceof Uint8Array ? `got ${privateKey.length} bytes` : `got ${typeof privateKey}`,
    });
  }
  const d = scalarOf(privateKey);
  if (d < 1n || d > SM2_ORDER - 2n) {
    throw new InvalidKeyError(KeySuite.Sm2, "privateKey", "out of range: an SM2 private key is in [1, n - 2]");
  }
  return toHex(privateKey);
}

function scalarOf(bytes: Uint8Array): bigint {
  return BigInt("0x" + toHex(bytes));
}
