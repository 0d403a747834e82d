import { getAddress, getBytes, hexlify, isHexString, zeroPadValue } from "ethers";

import { DataSafeError, type DataSafeErrorOptions } from "./errors.js";
import type { Address, AssetKey, Authorization, Hex } from "./types.js";

/**
 * The `datasafe:` URIs that travel as QR codes between a counter screen, a holder's phone and a
 * verifier (see docs/uri-format.md). Version 1 has three kinds:
 *
 * - `datasafe:1/approve?…`  "approve this request": where it is, its id, and what the phone must show;
 * - `datasafe:1/approval?…` the holder's signed approval, travelling back when the phone does not relay;
 * - `datasafe:1/verify?…`   "verify this asset": an electronic licence's key (or id).
 *
 * Binary values (addresses, ids, signatures, an asset key) are base64url without padding; numbers
 * are decimal, masks and nonces hex without `0x`; text is UTF-8 with only `% & = # + ,`, spaces and
 * control characters percent-encoded, so a Chinese name costs 3 bytes a character and not 9 (the
 * URI is an IRI, RFC 3987). Parsing is strict: an unknown, repeated or missing key, or a value out
 * of range, is a `UriFormatError` naming the part.
 */

/** The scheme of every datasafe URI. */
export const URI_SCHEME = "datasafe";
/** The format version this SDK writes and reads. */
export const URI_VERSION = 1;

/** "Approve this request", as a counter screen shows it. */
export interface ApproveUri {
  kind: "approve";
  chainId: bigint;
  /** The DataSafe contract. */
  dataSafe: Address;
  requestId: Hex;
  /** What the phone must show; it checks each against the chain before signing. */
  shown: ShownRequest;
}

/** What a request asks, in the words the counter screen and the phone show. */
export interface ShownRequest {
  /** The consumer's registered name. */
  consumerName: string;
  /** Purpose code (its wording is the network's convention). */
  purpose: number;
  /** The data types asked for, ascending, each once. */
  dataTypes: number[];
  /** The fields mask; 0n = the whole record. */
  fields: bigint;
  /** The names of the fields the mask selects, in schema order; empty for the whole record. */
  fieldNames: string[];
  /** Seconds the grants last from approval. */
  grantDuration: number;
  /** Reads allowed per grant. */
  maxReads: number;
}

/** The holder's signed approval of a request, travelling back to whoever relays it. */
export interface ApprovalUri {
  kind: "approval";
  chainId: bigint;
  dataSafe: Address;
  requestId: Hex;
  authorization: Authorization;
}

/** "Verify this asset": its key (the verifier recomputes the id and asks `verifyAsset`) or only its id. */
export interface VerifyUri {
  kind: "verify";
  chainId: bigint;
  dataSafe: Address;
  /** The asset's key; when absent, `assetId` alone (its status is still checkable). */
  key: AssetKey | undefined;
  assetId: Hex | undefined;
}

export type DataSafeUri = ApproveUri | ApprovalUri | VerifyUri;

/** A URI is not a datasafe URI this SDK reads: `part` names what is wrong (`scheme`, `version`, `r`, `c`...). */
export class UriFormatError extends DataSafeError {
  /** The part of the URI at fault: `scheme`, `version`, `kind`, or a query key. */
  readonly part: string;

  constructor(part: string, shortMessage: string, options: DataSafeErrorOptions = {}) {
    super(`datasafe URI, ${part}: ${shortMessage}`, options);
    this.name = "UriFormatError";
    this.part = part;
  }
}

/** Largest field names and consumer names accepted (bytes of UTF-8): a QR has no room for more anyway. */
const MAX_TEXT_BYTES = 256;
const UINT16 = 2 ** 16;
const UINT32 = 2 ** 32;
const UINT40 = 2 ** 40;
const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

/**
 * The URI of "approve this request".
 * @example approveUri({ chainId: 1337n, dataSafe, requestId, shown: { consumerName: "City Bank", purpose: 1, dataTypes: [8], fields: 0n, fieldNames: [], grantDuration: 86_400, maxReads: 1 } })
 */
