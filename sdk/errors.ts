import type { DataCatalog__factory, DataSafe__factory, KeyDirectory__factory } from "../typechain-types/index.js";
import type { AccessCheck, EnumMember, EnumName } from "./constants.js";

/**
 * Errors of the SDK. Every error it throws is a `DataSafeError`; callers switch on the class (and,
 * for a contract revert, on `errorName`), never on message text.
 *
 * @example
 * try {
 *   await (await bank.accessLog.recordAccess(read)).wait();
 * } catch (error) {
 *   if (error instanceof AccessDeniedError && error.reason === "GrantExhausted") askForANewGrant();
 *   else throw error;
 * }
 */
export interface DataSafeErrorOptions {
  /** Longer explanation: what was being done, with which values. */
  details?: string;
  /** The error this one explains (an ethers or RPC error, usually). */
  cause?: unknown;
}

/** Base class of every error the SDK throws. */
export class DataSafeError extends Error {
  /** One line a person can read, without the details. */
  readonly shortMessage: string;
  /** What was being done, with which values; empty if nothing more to say. */
  readonly details: string;

  constructor(shortMessage: string, options: DataSafeErrorOptions = {}) {
    super(options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage, {
      cause: options.cause,
    });
    this.name = "DataSafeError";
    this.shortMessage = shortMessage;
    this.details = options.details ?? "";
  }
}

// ---------------------------------------------------------------------------------------------
// Contract reverts, typed from the TypeChain ABIs: `errorName` is the Solidity error's name and
// `args` its arguments by name, numbers of 48 bits or fewer as `number`, wider ones as `bigint`,
// and enums as member names (`reason: "GrantExhausted"`).

type SuiteAbiItem =
  | (typeof DataSafe__factory.abi)[number]
  | (typeof DataCatalog__factory.abi)[number]
  | (typeof KeyDirectory__factory.abi)[number];
type AbiError = Extract<SuiteAbiItem, { type: "error" }>;
type SmallUint = "uint8" | "uint16" | "uint24" | "uint32" | "uint40" | "uint48";
type SmallInt = "int8" | "int16" | "int24" | "int32" | "int40" | "int48";

type ArgValue<P> = P extends { internalType: `enum ${infer E}` }
  ? E extends EnumName
    ? EnumMember<E>
    : number
  : P extends { type: "address" | "string" | `bytes${string}` }
    ? string
    : P extends { type: "bool" }
      ? boolean
      : P extends { type: SmallUint | SmallInt }
        ? number
        : P extends { type: `uint${string}` | `int${string}` }
          ? bigint
          : unknown;

/** Name of every custom error the suite's contracts can revert with, plus Solidity's `Error` and `Panic`. */
export type RevertName = AbiError["name"] | "Error" | "Panic";

/** The arguments of a revert, by name. */
export type RevertArgs<N extends RevertName> = N extends "Error"
  ? { readonly message: string }
  : N extends "Panic"
    ? { readonly code: bigint }
    : { readonly [P in Extract<AbiError, { name: N }>["inputs"][number] as P["name"]]: ArgValue<P> };

export interface ContractRevertedErrorOptions<N extends RevertName> extends DataSafeErrorOptions {
  errorName: N;
  args: RevertArgs<N>;
  /** Canonical signature, e.g. `AccessDenied(bytes32,bytes32,uint8)`. */
  signature: string;
  /** The raw revert data. */
  data: string;
  /** What the SDK was doing, e.g. `recordAccess`. */
  action: string;
}

/**
 * A contract call reverted with an error of the suite's ABI. `errorName` and `args` say which
 * and why; `is(name)` narrows `args` to that error's type.
 */
export class ContractRevertedError<N extends RevertName = RevertName> extends DataSafeError {
  readonly errorName: N;
  readonly args: RevertArgs<N>;
  readonly signature: string;
  readonly data: string;
  readonly action: string;

  constructor(options: ContractRevertedErrorOptions<N>) {
    super(`${options.action} reverted with ${options.errorName}(${formatArgs(options.args)})`, options);
    this.name = "ContractRevertedError";
    this.errorName = options.errorName;
    this.args = options.args;
    this.signature = options.signature;
    this.data = options.data;
    this.action = options.action;
  }

  /**
   * Whether this revert is the error `name`; narrows `args`.
   * @example if (error.is("NotSubjectController")) console.log(error.args.account);
   */
  is<M extends RevertName>(name: M): this is ContractRevertedError<M> {
    return (this.errorName as RevertName) === name;
  }
}

/** A read was refused (`AccessDenied`): `reason` says which check failed. */
export class AccessDeniedError extends ContractRevertedError<"AccessDenied"> {
  /** Which check failed: `GrantExhausted`, `GrantRevoked`, `ConsumerNotActive`... */
  readonly reason: AccessCheck;
  readonly grantId: string;
  readonly assetId: string;

  constructor(options: ContractRevertedErrorOptions<"AccessDenied">) {
    super(options);
    this.name = "AccessDeniedError";
    this.reason = options.args.reason;
    this.grantId = options.args.grantId;
    this.assetId = options.args.assetId;
  }
}

/** The custom errors by which the contract refuses a holder's signature. */
export const SIGNATURE_REFUSALS = ["InvalidSignature", "NonceUsed", "NonceEpochMismatch", "SignatureExpired"] as const;
export type SignatureRefusal = (typeof SIGNATURE_REFUSALS)[number];

