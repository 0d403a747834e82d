import type { Provider } from "ethers";

import { schemaHashOf } from "./catalog.js";
import type { DataSafeClient } from "./client.js";
import type { AccessRequestStatus } from "./constants.js";
import type { GrantsIssued, SignOptions, TypedDataSigner } from "./consent.js";
import { accessRequestOf } from "./consent.js";
import { DataSafeError, type DataSafeErrorOptions, InvalidInputError } from "./errors.js";
import { fieldNamesOf } from "./fields.js";
import { parseDataTypeTarget, requestIdOf } from "./ids.js";
import { LogReader } from "./logs.js";
import type { PendingTransaction } from "./transaction.js";
import type { AccessRequest, Address, Authorization, Hex } from "./types.js";
import {
  type ApprovalUri,
  type ApproveUri,
  type ShownRequest,
  approvalUri,
  parseApprovalUri,
  parseApproveUri,
} from "./uri.js";

/**
 * The holder's phone's side of a scanned `datasafe:1/approve` URI (see uri.ts): fetch the request
 * the URI names from the chain by its id (its `AccessRequested` event carries all of it), refuse if
 * anything the counter screen showed differs from the chain (a counter screen must not lie), and
 * sign the EIP-712 approval of exactly the chain's request. And the relayer's side of the signed
 * approval that travels back.
 *
 * @example
 * const checked = await checkApproveUri(phoneClient, scannedText, { schemas });
 * show(checked); // consumer, purpose, data types and issuers, fields, duration, reads: all from the chain
 * const { authorization, uri } = await signApproveUri(phoneClient, phoneWallet, checked);
 */

/** What the counter screen showed differs from the chain: `part` names it, with both values. */
export class UriMismatchError extends DataSafeError {
  /** What differs: `chainId`, `dataSafe`, `consumerName`, `purpose`, `dataTypes`, `fields`, `fieldNames`, `grantDuration`, `maxReads`, `requestId`. */
  readonly part: string;
  /** What the URI says. */
  readonly shown: string;
  /** What the chain says. */
  readonly onChain: string;

  constructor(part: string, shown: string, onChain: string, options: DataSafeErrorOptions = {}) {
    super(`the QR code's ${part} differs from the chain: it shows ${shown}, the chain has ${onChain}`, options);
    this.name = "UriMismatchError";
    this.part = part;
    this.shown = shown;
    this.onChain = onChain;
  }
}

/** The request cannot be approved: unknown (`None`), already decided, cancelled, or past its expiry. */
export class RequestNotApprovableError extends DataSafeError {
  readonly requestId: Hex;
  readonly status: AccessRequestStatus | "Expired";

  constructor(requestId: Hex, status: AccessRequestStatus | "Expired") {
    super(
      status === "None"
        ? `request ${requestId} is not on this chain`
        : `request ${requestId} cannot be approved: it is ${status}`,
    );
    this.name = "RequestNotApprovableError";
    this.requestId = requestId;
    this.status = status;
  }
}

/** One target of a request, named as the phone shows it. */
export interface ShownTarget {
  target: Hex;
  dataType: number;
  dataTypeName: string;
  issuer: Address;
  issuerName: string;
}

/** A scanned request, checked against the chain: what to show and what to sign. */
export interface CheckedRequest {
  requestId: Hex;
  /** The request exactly as stored: what an approval signs. */
  request: AccessRequest;
  /** What the URI showed, equal to the chain's. */
  shown: ShownRequest;
  consumer: Address;
  /** Each target with its type and issuing department, from the chain. */
  targets: ShownTarget[];
  /** The chain id and contract the approval is signed for. */
  chainId: bigint;
  dataSafe: Address;
}

/** A schema document as hashed into the catalog; its `fields` list the names of the mask's bits. */
export type SchemaSource = (dataType: number) => unknown | Promise<unknown>;

export interface CheckOptions {
  /**
   * The phone's schema documents by type: needed when a request names fields, to check the names
   * the URI shows against the mask on chain. Each is checked against the catalog's `schemaHash`.
   */
  schemas?: SchemaSource;
}

/**
 * Checks a scanned "approve this request" URI against the chain the client is on.
 * @throws UriFormatError if the text is not such a URI; UriMismatchError if anything shown differs
 * from the chain; RequestNotApprovableError if the request is unknown, decided or expired
 */