export function approveUri(uri: Omit<ApproveUri, "kind">): string {
  const s = uri.shown;
  const params: [string, string][] = [
    ["ch", chainIdText(uri.chainId)],
    ["ds", base64url(address20(uri.dataSafe))],
    ["r", base64url(bytes32Of("requestId", uri.requestId))],
    ["c", text(s.consumerName)],
    ["p", String(s.purpose)],
    ["t", [...s.dataTypes].sort((a, b) => a - b).join(",")],
  ];
  if (s.fields !== 0n) {
    params.push(["f", s.fields.toString(16)], ["fn", s.fieldNames.map(text).join(",")]);
  }
  params.push(["d", String(s.grantDuration)], ["m", String(s.maxReads)]);
  const built = `${URI_SCHEME}:${URI_VERSION}/approve?${params.map(([k, v]) => `${k}=${v}`).join("&")}`;
  parseApproveUri(built); // what cannot be read back is not written
  return built;
}

/** The URI of a signed approval. */
export function approvalUri(uri: Omit<ApprovalUri, "kind">): string {
  const a = uri.authorization;
  const built =
    `${URI_SCHEME}:${URI_VERSION}/approval?ch=${chainIdText(uri.chainId)}` +
    `&ds=${base64url(address20(uri.dataSafe))}&r=${base64url(bytes32Of("requestId", uri.requestId))}` +
    `&n=${BigInt(a.nonce).toString(16)}&dl=${BigInt(a.deadline).toString()}&s=${base64url(getBytes(a.signature))}`;
  parseApprovalUri(built);
  return built;
}

/** The URI of "verify this asset", by its key (preferred: the verifier checks issuer, holder and content) or its id. */
export function verifyUri(
  uri: { chainId: bigint; dataSafe: Address } & ({ key: AssetKey } | { assetId: Hex }),
): string {
  const head = `${URI_SCHEME}:${URI_VERSION}/verify?ch=${chainIdText(uri.chainId)}&ds=${base64url(address20(uri.dataSafe))}`;
  const built =
    "key" in uri
      ? `${head}&k=${base64url(assetKeyBytes(uri.key))}`
      : `${head}&a=${base64url(bytes32Of("assetId", uri.assetId))}`;
  parseVerifyUri(built);
  return built;
}

/**
 * Reads any datasafe URI.
 * @throws UriFormatError naming the part that is wrong
 */
export function parseUri(uri: string): DataSafeUri {
  const { kind } = split(uri);
  if (kind === "approve") return parseApproveUri(uri);
  if (kind === "approval") return parseApprovalUri(uri);
  return parseVerifyUri(uri);
}

/** Reads an "approve this request" URI. */
export function parseApproveUri(uri: string): ApproveUri {
  const q = query(uri, "approve", ["ch", "ds", "r", "c", "p", "t", "d", "m"], ["f", "fn"]);
  const fields = q.f === undefined ? 0n : hexUint("f", q.f, UINT64_MAX);
  if (fields === 0n && q.f !== undefined) throw new UriFormatError("f", "is 0: omit it for the whole record");
  if ((q.f === undefined) !== (q.fn === undefined)) {
    throw new UriFormatError(
      q.fn === undefined ? "fn" : "f",
      "f and fn go together (the mask and the names it selects)",
    );
  }
  const fieldNames = q.fn === undefined ? [] : list("fn", q.fn).map((n, i) => decodeText(`fn[${i}]`, n));
  const popcount = fields.toString(2).replaceAll("0", "").length;
  if (fieldNames.length !== popcount) {
    throw new UriFormatError("fn", `names ${fieldNames.length} fields, the mask selects ${popcount}`);
  }
  if (new Set(fieldNames).size !== fieldNames.length) throw new UriFormatError("fn", "names a field twice");
  const dataTypes = list("t", q.t).map((t, i) => decimal(`t[${i}]`, t, 1, UINT32 - 1));
  if (dataTypes.some((t, i) => i > 0 && t <= dataTypes[i - 1])) {
    throw new UriFormatError("t", "expected distinct type ids in ascending order");
  }
  const consumerName = decodeText("c", q.c);
  if (consumerName.trim() === "") throw new UriFormatError("c", "is empty: the phone must show who asks");
  return {
    kind: "approve",
    chainId: chainIdOf(q.ch),
    dataSafe: addressOf("ds", q.ds),
    requestId: bytes32From("r", q.r),
    shown: {
      consumerName,
      purpose: decimal("p", q.p, 0, UINT16 - 1),
      dataTypes,
      fields,
      fieldNames,
      grantDuration: decimal("d", q.d, 1, UINT40 - 1),
      maxReads: decimal("m", q.m, 1, UINT32 - 1),
    },
  };
}

