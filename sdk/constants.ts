/**
 * The enums of contracts/Common.sol (and `KeySuite` of contracts/interfaces/IKeyDirectory.sol), by name. The SDK speaks names ("Valid", "GrantExhausted") to its
 * callers and converts to the numbers the ABI carries at the boundary (see `enumValue`, `enumName`).
 * Keep the order of every list equal to the Solidity declaration.
 */

/** Every enum of the suite, in declaration order. */
export const ENUMS = {
  MemberKind: ["None", "Department", "Consumer", "Regulator", "Operator", "IdentityAuthority"],
  MemberStatus: ["None", "Active", "Suspended"],
  DataTypeStatus: ["None", "Active", "Deprecated"],
  AssetStatus: ["None", "Valid", "Revoked", "Superseded"],
  ReturnRequestStatus: ["None", "Open", "Fulfilled", "Declined", "Cancelled"],
  AccessRequestStatus: ["None", "Open", "Approved", "Rejected", "Cancelled"],
  GrantScope: ["Asset", "DataType"],
  GrantStatus: ["None", "Active", "Revoked"],
  AccessCheck: [
    "Allowed",
    "NoGrant",
    "GrantRevoked",
    "GrantExpired",
    "GrantExhausted",
    "ConsumerNotActive",
    "AssetNotValid",
    "IssuerSuspended",
    "FieldsNotGranted",
  ],
  KeySuite: ["None", "X25519Hpke", "Sm2"],
} as const;

export type EnumName = keyof typeof ENUMS;
/** The member names of one enum, e.g. `EnumMember<"AccessCheck">` is `"Allowed" | "NoGrant" | ...`. */
export type EnumMember<E extends EnumName> = (typeof ENUMS)[E][number];

export type MemberKind = EnumMember<"MemberKind">;
export type MemberStatus = EnumMember<"MemberStatus">;
export type DataTypeStatus = EnumMember<"DataTypeStatus">;
export type AssetStatus = EnumMember<"AssetStatus">;
export type ReturnRequestStatus = EnumMember<"ReturnRequestStatus">;
export type AccessRequestStatus = EnumMember<"AccessRequestStatus">;
export type GrantScope = EnumMember<"GrantScope">;
export type GrantStatus = EnumMember<"GrantStatus">;
export type AccessCheck = EnumMember<"AccessCheck">;
export type KeySuite = EnumMember<"KeySuite">;

/**
 * The number the ABI carries for an enum member.
 * @example enumValue("GrantScope", "DataType") // 1
 */
export function enumValue<E extends EnumName>(enumName: E, member: EnumMember<E>): number {
  const index = (ENUMS[enumName] as readonly string[]).indexOf(member);
  if (index < 0) throw new RangeError(`${String(member)} is not a member of ${enumName}`);
  return index;
}

/**
 * The name of an enum value read from the chain; `Unknown(<n>)` for a value this SDK does not know
 * (a newer contract), so reading never throws.
 * @example enumName("AccessCheck", 4n) // "GrantExhausted"
 */
export function enumName<E extends EnumName>(enumName: E, value: bigint | number): EnumMember<E> {
  const names = ENUMS[enumName] as readonly string[];
  const name = names[Number(value)];
  return (name ?? `Unknown(${value})`) as EnumMember<E>;
}

/** EIP-712 domain name and version of the core contract (`EIP712("DataSafe", "1")`). */
export const EIP712_NAME = "DataSafe";
export const EIP712_VERSION = "1";

/** EIP-712 domain name and version of the key directory (`EIP712("DataSafe KeyDirectory", "1")`). */
export const KEY_DIRECTORY_EIP712_NAME = "DataSafe KeyDirectory";
export const KEY_DIRECTORY_EIP712_VERSION = "1";

/** Most targets in one request or grant, and most grants one call issues (`MAX_GRANTS_PER_CALL`). */
export const MAX_GRANTS_PER_CALL = 32;

/** Seconds a signature made through the SDK stays usable when the caller names no deadline. */
export const DEFAULT_SIGNATURE_LIFETIME = 60 * 60;