/**
 * A holder's signature was refused and can never be used as it is: another signer or other content
 * (`InvalidSignature`), a nonce used or cancelled (`NonceUsed`), signed before a hand-over, recovery
 * or `invalidateNonce` (`NonceEpochMismatch`), or past its deadline (`SignatureExpired`). The holder
 * signs again; `errorName` and `args` say which.
 */
export class SignatureRefusedError extends ContractRevertedError<SignatureRefusal> {
  constructor(options: ContractRevertedErrorOptions<SignatureRefusal>) {
    super(options);
    this.name = "SignatureRefusedError";
  }
}

/** A call reverted with data that no ABI of the suite decodes (or with none at all). */
export class UnknownRevertError extends DataSafeError {
  /** The raw revert data, `0x` if the revert carried none. */
  readonly data: string;
  readonly action: string;

  constructor(action: string, data: string, options: DataSafeErrorOptions = {}) {
    super(
      data === "0x"
        ? `${action} reverted without a reason`
        : `${action} reverted with unknown error ${data.slice(0, 10)}`,
      options,
    );
    this.name = "UnknownRevertError";
    this.data = data;
    this.action = action;
  }
}

/** Sending or confirming a transaction failed for a reason other than a revert (network, funds, nonce). */
export class TransactionFailedError extends DataSafeError {
  readonly action: string;
  /** The transaction hash, when it got that far. */
  readonly hash: string | undefined;

  constructor(action: string, options: DataSafeErrorOptions & { hash?: string } = {}) {
    super(`${action} failed`, options);
    this.name = "TransactionFailedError";
    this.action = action;
    this.hash = options.hash;
  }
}

/** A write or a signature needs a signer, and the client was made with a provider only. */
export class SignerRequiredError extends DataSafeError {
  constructor(action: string) {
    super(`${action} needs a signer`, { details: "connect the client to a Signer: client.connect(signer)" });
    this.name = "SignerRequiredError";
  }
}

/** A mined transaction lacks the event the SDK decodes its result from. */
export class EventNotFoundError extends DataSafeError {
  readonly eventName: string;
  readonly hash: string;

  constructor(eventName: string, hash: string) {
    super(`transaction ${hash} emitted no ${eventName} event`);
    this.name = "EventNotFoundError";
    this.eventName = eventName;
    this.hash = hash;
  }
}

/** An argument was rejected before anything was sent. */
export class InvalidInputError extends DataSafeError {
  /** Which argument, e.g. `record.members[2]`. */
  readonly field: string;

  constructor(field: string, shortMessage: string, options: DataSafeErrorOptions = {}) {
    super(`${field}: ${shortMessage}`, options);
    this.name = "InvalidInputError";
    this.field = field;
  }
}

/** The EIP-712 domain the SDK builds does not hash to the contract's `domainSeparator()`. */
export class DomainMismatchError extends DataSafeError {
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string, details: string) {
    super("the EIP-712 domain does not match the contract's", { details });
    this.name = "DomainMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

/** Why a log query gave up: the node kept failing, refused a one-block page as too large, or refused the query outright. */
export type LogQueryFailure = "RetriesExhausted" | "TooLarge" | "Rejected";

/**
 * An `eth_getLogs` page failed for good: `fromBlock`..`toBlock` is the page, `rpcMessage` what the
 * node said last. The trail it was part of is incomplete, so nothing is returned.
 */
export class LogQueryError extends DataSafeError {
  /** What the SDK was reading, e.g. `getLogs AccessRecorded`. */
  readonly action: string;
  readonly fromBlock: number;
  readonly toBlock: number;
  readonly reason: LogQueryFailure;
  /** Requests sent for this page, the failed last one included. */
  readonly attempts: number;
  /** The node's (or the transport's) message for the last failure. */
  readonly rpcMessage: string;

  constructor(
    options: DataSafeErrorOptions & {
      action: string;
      fromBlock: number;
      toBlock: number;
      reason: LogQueryFailure;
      attempts: number;
      rpcMessage: string;
    },
  ) {
    const tries = options.attempts === 1 ? "1 attempt" : `${options.attempts} attempts`;
    super(
      `${options.action} failed for blocks ${options.fromBlock}-${options.toBlock} after ${tries}: ${options.rpcMessage}`,
      options,
    );
    this.name = "LogQueryError";
    this.action = options.action;
    this.fromBlock = options.fromBlock;
    this.toBlock = options.toBlock;
    this.reason = options.reason;
    this.attempts = options.attempts;
    this.rpcMessage = options.rpcMessage;
  }
}

/** An Ignition deployment folder is missing, unreadable, or lacks what was asked of it. */
export class DeploymentRecordError extends DataSafeError {
  /** The folder or file read. */
  readonly path: string;

  constructor(path: string, shortMessage: string, options: DataSafeErrorOptions = {}) {
    super(`${path}: ${shortMessage}`, options);
    this.name = "DeploymentRecordError";
    this.path = path;
  }
}

function formatArgs(args: object): string {
  return Object.entries(args)
    .map(([key, value]) => `${key}: ${typeof value === "bigint" ? value.toString() : JSON.stringify(value)}`)
    .join(", ");
}