/** Reads a signed-approval URI. */
export function parseApprovalUri(uri: string): ApprovalUri {
  const q = query(uri, "approval", ["ch", "ds", "r", "n", "dl", "s"], []);
  const signature = bytesFrom("s", q.s);
  if (signature.length !== 65)
    throw new UriFormatError("s", `expected a 65-byte signature, got ${signature.length} bytes`);
  return {
    kind: "approval",
    chainId: chainIdOf(q.ch),
    dataSafe: addressOf("ds", q.ds),
    requestId: bytes32From("r", q.r),
    authorization: {
      nonce: hexUint("n", q.n, UINT256_MAX),
      deadline: BigInt(decimal("dl", q.dl, 0, Number.MAX_SAFE_INTEGER)),
      signature: hexlify(signature),
    },
  };
}

/** Reads a "verify this asset" URI. */
export function parseVerifyUri(uri: string): VerifyUri {
  const q = query(uri, "verify", ["ch", "ds"], ["k", "a"]);
  if ((q.k === undefined) === (q.a === undefined)) {
    throw new UriFormatError(q.k === undefined ? "k" : "a", "expected exactly one of k (asset key) and a (asset id)");
  }
  let key: AssetKey | undefined;
  if (q.k !== undefined) {
    const bytes = bytesFrom("k", q.k);
    if (bytes.length !== 88) throw new UriFormatError("k", `expected an 88-byte asset key, got ${bytes.length} bytes`);
    const dataType = new DataView(bytes.buffer, bytes.byteOffset + 52, 4).getUint32(0);
    if (dataType === 0) throw new UriFormatError("k", "names data type 0");
    key = {
      issuer: getAddress(hexlify(bytes.subarray(0, 20))),
      subjectId: hexlify(bytes.subarray(20, 52)),
      dataType,
      contentCommitment: hexlify(bytes.subarray(56, 88)),
    };
  }
  return {
    kind: "verify",
    chainId: chainIdOf(q.ch),
    dataSafe: addressOf("ds", q.ds),
    key,
    assetId: q.a === undefined ? undefined : bytes32From("a", q.a),
  };
}

// ---------------------------------------------------------------------------------------------

const KINDS = ["approve", "approval", "verify"] as const;
type Kind = (typeof KINDS)[number];

