import { AbiCoder, keccak256, toBeHex, zeroPadValue } from "ethers";

import { enumValue } from "./constants.js";
import type { AccessRequest, AssetKey, GrantKey, Hex } from "./types.js";

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

/** The id of an access request: `keccak256(abi.encode(AccessRequest))`. */
export function requestIdOf(request: AccessRequest): Hex {
  return keccak256(
    coder.encode(
      ["tuple(bytes32,address,uint8,bytes32[],uint64,uint16,uint40,uint32,uint40,uint64)"],
      [
        [
          request.subjectId,
          request.consumer,
          enumValue("GrantScope", request.scope),
          request.targets,
          request.fields,
          request.purpose,
          request.grantDuration,
          request.maxReads,
          request.expiresAt,
          request.nonce,
        ],
      ],
    ),
  );
}

/** The id of a read: `keccak256(abi.encode(grantId, version, readNumber))`. */
export function accessIdOf(grantId: Hex, version: number, readNumber: number): Hex {
  return keccak256(coder.encode(["bytes32", "uint32", "uint32"], [grantId, version, readNumber]));
}

/**
 * A data type id as a grant or request target (`bytes32(uint256(dataType))`).
 * @example dataTypeTarget(8) // "0x00…08"
 */
export function dataTypeTarget(dataType: number): Hex {
  return zeroPadValue(toBeHex(dataType), 32);
}

/** The tag that binds assets to their holder: the low 136 bits of `keccak256(abi.encode(subjectId))`. */
export function subjectTagOf(subjectId: Hex): bigint {
  return BigInt(keccak256(coder.encode(["bytes32"], [subjectId]))) & ((1n << 136n) - 1n);
}
