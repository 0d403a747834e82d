import {
  PROBLEM_MEDIA_TYPE,
  SUPERVISION_PROBLEMS,
  type SupervisionProblem,
  type SupervisionProblemCode,
  supervisionProblemType,
} from "../../../sdk/supervision.js";

/**
 * A refusal: thrown anywhere in the API, turned into an `application/problem+json` response in one
 * place (the app's `onError`), with the status the SDK's problem table gives its code.
 */
export class Refusal extends Error {
  readonly code: SupervisionProblemCode;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(code: SupervisionProblemCode, detail?: string, extensions: Record<string, unknown> = {}) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = "Refusal";
    this.code = code;
    this.detail = detail;
    this.extensions = extensions;
  }

  get status(): number {
    return SUPERVISION_PROBLEMS[this.code].status;
  }
}

/** A malformed query parameter or body field, named in the problem's `parameter`. */
export function invalidParameter(parameter: string, detail: string): Refusal {
  return new Refusal("invalid-parameter", `${parameter}: ${detail}`, { parameter });
}

export function problemOf(refusal: Refusal, instance?: string): SupervisionProblem {
  return {
    type: supervisionProblemType(refusal.code),
    title: SUPERVISION_PROBLEMS[refusal.code].title,
    status: refusal.status,
    code: refusal.code,
    ...(refusal.detail === undefined ? {} : { detail: refusal.detail }),
    ...(instance === undefined ? {} : { instance }),
    ...refusal.extensions,
  };
}

export function problemResponse(refusal: Refusal, instance?: string): Response {
  const headers: Record<string, string> = { "content-type": PROBLEM_MEDIA_TYPE };
  if (refusal.status === 401) headers["www-authenticate"] = 'Bearer realm="datasafe-supervision"';
  if (refusal.code === "chain-unavailable") headers["retry-after"] = "1";
  return new Response(JSON.stringify(problemOf(refusal, instance)), { status: refusal.status, headers });
}
