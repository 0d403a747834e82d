import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";

/** A fixed 32-byte value derived from a label: deterministic calldata keeps gas figures stable. */
export const fixed32 = (label: string): string => keccak256(toUtf8Bytes(label));

/** A data type id as a grant target (bytes32). */
export const typeTarget = (dataType: number): string => AbiCoder.defaultAbiCoder().encode(["uint256"], [dataType]);

/** Member kinds and scopes as in contracts/Common.sol. */
export const Kind = { Department: 1, Consumer: 2, Regulator: 3, Operator: 4, IdentityAuthority: 5 } as const;
export const Scope = { Asset: 0, DataType: 1 } as const;

/** A far-future expiry (2100-01-01) so figures do not depend on the clock. */
export const FAR_FUTURE = 4_102_444_800;
