/**
 * Helpers for the consent tests: assets, access requests, grant keys and the EIP-712 signatures of
 * holder acts, written from the contract's *_TYPEHASH strings (not from the contract's own code).
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { HDNodeWallet, type TypedDataDomain, type TypedDataField } from "ethers";

import type { DataSafe } from "../../typechain-types/index.js";
import {
  CITIZEN,
  DataType,
  GrantScope,
  type Suite,
  assetIdOf,
  ethers,
  newAsset,
  networkHelpers,
  typeTarget,
} from "./fixtures.js";

/** The standard test mnemonic; Hardhat's default accounts are derived from it. */
export const TEST_MNEMONIC = "test test test test test test test test test test test junk";

/** The private key of Hardhat default account `i` (m/44'/60'/0'/0/i of the test mnemonic). */
export const defaultAccountKey = (i: number): string =>
  HDNodeWallet.fromPhrase(TEST_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey;

/** Index of the citizen's key among the default accounts (see fixtures.ts `actors`). */
export const CITIZEN_ACCOUNT_INDEX = 10;

/**
 * EIP-712 types of the holder acts (consent, and the return request), exactly as the ConsentManager
 * *_TYPEHASH strings spell them.
 */
export const CONSENT_TYPES = {
  ApproveAccessRequest: [
    { name: "requestId", type: "bytes32" },
    { name: "subjectId", type: "bytes32" },
    { name: "consumer", type: "address" },
    { name: "scope", type: "uint8" },
    { name: "targets", type: "bytes32[]" },
    { name: "fields", type: "uint64" },
    { name: "purpose", type: "uint16" },
    { name: "grantDuration", type: "uint40" },
    { name: "maxReads", type: "uint32" },
    { name: "expiresAt", type: "uint40" },
    { name: "requestNonce", type: "uint64" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  RejectAccessRequest: [
    { name: "requestId", type: "bytes32" },
    { name: "reason", type: "uint16" },
    { name: "subjectId", type: "bytes32" },
    { name: "consumer", type: "address" },
    { name: "scope", type: "uint8" },
    { name: "targets", type: "bytes32[]" },
    { name: "fields", type: "uint64" },
    { name: "purpose", type: "uint16" },
    { name: "grantDuration", type: "uint40" },
    { name: "maxReads", type: "uint32" },
    { name: "expiresAt", type: "uint40" },
    { name: "requestNonce", type: "uint64" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  Grant: [
    { name: "subjectId", type: "bytes32" },
    { name: "consumers", type: "address[]" },
    { name: "scope", type: "uint8" },
    { name: "targets", type: "bytes32[]" },
    { name: "fields", type: "uint64" },
    { name: "purpose", type: "uint16" },
    { name: "expiresAt", type: "uint40" },
    { name: "maxReads", type: "uint32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  Revoke: [
    { name: "subjectId", type: "bytes32" },
    { name: "consumer", type: "address" },
    { name: "scope", type: "uint8" },
    { name: "target", type: "bytes32" },
    { name: "purpose", type: "uint16" },
    { name: "version", type: "uint32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  RequestReturn: [
    { name: "subjectId", type: "bytes32" },
    { name: "dataType", type: "uint32" },
    { name: "department", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const satisfies Record<string, TypedDataField[]>;

export type PrimaryType = keyof typeof CONSENT_TYPES;

/** The EIP712Domain type as wallets (eth-sig-util) expect it spelled out. */
export const EIP712_DOMAIN_TYPE = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];

/** The types object for one primary type (ethers wants exactly the types reachable from it). */
export const typesFor = (primaryType: PrimaryType): Record<string, TypedDataField[]> => ({
  [primaryType]: [...CONSENT_TYPES[primaryType]],
});

export interface DomainOverrides {
  name?: string;
  version?: string;
  chainId?: bigint;
  verifyingContract?: string;
}

/** The EIP-712 domain of a DataSafe deployment on the connected chain. */
export async function domainOf(dataSafe: DataSafe, overrides: DomainOverrides = {}): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return {
    name: overrides.name ?? "DataSafe",
    version: overrides.version ?? "1",
    chainId: overrides.chainId ?? chainId,
    verifyingContract: overrides.verifyingContract ?? (await dataSafe.getAddress()),
  };
}

/** Anything that signs EIP-712 the ethers way (a Hardhat signer or an ethers Wallet). */
export interface TypedDataSigner {
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

export interface Authorization {
  nonce: bigint;
  deadline: bigint;
  signature: string;
}

export interface SignOptions extends DomainOverrides {
  /** Defaults to `freshNonce`: unused on chain, not handed out before. */
  nonce?: bigint;
  /** Defaults to one hour after the latest block. */
  deadline?: bigint;
}

/** The subject's signature epoch: the top 48 bits of the nonces its controller signs with now. */
export const epochOf = async (dataSafe: DataSafe, subjectId: string): Promise<bigint> =>
  (await dataSafe.getSubject(subjectId)).nonce;

/** The nonce of index `index` in signature epoch `epoch`: `epoch << 208 | index`. */
export const nonceIn = (epoch: bigint | number, index: bigint | number): bigint =>
  (BigInt(epoch) << 208n) | BigInt(index);

/** Nonces handed out by `freshNonce`, so signatures made before any is relayed never share one. */
const handedOut = new Set<string>();

/**
 * The lowest nonce of the subject's current epoch that the contract holds unused and that this
 * helper has not handed out before (on this deployment).
 */
export async function freshNonce(dataSafe: DataSafe, subjectId: string): Promise<bigint> {
  const epoch = await epochOf(dataSafe, subjectId);
  const where = `${await dataSafe.getAddress()}/${subjectId}/`;
  for (let word = 0n; ; word++) {
    const wordPos = (epoch << 200n) | word;
    const used = await dataSafe.nonceBitmap(subjectId, wordPos);
    for (let bit = 0n; bit < 256n; bit++) {
      const nonce = (wordPos << 8n) | bit;
      if (((used >> bit) & 1n) === 0n && !handedOut.has(where + nonce)) {
        handedOut.add(where + nonce);
        return nonce;
      }
    }
  }
}

/** A deadline `seconds` after the latest block. */
export const deadlineIn = async (seconds: number): Promise<bigint> =>
  BigInt((await networkHelpers.time.latest()) + seconds);

/**
 * The typed-data message of a holder act (without nonce and deadline) plus what completes it,
 * signed by `signer`: the Authorization a relayer submits.
 */
export async function authorize(
  dataSafe: DataSafe,
  signer: TypedDataSigner,
  subjectId: string,
  primaryType: PrimaryType,
  message: Record<string, unknown>,
  options: SignOptions = {},
): Promise<Authorization> {
  const nonce = options.nonce ?? (await freshNonce(dataSafe, subjectId));
  const deadline = options.deadline ?? (await deadlineIn(3600));
  const domain = await domainOf(dataSafe, options);
  const signature = await signer.signTypedData(domain, typesFor(primaryType), { ...message, nonce, deadline });
  return { nonce, deadline, signature };
}

/** What an approval or a rejection shows of a request: its id and its fields, the request's nonce as `requestNonce`. */
export const requestContent = (r: AccessRequest) => ({
  requestId: requestIdOf(r),
  subjectId: r.subjectId,
  consumer: r.consumer,
  scope: r.scope,
  targets: r.targets,
  fields: r.fields,
  purpose: r.purpose,
  grantDuration: r.grantDuration,
  maxReads: r.maxReads,
  expiresAt: r.expiresAt,
  requestNonce: r.nonce,
});

/** The message of an approval or rejection. */
export const approveMessage = (request: AccessRequest) => requestContent(request);
export const rejectMessage = (request: AccessRequest, reason: number) => ({ ...requestContent(request), reason });

/** The message of a direct grant: the terms themselves. */
export const grantMessage = (terms: GrantTerms) => ({
  subjectId: terms.subjectId,
  consumers: terms.consumers,
  scope: terms.scope,
  targets: terms.targets,
  fields: terms.fields,
  purpose: terms.purpose,
  expiresAt: terms.expiresAt,
  maxReads: terms.maxReads,
});

/** The message of a revocation: the grant key and the version revoked (0 = whichever is current). */
export const revokeMessage = (key: GrantKey, version: number) => ({
  subjectId: key.subjectId,
  consumer: key.consumer,
  scope: key.scope,
  target: key.target,
  purpose: key.purpose,
  version,
});

/** The message of a return request: holder, data type and the department asked. */
export const returnMessage = (subjectId: string, dataType: number, department: string) => ({
  subjectId,
  dataType,
  department,
});

export interface AssetKey {
  issuer: string;
  subjectId: string;
  dataType: number;
  contentCommitment: string;
}

export interface GrantKey {
  subjectId: string;
  consumer: string;
  scope: number;
  target: string;
  purpose: number;
}

export interface GrantTerms {
  subjectId: string;
  consumers: string[];
  scope: number;
  targets: string[];
  /** Field mask; 0 = whole record. */
  fields: bigint | number;
  purpose: number;
  expiresAt: bigint;
  maxReads: number;
}

export interface AccessRequest {
  subjectId: string;
  consumer: string;
  scope: number;
  targets: string[];
  fields: bigint;
  purpose: number;
  grantDuration: bigint;
  maxReads: bigint;
  expiresAt: bigint;
  nonce: bigint;
}

export interface RequestParams {
  subjectId: string;
  scope: number;
  targets: string[];
  /** Field mask; default 0 = whole record. */
  fields?: bigint | number;
  purpose: number;
  grantDuration: bigint | number;
  maxReads: bigint | number;
  expiresAt: bigint | number;
}

/** The request as the AccessRequested event and the request id encode it (tuple order). */
export const requestTuple = (r: AccessRequest) => [
  r.subjectId,
  r.consumer,
  r.scope,
  r.targets,
  r.fields,
  r.purpose,
  r.grantDuration,
  r.maxReads,
  r.expiresAt,
  r.nonce,
];

/**
 * The request id, computed off chain: keccak256 of the fields in order, the targets replaced by the
 * hash of their concatenation (as EIP-712 hashes a bytes32[]).
 */
export const requestIdOf = (r: AccessRequest): string =>
  ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "address", "uint8", "bytes32", "uint64", "uint16", "uint40", "uint32", "uint40", "uint64"],
      [
        r.subjectId,
        r.consumer,
        r.scope,
        ethers.keccak256(ethers.concat(r.targets)),
        r.fields,
        r.purpose,
        r.grantDuration,
        r.maxReads,
        r.expiresAt,
        r.nonce,
      ],
    ),
  );

/** Converts the contract's returned request (an ethers Result) into a plain object. */
export const toRequest = (r: {
  subjectId: string;
  consumer: string;
  scope: bigint;
  targets: readonly string[] | string[];
  fields: bigint;
  purpose: bigint;
  grantDuration: bigint;
  maxReads: bigint;
  expiresAt: bigint;
  nonce: bigint;
}): AccessRequest => ({
  subjectId: r.subjectId,
  consumer: r.consumer,
  scope: Number(r.scope),
  targets: [...r.targets],
  fields: r.fields,
  purpose: Number(r.purpose),
  grantDuration: r.grantDuration,
  maxReads: r.maxReads,
  expiresAt: r.expiresAt,
  nonce: r.nonce,
});

/**
 * Makes an access request as `consumer`: reads the returned id and request with staticCall, then
 * sends the transaction (nothing else is mined in between, so they are the ones stored).
 */
export async function makeRequest(dataSafe: DataSafe, consumer: HardhatEthersSigner, p: RequestParams) {
  const args = [
    p.subjectId,
    p.scope,
    p.targets,
    p.fields ?? 0,
    p.purpose,
    p.grantDuration,
    p.maxReads,
    p.expiresAt,
  ] as const;
  const [requestId, returned] = await dataSafe.connect(consumer).requestAccess.staticCall(...args);
  const tx = await dataSafe.connect(consumer).requestAccess(...args);
  return { requestId, request: toRequest(returned), tx };
}

/** Issues an asset of `dataType` to `subjectId` by `department`; returns its id, fields and key. */
export async function issue(
  dataSafe: DataSafe,
  department: HardhatEthersSigner,
  subjectId: string,
  dataType: number,
  validUntil = 0,
) {
  const asset = newAsset(subjectId, dataType, validUntil);
  await dataSafe.connect(department).issueAsset(asset);
  const assetId = assetIdOf(department.address, asset);
  const key: AssetKey = {
    issuer: department.address,
    subjectId,
    dataType,
    contentCommitment: asset.contentCommitment,
  };
  return { assetId, asset, key };
}

/** accessId = keccak256(abi.encode(grantId, version, readNumber)). */
export const accessIdOf = (grantId: string, version: bigint | number, readNumber: bigint | number): string =>
  ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint32", "uint32"], [grantId, version, readNumber]),
  );

/** Selector of a custom error, for asserting the 4-byte prefix of revert data. */
export const selectorOf = (signature: string): string => ethers.id(signature).slice(0, 10);

/**
 * The citizen's household register and housing-fund record issued, and the bank granted the first
 * by asset and the second by data type, for `purpose`, `days` long, `maxReads` reads each.
 */
export async function grantBankHouseholdAndFund(
  suite: Suite,
  { purpose, days, maxReads }: { purpose: number; days: number; maxReads: number },
) {
  const { dataSafe, actors: a } = suite;
  const household = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.HouseholdRegister);
  const fund = await issue(dataSafe, a.housingFundCentre, CITIZEN, DataType.HousingFund);
  const expiresAt = BigInt((await networkHelpers.time.latest()) + days * 86_400);
  const assetKey: GrantKey = {
    subjectId: CITIZEN,
    consumer: a.bank.address,
    scope: GrantScope.Asset,
    target: household.assetId,
    purpose,
  };
  const typeKey: GrantKey = {
    subjectId: CITIZEN,
    consumer: a.bank.address,
    scope: GrantScope.DataType,
    target: typeTarget(DataType.HousingFund),
    purpose,
  };
  for (const key of [assetKey, typeKey]) {
    await dataSafe.connect(a.citizen).grant({
      subjectId: CITIZEN,
      consumers: [a.bank.address],
      scope: key.scope,
      targets: [key.target],
      fields: 0,
      purpose,
      expiresAt,
      maxReads,
    });
  }
  return { household, fund, expiresAt, assetKey, typeKey };
}
