import {
  DELIVERY_PROBLEMS,
  type DeliveryProblemCode,
  PROBLEM_MEDIA_TYPE,
  type ProblemBody,
  problemTypeOf,
} from "../sdk/delivery-protocol.js";

/**
 * A refusal: thrown anywhere in the gateway, turned into an `application/problem+json` response in
 * one place (`problemResponse`), with the status the protocol table gives its code.
 */
export class Refusal extends Error {
  readonly code: DeliveryProblemCode;
  readonly detail: string | undefined;
  /** Extra members of the problem body (ids the caller can act on). */
  readonly extensions: Record<string, unknown>;

  constructor(code: DeliveryProblemCode, detail?: string, extensions: Record<string, unknown> = {}) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = "Refusal";
    this.code = code;
    this.detail = detail;
    this.extensions = extensions;
  }

  get status(): number {
    return DELIVERY_PROBLEMS[this.code].status;
  }
}

/** The problem body of a refusal. */
export function problemOf(refusal: Refusal, instance?: string): ProblemBody {
  return {
    type: problemTypeOf(refusal.code),
    title: DELIVERY_PROBLEMS[refusal.code].title,
    status: refusal.status,
    code: refusal.code,
    ...(refusal.detail === undefined ? {} : { detail: refusal.detail }),
    ...(instance === undefined ? {} : { instance }),
    ...refusal.extensions,
  };
}

/** The HTTP response of a refusal. */
export function problemResponse(refusal: Refusal, instance?: string): Response {
  const headers: Record<string, string> = { "content-type": PROBLEM_MEDIA_TYPE };
  if (refusal.code === "access-not-confirmed" || refusal.code === "chain-unavailable") headers["retry-after"] = "1";
  // Refused before its body was read: the connection cannot carry another request.
  if (refusal.code === "payload-too-large") headers.connection = "close";
  return new Response(JSON.stringify(problemOf(refusal, instance)), { status: refusal.status, headers });
}
