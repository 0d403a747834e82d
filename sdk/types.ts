import type {
  AssetStatus,
  DataTypeStatus,
  GrantScope,
  GrantStatus,
  KeySuite,
  MemberKind,
  MemberStatus,
  ReturnRequestStatus,
} from "./constants.js";

/**
 * What the SDK returns, mirroring the Solidity structs. Integers of 48 bits or fewer (timestamps,
 * type ids, purposes, read counts) are `number`; wider ones `bigint`; enums are member names.
 * Timestamps are unix seconds.
 */

/** A 0x-prefixed hex string (bytes32 ids, commitments, signatures). */
export type Hex = string;
/** A checksummed or lower-case 0x-prefixed address. */
export type Address = string;

/** An organisation on the network. */
export interface Member {
  account: Address;
  kind: MemberKind;
  status: MemberStatus;
  registeredAt: number;
  name: string;
  metadataURI: string;
}

/** A public encryption key of the key directory, that payloads are released to. */
export interface EncryptionKey {
  /** `"X25519Hpke"` (32-byte key) or `"Sm2"` (64-byte uncompressed point x || y). */
  suite: KeySuite;
  /** When it was set, unix seconds. */
  setAt: number;
  publicKey: Hex;
}

/** A type of the data catalog. */
export interface DataType {
  dataType: number;
  status: DataTypeStatus;
  definedAt: number;
  schemaHash: Hex;
  name: string;
  schemaURI: string;
}

/** A citizen or company, known by its pseudonymous id. */
export interface Subject {
  subjectId: Hex;
  /** The key that acts for the subject; the zero address if unregistered. */
  controller: Address;
  registeredAt: number;
  /** The signature epoch: the top 48 bits of every nonce the controller's signatures carry now. */
  nonce: number;
}

/** A pending recovery of a lost key. */
export interface Recovery {
  newController: Address;
  executableAt: number;
  authority: Address;
}

/** What an asset id is the hash of; a verifier recomputes the id from it. */
export interface AssetKey {
  issuer: Address;
  subjectId: Hex;
  dataType: number;
  contentCommitment: Hex;
}

/** A data asset as the registry stores it. */
export interface Asset {
  assetId: Hex;
  status: AssetStatus;
  dataType: number;
  issuedAt: number;
  /** 0 = no expiry. */
  validUntil: number;
  /** Binds the asset to its holder (`subjectTagOf(subjectId)`). */
  subjectTag: bigint;
}

/** A holder's request to a department to return data of a type. */
export interface ReturnRequest {
  requestId: Hex;
  subjectId: Hex;
  department: Address;
  dataType: number;
  status: ReturnRequestStatus;
  requestedAt: number;
}

/** A consumer's request for consent, exactly as stored and signed over (through its id). */
export interface AccessRequest {
  subjectId: Hex;
  consumer: Address;
  scope: GrantScope;
  /** Asset ids, or one department's data type (`dataTypeTarget(issuer, dataType)`). */
  targets: Hex[];
  /** Fields asked for: bit i = the i-th field of the type's schema (`fieldMask`); 0n = whole record. */
  fields: bigint;
  purpose: number;
  grantDuration: number;
  maxReads: number;
  expiresAt: number;
  nonce: bigint;
}

/** The terms of a grant given directly. */
export interface GrantTerms {
  subjectId: Hex;
  consumers: Address[];
  scope: GrantScope;
  targets: Hex[];
  /** Fields granted: bit i = the i-th field of the type's schema (`fieldMask`); 0n = whole record. */
  fields: bigint;
  purpose: number;
  expiresAt: number;
  maxReads: number;
}

/** What a grant id is the hash of: one grant per holder, consumer, scope, target and purpose. */
export interface GrantKey {
  subjectId: Hex;
  consumer: Address;
  scope: GrantScope;
  target: Hex;
  purpose: number;
}

/** A grant as stored. */
export interface Grant {
  grantId: Hex;
  status: GrantStatus;
  grantedAt: number;
  expiresAt: number;
  maxReads: number;
  reads: number;
  version: number;
  /** Fields the grant covers; 0n = whole record. */
  fields: bigint;
}

/** A controller's EIP-712 signature of a holder act, ready to be relayed by anyone. */
export interface Authorization {
  /** `epoch << 208 | index` (see nonces.ts): unused, of the holder's current epoch. */
  nonce: bigint;
  deadline: bigint;
  signature: Hex;
}

/** A signed revocation: the signature and the grant version it revokes. */
export interface RevocationAuthorization extends Authorization {
  /** The grant version signed for; 0 = whichever is current when relayed. */
  version: number;
}

/** A grant issued or renewed, as its `GrantIssued` event tells it. */
export interface IssuedGrant {
  grantId: Hex;
  key: GrantKey;
  /** Fields the grant covers; 0n = whole record. */
  fields: bigint;
  expiresAt: number;
  maxReads: number;
  version: number;
  /** The approved request, or the zero hash for a direct grant. */
  requestId: Hex;
}

/** One read recorded on chain, with what `recordOutcome` needs to report on it. */
export interface AccessRecord {
  accessId: Hex;
  grantId: Hex;
  key: GrantKey;
  assetId: Hex;
  /** Fields read (what the payload gateway releases); 0n = whole record. */
  fields: bigint;
  /** The grant version the read used. */
  version: number;
  readNumber: number;
  maxReads: number;
}
