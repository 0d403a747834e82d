import { createRequire } from "node:module";

import { dataSlice, getBytes, keccak256, recoverAddress } from "ethers";

/**
 * Who signed a 32-byte digest: secp256k1 public-key recovery, the one CPU cost every fetch pays.
 *
 * Recovery runs on libsecp256k1 through the `secp256k1` package's N-API binding (its prebuilt
 * linux/darwin/windows binaries ship inside the npm tarball; nothing is downloaded or compiled at
 * install): measured on this 2-core machine, 60-90 µs a recovery against 1.6-1.9 ms for ethers'
 * `recoverAddress` (pure JS @noble/curves 1.2), 1.6 ms for @noble/curves 2.4 with base-point
 * precomputation (recovery multiplies a point that is new each time) and 370 µs for
 * tiny-secp256k1's WASM. The binding is loaded by its path, `secp256k1/bindings`, never through the
 * package's index, which silently falls back to pure-JS elliptic when the binary does not load; if
 * it does not load here, recovery stays on ethers (same answers, slower) and the start-up log says so.
 *
 * The answers are ethers' for every input (the tests compare both on valid, malleated and invalid
 * signatures): `v` is read as ethers reads a 65-byte signature (0/27 and 1/28 are the two parities,
 * 35 and up an EIP-155 `v`, anything else is no signature); `r` and `s` must be in [1, n), and `s`
 * below 2^255 (ethers' "canonical s": the top bit is the parity bit of the 64-byte EIP-2098 form,
 * so a signature malleated to `n - s` is refused). Any other length is no signature.
 */

/** The part of the `secp256k1` package's API the gateway uses. */
interface NativeSecp256k1 {
  /** The uncompressed (65-byte) public key that signed `message` with `signature` (r ‖ s) and `recid`. */
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: false): Uint8Array;
}

/** Which implementation recovers signers in this process. */
export type SignatureBackend = "libsecp256k1 (native)" | "ethers (pure JS)";

const native: NativeSecp256k1 | undefined = loadNative();

/** The backend in use, for the start-up log. */
export const signatureBackend: SignatureBackend = native ? "libsecp256k1 (native)" : "ethers (pure JS)";

/**
 * The address whose key produced `signature` (65 bytes, r ‖ s ‖ v, as hex) over `digest`, in lower
 * case (no EIP-55 checksum: that is one more keccak per request), or undefined if it is not a valid
 * ECDSA signature of it.
 */
export function recoverSigner(digest: string, signature: string): string | undefined {
  if (native === undefined) return recoverWithEthers(digest, signature);
  // Node's hex decoder, after the shape is checked (ethers' `getBytes` parses hex a byte at a time).
  if (!SIGNATURE_HEX.test(signature) || !DIGEST_HEX.test(digest)) return undefined;
  const bytes = Buffer.from(signature.slice(2), "hex");
  const message = Buffer.from(digest.slice(2), "hex");
  if (bytes[32] & 0x80) return undefined;
  const recid = parityOf(bytes[64]);
  if (recid === undefined) return undefined;
  try {
    // Throws for r or s out of [1, n), or no point to recover: what ethers refuses too.
    const publicKey = native.ecdsaRecover(bytes.subarray(0, 64), recid, message, false);
    return dataSlice(keccak256(publicKey.subarray(1)), 12);
  } catch {
    return undefined;
  }
}

const SIGNATURE_HEX = /^0x[0-9a-fA-F]{130}$/;
const DIGEST_HEX = /^0x[0-9a-fA-F]{64}$/;

/** ethers' reading of a 65-byte signature's last byte (`Signature.getNormalizedV`) as a parity. */
function parityOf(v: number): 0 | 1 | undefined {
  if (v === 0 || v === 27) return 0;
  if (v === 1 || v === 28) return 1;
  if (v < 35) return undefined;
  // An EIP-155 v (chainId * 2 + 35 + parity): odd means parity 0.
  return v & 1 ? 0 : 1;
}

/** The reference: ethers' `recoverAddress` (in lower case), undefined where it throws. */
export function recoverWithEthers(digest: string, signature: string): string | undefined {
  try {
    if (getBytes(signature).length !== 65) return undefined;
    return recoverAddress(digest, signature).toLowerCase();
  } catch {
    return undefined;
  }
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    return createRequire(import.meta.url)("secp256k1/bindings") as NativeSecp256k1;
  } catch {
    return undefined;
  }
}