export async function checkApproveUri(
  client: DataSafeClient,
  uri: string | ApproveUri,
  options: CheckOptions = {},
): Promise<CheckedRequest> {
  const parsed = typeof uri === "string" ? parseApproveUri(uri) : uri;
  const provider = providerOf(client);
  const chainId = (await provider.getNetwork()).chainId;
  if (chainId !== parsed.chainId) throw new UriMismatchError("chainId", String(parsed.chainId), String(chainId));
  if (parsed.dataSafe !== client.address) throw new UriMismatchError("dataSafe", parsed.dataSafe, client.address);
  const request = await findRequest(client, parsed.requestId);
  if (request === undefined) throw new RequestNotApprovableError(parsed.requestId, "None");
  const status = await client.consent.requestStatus(parsed.requestId);
  if (status !== "Open") throw new RequestNotApprovableError(parsed.requestId, status);
  const latest = await provider.getBlock("latest");
  if (latest !== null && latest.timestamp > request.expiresAt) {
    throw new RequestNotApprovableError(parsed.requestId, "Expired");
  }

  const shown = parsed.shown;
  const consumer = await client.members.get(request.consumer);
  compare("consumerName", shown.consumerName, consumer.name);
  compare("purpose", String(shown.purpose), String(request.purpose));
  const targets = await targetsOf(client, request);
  const dataTypes = [...new Set(targets.map((t) => t.dataType))].sort((a, b) => a - b);
  compare("dataTypes", shown.dataTypes.join(","), dataTypes.join(","));
  compare("fields", `0x${shown.fields.toString(16)}`, `0x${request.fields.toString(16)}`);
  if (request.fields !== 0n) {
    for (const dataType of dataTypes) {
      const names = fieldNamesOf(await schemaFields(client, options, dataType), request.fields);
      compare("fieldNames", shown.fieldNames.join(","), names.join(","));
    }
  }
  compare("grantDuration", String(shown.grantDuration), String(request.grantDuration));
  compare("maxReads", String(shown.maxReads), String(request.maxReads));
  return {
    requestId: parsed.requestId,
    request,
    shown,
    consumer: request.consumer,
    targets,
    chainId,
    dataSafe: client.address,
  };
}

/**
 * Signs the approval of a checked request (or checks a URI first), and writes the approval URI
 * that carries the signature back when the phone does not relay it.
 * @param signer the subject's controller; when it can tell its address, it is checked to be it
 */
export async function signApproveUri(
  client: DataSafeClient,
  signer: TypedDataSigner,
  scanned: string | ApproveUri | CheckedRequest,
  options: CheckOptions & SignOptions = {},
): Promise<{ checked: CheckedRequest; authorization: Authorization; uri: string }> {
  const checked =
    typeof scanned === "string" || "kind" in scanned ? await checkApproveUri(client, scanned, options) : scanned;
  const withAddress = signer as TypedDataSigner & { getAddress?: () => Promise<string> };
  if (typeof withAddress.getAddress === "function") {
    const [who, subject] = await Promise.all([
      withAddress.getAddress(),
      client.subjects.get(checked.request.subjectId),
    ]);
    if (who.toLowerCase() !== subject.controller.toLowerCase()) {
      throw new InvalidInputError(
        "signer",
        `${who} does not control the request's subject (${subject.controller} does)`,
      );
    }
  }
  const authorization = await client.consent.signApproval(signer, checked.request, {
    nonce: options.nonce,
    deadline: options.deadline,
  });
  const uri = approvalUri({
    chainId: checked.chainId,
    dataSafe: checked.dataSafe,
    requestId: checked.requestId,
    authorization,
  });
  return { checked, authorization, uri };
}

/**
 * Relays a holder's approval that came back as a `datasafe:1/approval` URI: finds the request by
 * its id on chain and sends `approveRequestBySig`. The caller pays; the contract checks the signature.
 */
export async function relayApprovalUri(
  client: DataSafeClient,
  uri: string | ApprovalUri,
): Promise<PendingTransaction<GrantsIssued & { requestId: Hex }>> {
  const parsed = typeof uri === "string" ? parseApprovalUri(uri) : uri;
  const chainId = (await providerOf(client).getNetwork()).chainId;
  if (chainId !== parsed.chainId) throw new UriMismatchError("chainId", String(parsed.chainId), String(chainId));
  if (parsed.dataSafe !== client.address) throw new UriMismatchError("dataSafe", parsed.dataSafe, client.address);
  const request = await findRequest(client, parsed.requestId);
  if (request === undefined) throw new RequestNotApprovableError(parsed.requestId, "None");
  return client.consent.approveBySig(request, parsed.authorization);
}

/**
 * The request with id `requestId`, from its `AccessRequested` event (read in pages from the
 * client's first block, as every history query); `undefined` if it was never made.
 */
