import { createCipheriv, createHash } from "node:crypto";

import { expect } from "chai";
import type { Parameters as FastCheckParameters } from "fast-check";

import { DecryptionError, type DecryptionFailure } from "../../sdk/crypto/index.js";

/**
 * fast-check settings: a fixed seed keeps CI reproducible (as the Solidity fuzzer's); set
 * FAST_CHECK_SEED to explore other sequences. A failure prints its seed and path.
 */
export function runs(numRuns: number): FastCheckParameters<unknown> {
  const seed = process.env.FAST_CHECK_SEED;
  return { numRuns, seed: seed === undefined ? 0x64617461 : Number(seed) };
}

export const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "hex"));
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** `size` pseudo-random bytes fixed by `seed` (a ChaCha20 key stream): large payloads fast-check can name. */
export function payload(size: number, seed: number): Uint8Array {
  const key = createHash("sha256").update(`payload ${seed}`).digest();
  const stream = createCipheriv("chacha20", key, Buffer.alloc(16));
  return new Uint8Array(stream.update(Buffer.alloc(size)));
}

/** Copy of `bytes` with `mask` xored into byte `index`. */
export function flipped(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] ^= mask;
  return copy;
}

/** The error `attempt` rejects with; fails the test if it resolves. */
export async function rejection(attempt: () => Promise<unknown>): Promise<unknown> {
  try {
    await attempt();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, the call resolved");
}

/** Asserts `attempt` rejects with a DecryptionError, of `reason` if given. */
export async function expectDecryptionError(attempt: () => Promise<unknown>, reason?: DecryptionFailure) {
  const error = await rejection(attempt);
  expect(error).to.be.instanceOf(DecryptionError);
  if (reason !== undefined) expect((error as DecryptionError).reason).to.equal(reason);
}