function split(uri: string): { kind: Kind; rest: string } {
  if (typeof uri !== "string") throw new UriFormatError("scheme", "expected a string");
  const trimmed = uri.trim();
  const colon = trimmed.indexOf(":");
  if (colon < 0 || trimmed.slice(0, colon).toLowerCase() !== URI_SCHEME) {
    throw new UriFormatError("scheme", `expected ${URI_SCHEME}:, got ${JSON.stringify(trimmed.slice(0, 24))}`);
  }
  const path = trimmed.slice(colon + 1);
  const slash = path.indexOf("/");
  const version = slash < 0 ? path : path.slice(0, slash);
  if (version !== String(URI_VERSION)) {
    throw new UriFormatError("version", `this SDK reads version ${URI_VERSION}, got ${JSON.stringify(version)}`);
  }
  const question = path.indexOf("?");
  const kind = path.slice(slash + 1, question < 0 ? undefined : question);
  if (slash < 0 || !(KINDS as readonly string[]).includes(kind)) {
    throw new UriFormatError("kind", `expected one of ${KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  }
  return { kind: kind as Kind, rest: question < 0 ? "" : path.slice(question + 1) };
}

function query(uri: string, expected: Kind, required: string[], optional: string[]): Record<string, string> {
  const { kind, rest } = split(uri);
  if (kind !== expected) throw new UriFormatError("kind", `expected ${expected}, got ${kind}`);
  const values: Record<string, string> = {};
  for (const pair of rest === "" ? [] : rest.split("&")) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (!required.includes(key) && !optional.includes(key)) {
      throw new UriFormatError(key, `is not a key of a version ${URI_VERSION} ${kind} URI`);
    }
    if (key in values) throw new UriFormatError(key, "appears twice");
    if (eq < 0) throw new UriFormatError(key, "has no value");
    values[key] = pair.slice(eq + 1);
  }
  for (const key of required) if (!(key in values)) throw new UriFormatError(key, "is missing");
  return values;
}

function decodeText(part: string, value: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch (error) {
    throw new UriFormatError(part, "is not valid percent-encoded UTF-8", { cause: error });
  }
  if (new TextEncoder().encode(decoded).length > MAX_TEXT_BYTES) {
    throw new UriFormatError(part, `is longer than ${MAX_TEXT_BYTES} bytes`);
  }
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw new UriFormatError(part, "holds control characters");
  return decoded;
}

/** Text as the URI carries it: UTF-8 left as is, the few characters that delimit the URI percent-encoded. */
function text(value: string): string {
  return value.replace(/[%&=#+, \u0000-\u001f\u007f]/g, (c) =>
    [...new TextEncoder().encode(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
}

function list(part: string, value: string): string[] {
  const items = value.split(",");
  if (items.some((item) => item === "")) throw new UriFormatError(part, "has an empty item");
  return items;
}

function decimal(part: string, value: string, min: number, max: number): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(value))
    throw new UriFormatError(part, `expected a decimal number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UriFormatError(part, `expected ${min} to ${max}, got ${value}`);
  return n;
}

function hexUint(part: string, value: string, max: bigint): bigint {
  if (!/^(0|[1-9a-f][0-9a-f]*)$/.test(value))
    throw new UriFormatError(part, `expected lower-case hex without 0x, got ${JSON.stringify(value)}`);
  const n = BigInt(`0x${value}`);
  if (n > max) throw new UriFormatError(part, "is out of range");
  return n;
}

function chainIdOf(value: string): bigint {
  const id = decimal("ch", value, 1, Number.MAX_SAFE_INTEGER);
  return BigInt(id);
}

function chainIdText(chainId: bigint): string {
  if (chainId < 1n || chainId > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UriFormatError("ch", `chain id ${chainId} is out of range`);
  }
  return chainId.toString();
}

function bytesFrom(part: string, value: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new UriFormatError(part, "expected base64url without padding");
  const bytes = Buffer.from(value, "base64url");
  // Reject non-canonical encodings (stray bits in the last character): one value, one text.
  if (bytes.toString("base64url") !== value) throw new UriFormatError(part, "is not canonical base64url");
  return new Uint8Array(bytes);
}

function bytes32From(part: string, value: string): Hex {
  const bytes = bytesFrom(part, value);
  if (bytes.length !== 32) throw new UriFormatError(part, `expected 32 bytes, got ${bytes.length}`);
  return hexlify(bytes);
}

function addressOf(part: string, value: string): Address {
  const bytes = bytesFrom(part, value);
  if (bytes.length !== 20) throw new UriFormatError(part, `expected a 20-byte address, got ${bytes.length} bytes`);
  return getAddress(hexlify(bytes));
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

function address20(value: Address, part = "ds"): Uint8Array {
  try {
    return getBytes(getAddress(value));
  } catch (error) {
    throw new UriFormatError(part, `expected an address, got ${String(value)}`, { cause: error });
  }
}

function bytes32Of(part: string, value: Hex): Uint8Array {
  if (!isHexString(value, 32)) throw new UriFormatError(part, `expected 32 bytes as 0x-hex, got ${String(value)}`);
  return getBytes(value);
}

/** issuer (20) ‖ subjectId (32) ‖ dataType (uint32, big-endian) ‖ contentCommitment (32). */
function assetKeyBytes(key: AssetKey): Uint8Array {
  const type = key.dataType;
  if (!Number.isSafeInteger(type) || type < 1 || type >= UINT32)
    throw new UriFormatError("k", `data type ${type} is not a uint32 id`);
  return getBytes(
    `0x${[
      address20(key.issuer, "k"),
      bytes32Of("k", key.subjectId),
      getBytes(zeroPadValue(`0x${type.toString(16).padStart(2, "0")}`, 4)),
      bytes32Of("k", key.contentCommitment),
    ]
      .map((b) => hexlify(b).slice(2))
      .join("")}`,
  );
}
