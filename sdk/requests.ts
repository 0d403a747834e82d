import { ZeroHash, getAddress, isAddress, isHexString } from "ethers";

import { type GrantScope, enumValue } from "./constants.js";
import { InvalidInputError } from "./errors.js";
import { fieldsOf } from "./fields.js";
import type { AccessRequest, Address, AssetKey, GrantKey, GrantTerms, Hex } from "./types.js";

/**
 * What callers pass to the write methods, mirroring the Solidity structs, with the optional fields
 * and their defaults in this one place. Each `to…Struct` checks its input and returns the tuple
 * the ABI takes.
 */

/** Defaults of optional fields. */
export const DEFAULTS = {
  /** A grant allows one read unless told otherwise: burn after reading. */
  maxReads: 1,
  /** A grant or request names assets unless told otherwise. */
  scope: "Asset" as GrantScope,
  /** A request, grant or read covers the whole record unless it names fields (see `fieldMask`). */
  fields: 0n,
  /** An asset does not expire unless told otherwise. */
  validUntil: 0,
  /** No payload pointer. */
  payloadPointer: ZeroHash,
  /** A consumer's request can be approved for a week. */
  requestLifetime: 7 * 24 * 60 * 60,
} as const;

/** A new asset as a department submits it. */
export interface NewAssetInput {
  subjectId: Hex;
  dataType: number;
  /** Salted commitment, or Merkle root of salted field commitments (see commitments.ts). */
  contentCommitment: Hex;
  /** Locator of the encrypted payload (e.g. `payloadPointerOf(ciphertext)`); default none. */
  payloadPointer?: Hex;
  /** Unix seconds; default 0 = no expiry. */
  validUntil?: number;
}

/** A consumer's request for consent. */
export interface RequestAccessInput {
  subjectId: Hex;
  /** Default `"Asset"`. */
  scope?: GrantScope;
  /** Asset ids, or `dataTypeTarget(issuer, dataType)` for a data-type request. */
  targets: Hex[];
  /** Fields asked for (`fieldMask(schemaFields, names)`); default 0n = whole record. */
  fields?: bigint | number;
  purpose: number;
  /** Seconds the grants last from approval. */
  grantDuration: number;
  /** Reads allowed per grant; default 1 (burn after reading). */
  maxReads?: number;
  /** Unix seconds after which the request can no longer be approved; default a week from now. */
  expiresAt?: number;
}

/** Terms of a direct grant. */
export interface GrantTermsInput {
  subjectId: Hex;
  consumers: Address[];
  /** Default `"Asset"`. */
  scope?: GrantScope;
  targets: Hex[];
  /** Fields granted (`fieldMask(schemaFields, names)`); default 0n = whole record. */
  fields?: bigint | number;
  purpose: number;
  /** Unix seconds after which the grants stop working. */
  expiresAt: number;
  /** Reads allowed per grant; default 1 (burn after reading). */
  maxReads?: number;
}

/** The grant a revocation, a read or a feedback names. */
export interface GrantKeyInput {
  subjectId: Hex;
  consumer: Address;
  /** Default `"Asset"`. */
  scope?: GrantScope;
  target: Hex;
  purpose: number;
}

/** A read a consumer records. */
export interface RecordAccessInput {
  /** The key of the asset read (`HolderAsset.key`, `IssuedAsset.key`): it proves whose and whose issue it is. */
  asset: AssetKey;
  /** Which of the consumer's grants: on the asset (default) or on its data type. */
  scope?: GrantScope;
  purpose: number;
  /** Fields read, within the grant's (`fieldMask(schemaFields, names)`); default 0n = whole record. */
  fields?: bigint | number;
}

export function bytes32(field: string, value: string): Hex {
  if (!isHexString(value, 32)) throw new InvalidInputError(field, `expected 32 bytes as 0x-hex, got ${String(value)}`);
  return value.toLowerCase();
}

export function address(field: string, value: string): Address {
  if (!isAddress(value)) throw new InvalidInputError(field, `expected an address, got ${String(value)}`);
  return getAddress(value);
}

