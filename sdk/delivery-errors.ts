import {
  DELIVERY_PROBLEMS,
  type DeliveryProblemCode,
  type ProblemBody,
  isDeliveryProblemCode,
} from "./delivery-protocol.js";
import { DataSafeError } from "./errors.js";

/**
 * The gateway's refusals as exceptions: one class per stable problem code, each a `GatewayError`
 * carrying the HTTP `status`, the `code` and the whole problem body. Callers switch on the class.
 *
 * @example
 * try {
 *   await bank.delivery.fetchAsConsumer(access);
 * } catch (error) {
 *   if (error instanceof AccessAlreadyServedError) recordAnotherRead();
 *   else throw error;
 * }
 */
export class GatewayError extends DataSafeError {
  /** The HTTP status the gateway answered with. */
  readonly status: number;
  /** The stable problem code, e.g. `access-already-served`. */
  readonly code: DeliveryProblemCode;
  /** The problem body as received (RFC 9457 members and the gateway's extensions). */
  readonly problem: ProblemBody;

  constructor(problem: ProblemBody, options: { cause?: unknown } = {}) {
    super(`gateway refused (${problem.status} ${problem.code}): ${problem.title}`, {
      details: problem.detail,
      cause: options.cause,
    });
    this.name = new.target.name;
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
  }
}

/** The gateway answered with something that is not a problem of this protocol (or not at all). */
export class GatewayUnavailableError extends DataSafeError {
  /** The HTTP status, if there was an answer. */
  readonly status: number | undefined;

  constructor(shortMessage: string, options: { status?: number; details?: string; cause?: unknown } = {}) {
    super(shortMessage, options);
    this.name = "GatewayUnavailableError";
    this.status = options.status;
  }
}

/** A released payload does not open with the recipient's key, or does not match the chain. */
export class ReleaseVerificationError extends DataSafeError {
  constructor(shortMessage: string, options: { details?: string; cause?: unknown } = {}) {
    super(shortMessage, options);
    this.name = "ReleaseVerificationError";
  }
}

export class InvalidRequestError extends GatewayError {}
export class InvalidSignatureError extends GatewayError {}
export class SignatureExpiredError extends GatewayError {}
export class DeadlineTooFarError extends GatewayError {}
export class FetchReplayedError extends GatewayError {}
export class CommitmentMismatchError extends GatewayError {}
export class AssetNotFoundError extends GatewayError {}
export class AssetNotValidError extends GatewayError {}
export class PayloadNotFoundError extends GatewayError {}
export class NotSubjectControllerError extends GatewayError {}
export class RecipientKeyMissingError extends GatewayError {}
export class AccessNotFoundError extends GatewayError {}
export class AccessNotConfirmedError extends GatewayError {}
export class AccessNotYoursError extends GatewayError {}
export class AccessAssetMismatchError extends GatewayError {}
export class ConsumerNotActiveError extends GatewayError {}
export class AccessAlreadyServedError extends GatewayError {}
export class FieldsNotDisclosableError extends GatewayError {}
export class SchemaUnavailableError extends GatewayError {}
export class PayloadTooLargeError extends GatewayError {}
export class RouteNotFoundError extends GatewayError {}
export class StorageCorruptError extends GatewayError {}
export class ChainUnavailableError extends GatewayError {}
export class GatewayInternalError extends GatewayError {}

/** The exception class of every problem code. */
export const GATEWAY_ERRORS = {
  "invalid-request": InvalidRequestError,
  "invalid-signature": InvalidSignatureError,
  "signature-expired": SignatureExpiredError,
  "deadline-too-far": DeadlineTooFarError,
  "fetch-replayed": FetchReplayedError,
  "commitment-mismatch": CommitmentMismatchError,
  "asset-not-found": AssetNotFoundError,
  "asset-not-valid": AssetNotValidError,
  "payload-not-found": PayloadNotFoundError,
  "not-subject-controller": NotSubjectControllerError,
  "recipient-key-missing": RecipientKeyMissingError,
  "access-not-found": AccessNotFoundError,
  "access-not-confirmed": AccessNotConfirmedError,
  "access-not-yours": AccessNotYoursError,
  "access-asset-mismatch": AccessAssetMismatchError,
  "consumer-not-active": ConsumerNotActiveError,
  "access-already-served": AccessAlreadyServedError,
  "fields-not-disclosable": FieldsNotDisclosableError,
  "schema-unavailable": SchemaUnavailableError,
  "payload-too-large": PayloadTooLargeError,
  "not-found": RouteNotFoundError,
  "storage-corrupt": StorageCorruptError,
  "chain-unavailable": ChainUnavailableError,
  "internal-error": GatewayInternalError,
} as const satisfies { [C in DeliveryProblemCode]: typeof GatewayError };

/**
 * The typed error of a gateway answer: a `GatewayError` subclass for a problem of this protocol, a
 * `GatewayUnavailableError` for anything else.
 * @param status the HTTP status
 * @param body the parsed body, if it was JSON
 */
export function gatewayErrorOf(status: number, body: unknown): DataSafeError {
  if (body !== null && typeof body === "object" && isDeliveryProblemCode((body as ProblemBody).code)) {
    const problem = body as ProblemBody;
    const expected = DELIVERY_PROBLEMS[problem.code].status;
    if (expected === status) return new GATEWAY_ERRORS[problem.code](problem);
  }
  return new GatewayUnavailableError(`the gateway answered HTTP ${status} without a known problem code`, {
    status,
    details: typeof body === "string" ? body.slice(0, 500) : JSON.stringify(body)?.slice(0, 500),
  });
}
