/*
 * Parsers for command-line values: each rejects bad input with a BadInputError naming the option,
 * before anything is read from or sent to the chain.
 */
import { getAddress, isAddress, isHexString } from "ethers";

import { BadInputError } from "./errors.js";

/** An address option or argument, checksummed. */
export function address(field: string): (value: string) => string {
  return (value) => {
    if (!isAddress(value)) throw new BadInputError(`expected a 0x-prefixed 20-byte address, got ${value}`, { field });
    return getAddress(value);
  };
}

/** A 32-byte hex id (asset id, request id, subject id). */
export function bytes32(field: string): (value: string) => string {
  return (value) => {
    if (!isHexString(value, 32))
      throw new BadInputError(`expected a 0x-prefixed 32-byte hex id, got ${value}`, { field });
    return value.toLowerCase();
  };
}

/** A whole number within [min, max]. */
export function integer(field: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new BadInputError(`expected a whole number, got ${value}`, { field });
    const n = Number(value);
    if (n < min || n > max) throw new BadInputError(`expected ${min}..${max}, got ${value}`, { field });
    return n;
  };
}

/** One of `choices`. */
export function oneOf<T extends string>(field: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new BadInputError(`expected one of ${choices.join(", ")}, got ${value}`, { field });
    }
    return value as T;
  };
}
