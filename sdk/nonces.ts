import { InvalidInputError } from "./errors.js";

/**
 * Unordered signature nonces, as the contract spends them (see contracts/ConsentManager.sol). A
 * nonce is `epoch << 208 | index`: the epoch is the subject's signature epoch (`Subject.nonce`),
 * moved on by every hand-over, completed recovery and `invalidateNonce`; the index is any index
 * not yet used or cancelled in that epoch. Signatures with distinct nonces can be relayed in any
 * order, each once. The contract keeps used nonces in words of 256: word `nonce >> 8` (the epoch
 * included), bit `nonce & 255`.
 */

/** Bits below a nonce's epoch. */
export const EPOCH_SHIFT = 208n;
/** A word's mask with every bit set: `cancelNonceWord` cancels 256 nonces at once. */
export const FULL_WORD = (1n << 256n) - 1n;

const INDEX_MASK = (1n << EPOCH_SHIFT) - 1n;
const EPOCH_MAX = (1n << 48n) - 1n;

/** The parts of a nonce. */
export interface NonceParts {
  /** The signature epoch it belongs to. */
  epoch: number;
  /** Its index within the epoch. */
  index: bigint;
  /** The bitmap word that records it (`nonce >> 8`, epoch included): `nonceBitmap(subjectId, wordPos)`. */
  wordPos: bigint;
  /** Its bit in that word. */
  bit: number;
}

/**
 * The nonce of index `index` in epoch `epoch`.
 * @example nonceOf(0, 3n) // 3n; nonceOf(1, 0n) // 1n << 208n
 */
export function nonceOf(epoch: number | bigint, index: number | bigint): bigint {
  const e = BigInt(epoch);
  const i = BigInt(index);
  if (e < 0n || e > EPOCH_MAX) throw new InvalidInputError("epoch", `expected a uint48, got ${String(epoch)}`);
  if (i < 0n || i > INDEX_MASK) throw new InvalidInputError("index", `expected a uint208, got ${String(index)}`);
  return (e << EPOCH_SHIFT) | i;
}

/** The epoch, index, word and bit of a nonce. */
export function nonceParts(nonce: bigint | number): NonceParts {
  const n = BigInt(nonce);
  if (n < 0n || n > FULL_WORD) throw new InvalidInputError("nonce", `expected a uint256, got ${String(nonce)}`);
  return { epoch: Number(n >> EPOCH_SHIFT), index: n & INDEX_MASK, wordPos: n >> 8n, bit: Number(n & 0xffn) };
}

/** The bitmap word `word` (0, 1, ...) of epoch `epoch`: what `nonceBitmap` and `cancelNonces` take. */
export function nonceWordOf(epoch: number | bigint, word: number | bigint): bigint {
  return nonceOf(epoch, BigInt(word) << 8n) >> 8n;
}