export function uint(field: string, value: number | bigint, bits: number): number {
  const fits =
    (typeof value === "bigint" || Number.isSafeInteger(value)) &&
    BigInt(value) >= 0n &&
    BigInt(value) < 1n << BigInt(bits);
  if (!fits) throw new InvalidInputError(field, `expected a uint${bits}, got ${String(value)}`);
  return Number(value);
}

export function scopeOf(field: string, scope: GrantScope | undefined): GrantScope {
  const value = scope ?? DEFAULTS.scope;
  if (value !== "Asset" && value !== "DataType") throw new InvalidInputError(field, `expected "Asset" or "DataType"`);
  return value;
}

/** A new asset with its defaults, checked. */
export function newAssetOf(input: NewAssetInput) {
  return {
    subjectId: bytes32("subjectId", input.subjectId),
    dataType: uint("dataType", input.dataType, 32),
    contentCommitment: bytes32("contentCommitment", input.contentCommitment),
    payloadPointer: bytes32("payloadPointer", input.payloadPointer ?? DEFAULTS.payloadPointer),
    validUntil: uint("validUntil", input.validUntil ?? DEFAULTS.validUntil, 40),
  };
}

/** An asset key, checked. */
export function assetKeyOf(key: AssetKey): AssetKey {
  return {
    issuer: address("issuer", key.issuer),
    subjectId: bytes32("subjectId", key.subjectId),
    dataType: uint("dataType", key.dataType, 32),
    contentCommitment: bytes32("contentCommitment", key.contentCommitment),
  };
}

/** A request's fields with defaults, checked; `now` is the chain's time. */
export function requestAccessOf(input: RequestAccessInput, now: number) {
  return {
    subjectId: bytes32("subjectId", input.subjectId),
    scope: scopeOf("scope", input.scope),
    targets: input.targets.map((t, i) => bytes32(`targets[${i}]`, t)),
    fields: fieldsOf("fields", input.fields),
    purpose: uint("purpose", input.purpose, 16),
    grantDuration: uint("grantDuration", input.grantDuration, 40),
    maxReads: uint("maxReads", input.maxReads ?? DEFAULTS.maxReads, 32),
    expiresAt: uint("expiresAt", input.expiresAt ?? now + DEFAULTS.requestLifetime, 40),
  };
}

/** Grant terms with defaults, checked. */
export function grantTermsOf(input: GrantTermsInput): GrantTerms {
  return {
    subjectId: bytes32("subjectId", input.subjectId),
    consumers: input.consumers.map((c, i) => address(`consumers[${i}]`, c)),
    scope: scopeOf("scope", input.scope),
    targets: input.targets.map((t, i) => bytes32(`targets[${i}]`, t)),
    fields: fieldsOf("fields", input.fields),
    purpose: uint("purpose", input.purpose, 16),
    expiresAt: uint("expiresAt", input.expiresAt, 40),
    maxReads: uint("maxReads", input.maxReads ?? DEFAULTS.maxReads, 32),
  };
}

/** A grant key with defaults, checked. */
export function grantKeyOf(input: GrantKeyInput): GrantKey {
  return {
    subjectId: bytes32("subjectId", input.subjectId),
    consumer: address("consumer", input.consumer),
    scope: scopeOf("scope", input.scope),
    target: bytes32("target", input.target),
    purpose: uint("purpose", input.purpose, 16),
  };
}

/** The ABI tuple of an access request. */
export function accessRequestStruct(request: AccessRequest) {
  return { ...request, scope: enumValue("GrantScope", request.scope) };
}

/** The ABI tuple of grant terms. */
export function grantTermsStruct(terms: GrantTerms) {
  return { ...terms, scope: enumValue("GrantScope", terms.scope) };
}

/** The ABI tuple of a grant key. */
export function grantKeyStruct(key: GrantKey) {
  return { ...key, scope: enumValue("GrantScope", key.scope) };
}