export async function findRequest(client: DataSafeClient, requestId: Hex): Promise<AccessRequest | undefined> {
  const ds = client.contracts.dataSafe;
  const logs = await reader(client).getLogs(
    "getLogs AccessRequested",
    { address: client.address, topics: [ds.getEvent("AccessRequested").fragment.topicHash, requestId.toLowerCase()] },
    await span(client),
  );
  for (const log of logs) {
    const parsed = ds.interface.parseLog(log);
    if (parsed === null) continue;
    const request = accessRequestOf(parsed.args.request);
    // The id is the hash of the content: a log that does not hash to it is not this request.
    if (requestIdOf(request) === requestId.toLowerCase()) return request;
  }
  return undefined;
}

function compare(part: string, shown: string, onChain: string): void {
  if (shown !== onChain) throw new UriMismatchError(part, JSON.stringify(shown), JSON.stringify(onChain));
}

async function targetsOf(client: DataSafeClient, request: AccessRequest): Promise<ShownTarget[]> {
  const issuedBy = new Map<string, { issuer: Address; dataType: number }>();
  if (request.scope === "Asset") {
    const ds = client.contracts.dataSafe;
    const logs = await reader(client).getLogs(
      "getLogs AssetIssued",
      {
        address: client.address,
        topics: [ds.getEvent("AssetIssued").fragment.topicHash, request.targets.map((t) => t.toLowerCase())],
      },
      await span(client),
    );
    for (const log of logs) {
      const parsed = ds.interface.parseLog(log);
      if (parsed !== null) {
        issuedBy.set(String(parsed.args.assetId).toLowerCase(), {
          issuer: String(parsed.args.issuer),
          dataType: Number(parsed.args.dataType),
        });
      }
    }
  }
  const names = new Map<string, string>();
  const typeNames = new Map<number, string>();
  const targets: ShownTarget[] = [];
  for (const target of request.targets) {
    const found = request.scope === "DataType" ? parseDataTypeTarget(target) : issuedBy.get(target.toLowerCase());
    // An asset the chain never issued cannot be shown truthfully; the contract would refuse it too.
    if (found === undefined) throw new UriMismatchError("dataTypes", "a type", `no asset ${target}`);
    if (!names.has(found.issuer)) names.set(found.issuer, (await client.members.get(found.issuer)).name);
    if (!typeNames.has(found.dataType)) typeNames.set(found.dataType, (await client.catalog.get(found.dataType)).name);
    targets.push({
      target,
      dataType: found.dataType,
      dataTypeName: typeNames.get(found.dataType) ?? "",
      issuer: found.issuer,
      issuerName: names.get(found.issuer) ?? "",
    });
  }
  return targets;
}

async function schemaFields(client: DataSafeClient, options: CheckOptions, dataType: number): Promise<string[]> {
  const schema = await options.schemas?.(dataType);
  if (schema === undefined || schema === null) {
    throw new InvalidInputError(
      "options.schemas",
      `has no schema for data type ${dataType}: the field names the QR code shows cannot be checked`,
    );
  }
  const onChain = (await client.catalog.get(dataType)).schemaHash;
  if (schemaHashOf(schema) !== onChain) {
    throw new InvalidInputError(
      "options.schemas",
      `the schema given for data type ${dataType} does not hash to the catalog's ${onChain}`,
    );
  }
  const fields = (schema as { fields?: unknown }).fields;
  if (!Array.isArray(fields))
    throw new InvalidInputError("options.schemas", `type ${dataType}'s schema lists no fields`);
  return fields.map((f, i) => {
    const name = typeof f === "string" ? f : (f as { name?: unknown })?.name;
    if (typeof name !== "string")
      throw new InvalidInputError("options.schemas", `type ${dataType}'s field ${i} has no name`);
    return name;
  });
}

function providerOf(client: DataSafeClient): Provider {
  const runner = client.runner;
  const provider =
    runner.provider ?? (typeof (runner as Provider).getNetwork === "function" ? (runner as Provider) : null);
  if (provider === null) throw new DataSafeError("the client's runner has no provider");
  return provider;
}

const readers = new WeakMap<DataSafeClient, LogReader>();

function reader(client: DataSafeClient): LogReader {
  let r = readers.get(client);
  if (r === undefined) {
    r = new LogReader(() => providerOf(client));
    readers.set(client, r);
  }
  return r;
}

async function span(client: DataSafeClient) {
  const toBlock = await reader(client).read("getBlockNumber", () => providerOf(client).getBlockNumber());
  return { fromBlock: Math.min(client.fromBlock, toBlock), toBlock };
}
