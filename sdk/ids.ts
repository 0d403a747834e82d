import { AbiCoder, concat, getAddress, keccak256, toBeHex, zeroPadValue } from "ethers";

import { enumValue } from "./constants.js";
import { InvalidInputError } from "./errors.js";
import type { AccessRequest, Address, AssetKey, GrantKey, Hex } from "./types.js";

/**
 * The ids the contracts derive, computed off chain: a holder's app knows an asset's or a grant's id
 * before (or without) asking the chain.
 */

const coder = AbiCoder.defaultAbiCoder();

/**
 * The id of an asset: `keccak256(abi.encode(AssetKey))`.
 * @example assetIdOf({ issuer, subjectId, dataType: 1, contentCommitment })
 */
export function assetIdOf(key: AssetKey): Hex {
  return keccak256(
    coder.encode(
      ["tuple(address,bytes32,uint32,bytes32)"],
      [[key.issuer, key.subjectId, key.dataType, key.contentCommitment]],
    ),
  );
}

/** The id of a grant: `keccak256(abi.encode(GrantKey))`. */
export function grantIdOf(key: GrantKey): Hex {
  return keccak256(
    coder.encode(
      ["tuple(bytes32,address,uint8,bytes32,uint16)"],
      [[key.subjectId, key.consumer, enumValue("GrantScope", key.scope), key.target, key.purpose]],
    ),
  );
}

/**
 * The id of an access request: the hash of its fields in order, the targets hashed as EIP-712 hashes
 * an array, so the contract recomputes it from what a signed approval shows.
 */
export function requestIdOf(request: AccessRequest): Hex {
  return keccak256(
    coder.encode(
      ["bytes32", "address", "uint8", "bytes32", "uint64", "uint16", "uint40", "uint32", "uint40", "uint64"],
      [
        request.subjectId,
        request.consumer,
        enumValue("GrantScope", request.scope),
        keccak256(concat(request.targets)),
        request.fields,
        request.purpose,
        request.grantDuration,
        request.maxReads,
        request.expiresAt,
        request.nonce,
      ],
    ),
  );
}

/** The id of a read: `keccak256(abi.encode(grantId, version, readNumber))`. */
export function accessIdOf(grantId: Hex, version: number, readNumber: number): Hex {
  return keccak256(coder.encode(["bytes32", "uint32", "uint32"], [grantId, version, readNumber]));
}

/**
 * A data-type grant or request target: one department's assets of one type
 * (`bytes32(uint256(uint160(issuer)) << 32 | dataType)`). The grant covers that department's current
 * asset of the type for the holder (see contracts/interfaces/IConsentManager.sol).
 * @example dataTypeTarget(housingFundCentre, 8) // "0x0000000000000000" + address + "00000008"
 */
export function dataTypeTarget(issuer: Address, dataType: number): Hex {
  if (!Number.isSafeInteger(dataType) || dataType <= 0 || dataType >= 2 ** 32) {
    throw new InvalidInputError("dataType", `expected a uint32 type id, got ${String(dataType)}`);
  }
  return zeroPadValue(toBeHex((BigInt(getAddress(issuer)) << 32n) | BigInt(dataType)), 32);
}

/**
 * The department and type a data-type target names.
 * @example parseDataTypeTarget(dataTypeTarget(issuer, 8)) // { issuer, dataType: 8 }
 */
export function parseDataTypeTarget(target: Hex): { issuer: Address; dataType: number } {
  const value = BigInt(target);
  if (value >> 192n !== 0n) throw new InvalidInputError("target", `not a data-type target: ${target}`);
  return {
    issuer: getAddress(zeroPadValue(toBeHex(value >> 32n), 20)),
    dataType: Number(value & 0xffffffffn),
  };
}

/** The tag that binds assets to their holder: the low 136 bits of `keccak256(abi.encode(subjectId))`. */
export function subjectTagOf(subjectId: Hex): bigint {
  return BigInt(keccak256(coder.encode(["bytes32"], [subjectId]))) & ((1n << 136n) - 1n);
}
