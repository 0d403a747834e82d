import { id } from "ethers";

/** Governance role ids; keep equal to `Roles` in contracts/Common.sol. */
export const Role = {
  ADMIN: 0n,
  OPERATOR: 1n,
  MEMBER_ADMIN: 2n,
  CATALOG_ADMIN: 3n,
  REGULATOR: 4n,
} as const;

export type RoleName = Exclude<keyof typeof Role, "ADMIN">;

const selector = (signature: string): string => id(signature).slice(0, 10);

/** Every restricted function of the core, by the role allowed to call it. */
export const DATA_SAFE_FUNCTION_ROLES: Record<RoleName, string[]> = {
  OPERATOR: ["setRecoveryDelay(uint32)", "revokeAssetByGovernance(bytes32,uint16)"],
  MEMBER_ADMIN: ["registerMember(address,uint8,string,string)", "updateMember(address,string,string)"],
  CATALOG_ADMIN: [],
  REGULATOR: ["suspendMember(address,uint16)", "reinstateMember(address)"],
};

/** Every restricted function of the catalog, by the role allowed to call it. */
export const CATALOG_FUNCTION_ROLES: Record<RoleName, string[]> = {
  OPERATOR: [],
  MEMBER_ADMIN: [],
  CATALOG_ADMIN: [
    "defineDataType(uint32,string,bytes32,string)",
    "updateDataTypeSchema(uint32,bytes32,string)",
    "deprecateDataType(uint32)",
    "authoriseIssuer(uint32,address)",
    "deauthoriseIssuer(uint32,address)",
  ],
  REGULATOR: [],
};

export const selectorsOf = (signatures: string[]): string[] => signatures.map(selector);
