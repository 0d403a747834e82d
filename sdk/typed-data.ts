import { type TypedDataDomain, type TypedDataField, TypedDataEncoder, id, verifyTypedData } from "ethers";

import { EIP712_NAME, EIP712_VERSION, enumValue } from "./constants.js";
import { requestIdOf } from "./ids.js";
import type { AccessRequest, Address, GrantKey, GrantTerms, Hex } from "./types.js";

/**
 * The EIP-712 messages a holder signs, as plain data any wallet signs: ethers
 * `signer.signTypedData(domain, types, message)`, MetaMask's `eth_signTypedData_v4`, a hardware
 * wallet. Each carries what the holder decides as flat fields a wallet displays: an approval or a
 * rejection shows the request's whole content (consumer, scope, targets, fields, purpose, grant
 * duration, reads, expiry) beside its id, which the contract recomputes from that content. They
 * mirror the typehashes of contracts/ConsentManager.sol; `typeHashOf` recomputes them so a test can
 * hold both sides together.
 */

/** The fields every signed holder act ends with. */
export interface SignatureTerms {
  /** An unused nonce of the holder's current epoch (`consent.nextNonce(subjectId)`, see nonces.ts). */
  nonce: bigint | number;
  /** Unix seconds after which the contract refuses the signature. */
  deadline: bigint | number;
}

/** A message ready for `signTypedData`. */
export interface TypedDataPayload<M extends Record<string, unknown> = Record<string, unknown>> {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: M;
}

/** EIP-712 types by primary type; field order and types exactly as the Solidity typehashes. */
export const TYPES = {
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
} as const satisfies Record<string, readonly TypedDataField[]>;

export type PrimaryType = keyof typeof TYPES;

/**
 * The EIP-712 domain of a DataSafe deployment.
 * @example const domain = dataSafeDomain(1337n, dataSafeAddress);
 */
export function dataSafeDomain(chainId: bigint | number, verifyingContract: Address): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract };
}

/** The domain separator `domain` hashes to; equal to the contract's `domainSeparator()` if right. */
export function domainSeparatorOf(domain: TypedDataDomain): Hex {
  return TypedDataEncoder.hashDomain(domain);
}

/**
 * The typehash of a primary type, e.g. equal to `APPROVE_REQUEST_TYPEHASH` for `ApproveAccessRequest`.
 */
export function typeHashOf(primaryType: PrimaryType): Hex {
  return id(TypedDataEncoder.from(typesOf(primaryType)).encodeType(primaryType));
}

/**
 * The approval of an access request, signed by the holder's controller: the request's content, as
 * the wallet shows it, and its id.
 * @example
 * const payload = approveRequestTypedData(domain, request, { nonce, deadline });
 * const signature = await phone.signTypedData(payload.domain, payload.types, payload.message);
 */
export function approveRequestTypedData(
  domain: TypedDataDomain,
  request: AccessRequest,
  terms: SignatureTerms,
): TypedDataPayload {
  const { requestId, ...content } = requestMessage(request);
  return payload(domain, "ApproveAccessRequest", { requestId, ...content, ...signatureFields(terms) });
}

/** The rejection of an access request, signed by the holder's controller: the reason and the request. */
export function rejectRequestTypedData(
  domain: TypedDataDomain,
  request: AccessRequest,
  reason: number,
  terms: SignatureTerms,
): TypedDataPayload {
  const { requestId, ...content } = requestMessage(request);
  return payload(domain, "RejectAccessRequest", { requestId, reason, ...content, ...signatureFields(terms) });
}

/** A direct grant, signed by the holder's controller. */
export function grantTypedData(domain: TypedDataDomain, grant: GrantTerms, terms: SignatureTerms): TypedDataPayload {
  return payload(domain, "Grant", {
    subjectId: grant.subjectId,
    consumers: grant.consumers,
    scope: enumValue("GrantScope", grant.scope),
    targets: grant.targets,
    fields: grant.fields,
    purpose: grant.purpose,
    expiresAt: grant.expiresAt,
    maxReads: grant.maxReads,
    nonce: terms.nonce,
    deadline: terms.deadline,
  });
}

/**
 * The revocation of a grant's `version` (the one the holder sees; 0 = whichever is current when
 * relayed), signed by the holder's controller.
 */
export function revokeTypedData(
  domain: TypedDataDomain,
  key: GrantKey,
  version: number,
  terms: SignatureTerms,
): TypedDataPayload {
  return payload(domain, "Revoke", {
    subjectId: key.subjectId,
    consumer: key.consumer,
    scope: enumValue("GrantScope", key.scope),
    target: key.target,
    purpose: key.purpose,
    version,
    nonce: terms.nonce,
    deadline: terms.deadline,
  });
}

/**
 * A holder's request that a department return data of a type, signed by the holder's controller.
 * @example
 * const payload = requestReturnTypedData(domain, { subjectId, dataType: 4, department }, { nonce, deadline });
 */
export function requestReturnTypedData(
  domain: TypedDataDomain,
  request: { subjectId: Hex; dataType: number; department: Address },
  terms: SignatureTerms,
): TypedDataPayload {
  return payload(domain, "RequestReturn", {
    subjectId: request.subjectId,
    dataType: request.dataType,
    department: request.department,
    nonce: terms.nonce,
    deadline: terms.deadline,
  });
}

/** The EIP-712 digest of a payload (what the wallet signs). */
export function hashTypedData(p: TypedDataPayload): Hex {
  return TypedDataEncoder.hash(p.domain, p.types, p.message);
}

/** The address that signed a payload (an EOA signature; a contract wallet is checked on chain). */
export function recoverTypedDataSigner(p: TypedDataPayload, signature: Hex): Address {
  return verifyTypedData(p.domain, p.types, p.message, signature);
}

/** The id and content of a request, as approvals and rejections show them. */
function requestMessage(request: AccessRequest) {
  return {
    requestId: requestIdOf(request),
    subjectId: request.subjectId,
    consumer: request.consumer,
    scope: enumValue("GrantScope", request.scope),
    targets: request.targets,
    fields: request.fields,
    purpose: request.purpose,
    grantDuration: request.grantDuration,
    maxReads: request.maxReads,
    expiresAt: request.expiresAt,
    requestNonce: request.nonce,
  };
}

function signatureFields(terms: SignatureTerms) {
  return { nonce: terms.nonce, deadline: terms.deadline };
}

function typesOf(primaryType: PrimaryType): Record<string, TypedDataField[]> {
  return { [primaryType]: TYPES[primaryType].map((field) => ({ ...field })) };
}

function payload(
  domain: TypedDataDomain,
  primaryType: PrimaryType,
  message: Record<string, unknown>,
): TypedDataPayload {
  return { domain, types: typesOf(primaryType), primaryType, message };
}
