import { type TypedDataDomain, getAddress, toUtf8Bytes } from "ethers";

import type { TypedDataPayload } from "./typed-data.js";
import type { Address, AssetKey, Hex } from "./types.js";
import type { Disclosure } from "./commitments.js";

/**
 * The wire protocol of the payload gateway, shared by the gateway and the SDK's `Delivery` client:
 * the EIP-712 messages callers sign, the request and response bodies, the additional data that binds
 * a sealed payload to its release, and the table of refusals (HTTP status and stable code). Both
 * sides read this one copy.
 */

/** EIP-712 domain name and version of a gateway's messages. */
export const GATEWAY_EIP712_NAME = "DataSafe Gateway";
export const GATEWAY_EIP712_VERSION = "1";

/** API version prefix of the gateway's routes. */
export const GATEWAY_ROUTES = {
  upload: "/v1/payloads",
  holderRelease: "/v1/releases/holder",
  consumerRelease: "/v1/releases/consumer",
  health: "/healthz",
} as const;

/**
 * The EIP-712 domain of gateway messages for one deployment: another name than the contracts'
 * domain, so a gateway message can never be replayed to a contract and the reverse, and bound to the
 * chain and the DataSafe address, so it is good for one deployment only.
 * @example const domain = gatewayDomain(1337n, dataSafeAddress);
 */
export function gatewayDomain(chainId: bigint | number, dataSafe: Address): TypedDataDomain {
  return {
    name: GATEWAY_EIP712_NAME,
    version: GATEWAY_EIP712_VERSION,
    chainId,
    verifyingContract: getAddress(dataSafe),
  };
}

