import { keccak256, toUtf8Bytes } from "ethers";

import { enumValue } from "../../sdk/index.js";

/** A fixed 32-byte value derived from a label: deterministic calldata keeps gas figures stable. */
export const fixed32 = (label: string): string => keccak256(toUtf8Bytes(label));

/** The enum numbers the scripts pass to the ABI, from the SDK's one copy of contracts/Common.sol. */
export const Kind = {
  Department: enumValue("MemberKind", "Department"),
  Consumer: enumValue("MemberKind", "Consumer"),
  IdentityAuthority: enumValue("MemberKind", "IdentityAuthority"),
} as const;
export const Scope = {
  Asset: enumValue("GrantScope", "Asset"),
  DataType: enumValue("GrantScope", "DataType"),
} as const;

/** A far-future expiry (2100-01-01) so figures do not depend on the clock. */
export const FAR_FUTURE = 4_102_444_800;