/** EIP-712 types of the gateway's messages. */
export const DELIVERY_TYPES = {
  /** The issuer authorises storing the payload of one of its assets. */
  UploadPayload: [
    { name: "assetId", type: "bytes32" },
    { name: "deadline", type: "uint256" },
  ],
  /** The subject's controller asks for one of its assets, once (`nonce`), before `deadline`. */
  HolderFetch: [
    { name: "assetId", type: "bytes32" },
    { name: "subjectId", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
    { name: "deadline", type: "uint256" },
  ],
  /** The consumer asks for the payload its recorded read (`accessId`, mined in `transactionHash`) covers. */
  ConsumerFetch: [
    { name: "accessId", type: "bytes32" },
    { name: "transactionHash", type: "bytes32" },
    { name: "assetId", type: "bytes32" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export type DeliveryPrimaryType = keyof typeof DELIVERY_TYPES;

function typedData(
  domain: TypedDataDomain,
  primaryType: DeliveryPrimaryType,
  message: Record<string, unknown>,
): TypedDataPayload {
  return {
    domain,
    types: { [primaryType]: DELIVERY_TYPES[primaryType].map((field) => ({ ...field })) },
    primaryType,
    message,
  };
}

/** The issuer's signed permission to store an asset's payload. */
export function uploadTypedData(domain: TypedDataDomain, assetId: Hex, deadline: bigint | number): TypedDataPayload {
  return typedData(domain, "UploadPayload", { assetId, deadline });
}

/** The holder's signed fetch request. */
export function holderFetchTypedData(
  domain: TypedDataDomain,
  request: { assetId: Hex; subjectId: Hex; nonce: Hex; deadline: bigint | number },
): TypedDataPayload {
  return typedData(domain, "HolderFetch", { ...request });
}

/** The consumer's signed fetch request. */
export function consumerFetchTypedData(
  domain: TypedDataDomain,
  request: { accessId: Hex; transactionHash: Hex; assetId: Hex; deadline: bigint | number },
): TypedDataPayload {
  return typedData(domain, "ConsumerFetch", { ...request });
}

/** How the asset's content commitment was made from the record and salt (see commitments.ts). */
export type CommitmentScheme = "record" | "fields";

/** What an issuer uploads: the record, its salt, and the asset key it commits to. */
export interface UploadBody {
  assetId: Hex;
  issuer: Address;
  subjectId: Hex;
  dataType: number;
  /** `"record"`: `commitRecord(record, salt)`; `"fields"`: `commitFields(record, salt).root`. */
  scheme: CommitmentScheme;
  record: unknown;
  /** The record's salt, or for `"fields"` the master salt every field's salt derives from. */
  salt: Hex;
  deadline: number;
  signature: Hex;
}

/** The gateway's answer to an upload. */
export interface UploadResult {
  assetId: Hex;
  /** `"created"` the first time, `"existing"` when the payload was stored already. */
  stored: "created" | "existing";
}

export interface HolderFetchBody {
  /** The account that signed: the subject's controller. */
  account: Address;
  assetId: Hex;
  subjectId: Hex;
  nonce: Hex;
  deadline: number;
  signature: Hex;
}

export interface ConsumerFetchBody {
  /** The account that signed: the consumer that recorded the read. */
  account: Address;
  accessId: Hex;
  transactionHash: Hex;
  assetId: Hex;
  deadline: number;
  signature: Hex;
}

/** What a sealed release holds once opened. */
export type ReleasedPayload =
  | {
      /** The whole record (a holder's fetch, or a read of every field). */
      kind: "record";
      key: AssetKey;
      scheme: CommitmentScheme;
      record: unknown;
      salt: Hex;
    }
  | {
      /** Only the fields a read named, each with its salt and Merkle proof. */
      kind: "disclosure";
      key: AssetKey;
      disclosure: Disclosure;
    };

/** A release as the gateway sends it: the payload sealed to the recipient's current key. */
export interface Release {
  kind: "holder" | "consumer";
  assetId: Hex;
  /** The read released (consumer releases). */
  accessId?: Hex;
  /** The fields mask the read named (consumer releases). */
  fields?: string;
  /** The key it is sealed to, as read from the key directory at `blockNumber`. */
  recipient: { suite: number; publicKey: Hex };
  /** The confirmed block the gateway checked the chain at. */
  blockNumber: number;
  /** The sealed payload, as the cipher suite writes it, hex. */
  sealed: Hex;
}

/**
 * The additional authenticated data a release is sealed with: it binds the ciphertext to this
 * deployment and to the read (consumer) or the signed request (holder), so a sealed payload cannot
 * be passed off as the answer to another request.
 */
export function releaseAad(
  chainId: bigint | number,
  dataSafe: Address,
  release: { kind: "consumer"; accessId: Hex } | { kind: "holder"; assetId: Hex; nonce: Hex },
): Uint8Array {
  const scope = `datasafe-release:v1:${chainId}:${normalisedAddress(dataSafe)}`;
  return toUtf8Bytes(
    release.kind === "consumer"
      ? `${scope}:consumer:${release.accessId.toLowerCase()}`
      : `${scope}:holder:${release.assetId.toLowerCase()}:${release.nonce.toLowerCase()}`,
  );
}

/** The last address `releaseAad` checked, in lower case: a gateway asks about one deployment always. */
let lastAddress: { given: string; normalised: string } | undefined;

/** `getAddress(address).toLowerCase()` (a keccak to check the checksum), remembered for the last address. */
function normalisedAddress(address: string): string {
  if (lastAddress?.given !== address) lastAddress = { given: address, normalised: getAddress(address).toLowerCase() };
  return lastAddress.normalised;
}

/**
 * Every refusal of the gateway: its HTTP status and title, by stable code. The gateway answers with
 * an `application/problem+json` body (RFC 9457) whose `code` is one of these; the SDK throws the
 * matching `GatewayError` subclass (see delivery-errors.ts).
 */
export const DELIVERY_PROBLEMS = {
  "invalid-request": { status: 400, title: "The request body is malformed" },
  "invalid-signature": { status: 401, title: "The signature is not the expected account's" },
  "signature-expired": { status: 401, title: "The signature's deadline has passed" },
  "deadline-too-far": { status: 400, title: "The signature's deadline is further ahead than the gateway allows" },
  "fetch-replayed": { status: 409, title: "This fetch request was used already" },
  "commitment-mismatch": { status: 422, title: "The payload does not commit to the named asset" },
  "asset-not-found": { status: 404, title: "No asset with this id was issued on chain" },
  "asset-not-valid": { status: 409, title: "The asset is revoked, superseded or expired" },
  "payload-not-found": { status: 404, title: "The gateway holds no payload for this asset" },
  "not-subject-controller": { status: 403, title: "The signer does not control the asset's subject" },
  "recipient-key-missing": { status: 409, title: "The recipient has no encryption key on chain" },
  "access-not-found": { status: 404, title: "The transaction recorded no such access" },
  "access-not-confirmed": { status: 409, title: "The access is not confirmed yet" },
  "access-not-yours": { status: 403, title: "The access was recorded by another consumer" },
  "access-asset-mismatch": { status: 422, title: "The access is for another asset" },
  "consumer-not-active": { status: 403, title: "The consumer is not an active member" },
  "access-already-served": { status: 409, title: "This access was served already" },
  "fields-not-disclosable": {
    status: 422,
    title: "The read names some fields of an asset committed as a whole record",
  },
  "schema-unavailable": {
    status: 500,
    title: "The gateway has no schema document matching the catalog for this data type",
  },
  "payload-too-large": { status: 413, title: "The request body is larger than the gateway accepts" },
  "not-found": { status: 404, title: "No such route" },
  "storage-corrupt": { status: 500, title: "The stored payload failed its integrity check" },
  "chain-unavailable": { status: 503, title: "The gateway cannot read the chain" },
  "internal-error": { status: 500, title: "The gateway failed" },
} as const satisfies Record<string, { status: number; title: string }>;

export type DeliveryProblemCode = keyof typeof DELIVERY_PROBLEMS;

/** The media type of a refusal. */
export const PROBLEM_MEDIA_TYPE = "application/problem+json";

/** A refusal's body (RFC 9457 with a stable `code`). */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: DeliveryProblemCode;
  detail?: string;
  [extension: string]: unknown;
}

/** The `type` URI of a problem code. */
export function problemTypeOf(code: DeliveryProblemCode): string {
  return `urn:datasafe:gateway:${code}`;
}

/** Whether `code` is a problem code this SDK knows. */
export function isDeliveryProblemCode(code: unknown): code is DeliveryProblemCode {
  return typeof code === "string" && Object.hasOwn(DELIVERY_PROBLEMS, code);
}
