/*
 * The CLI's one error → exit-code map. A script calling `datasafe` tells bad input (fix the file or
 * the arguments and run again) from a refusal (the chain said no: a revert, an access denial) from
 * a failure (the node, the network, a bug: try again later or report it).
 */
import { CommanderError } from "commander";
import { ZodError } from "zod";

import { DataSafeAccessManager__factory } from "../typechain-types/index.js";

import {
  ContractRevertedError,
  DataSafeError,
  DeploymentRecordError,
  DomainMismatchError,
  ImportIncompleteError,
  ImportInputError,
  ImportJournalError,
  InvalidInputError,
  SignerRequiredError,
  UriFormatError,
  UnknownRevertError,
} from "../sdk/index.js";

/** The exit codes of every command. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Bad input: usage, a validation error, a wrong row in a file. Nothing was sent. */
  badInput: 2,
  /** Refused: the contracts reverted or denied access, or a check found a mismatch. */
  refused: 3,
  /** Failure: the RPC node, the network, or something unexpected. */
  failure: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
export type ErrorKind = "BadInput" | "Refused" | "Failure";

/** Where in the input the error lies, for the message and the JSON error. */
export interface ErrorLocation {
  /** The option, argument or field, e.g. `--to-block`, `config.rpcUrl`, `dataType`. */
  field?: string;
  /** The 1-based row (line) of an input file. */
  row?: number;
  /** The file the row or field is in. */
  file?: string;
}

/** An error the CLI raises itself, with its exit code. */
export class CliError extends Error {
  readonly kind: ErrorKind;
  readonly location: ErrorLocation;
  /** Further errors of the same kind (e.g. every bad row of a file, not only the first). */
  readonly problems: { message: string; location: ErrorLocation }[];

  constructor(
    kind: ErrorKind,
    message: string,
    location: ErrorLocation = {},
    options: { cause?: unknown; problems?: CliError["problems"] } = {},
  ) {
    super(prefix(location) + message, { cause: options.cause });
    this.name = `${kind}Error`;
    this.kind = kind;
    this.location = location;
    this.problems = options.problems ?? [];
  }
}

/** Bad input: exit 2. */
export class BadInputError extends CliError {
  constructor(message: string, location: ErrorLocation = {}, options: ConstructorParameters<typeof CliError>[3] = {}) {
    super("BadInput", message, location, options);
  }
}

/** Refused (a revert, an access denial, a failed check): exit 3. */
export class RefusedError extends CliError {
  constructor(message: string, location: ErrorLocation = {}, options: ConstructorParameters<typeof CliError>[3] = {}) {
    super("Refused", message, location, options);
  }
}

/** Failure (network, node, unexpected): exit 4. */
export class FailureError extends CliError {
  constructor(message: string, location: ErrorLocation = {}, options: ConstructorParameters<typeof CliError>[3] = {}) {
    super("Failure", message, location, options);
  }
}

function prefix(location: ErrorLocation): string {
  const parts = [location.file, location.row === undefined ? undefined : `row ${location.row}`, location.field];
  const where = parts.filter((part) => part !== undefined).join(" ");
  return where === "" ? "" : `${where}: `;
}

/** What the CLI prints for an error and the code it exits with. */
export interface Classified {
  exitCode: ExitCode;
  kind: ErrorKind;
  /** The error's class, e.g. `AccessDeniedError`, `InvalidInputError`. */
  name: string;
  message: string;
  location: ErrorLocation;
  /** A contract revert's error name and arguments. */
  revert?: { errorName: string; args: Record<string, unknown> };
  problems?: CliError["problems"];
  /** An interrupted import's report so far. */
  report?: unknown;
  remaining?: number;
}

const EXIT_OF: Record<ErrorKind, ExitCode> = { BadInput: EXIT.badInput, Refused: EXIT.refused, Failure: EXIT.failure };

/** Ethers error codes that mean the caller's input was wrong, not the node. */
const ETHERS_BAD_INPUT = new Set(["INVALID_ARGUMENT", "MISSING_ARGUMENT", "UNEXPECTED_ARGUMENT", "NUMERIC_FAULT"]);

/** Classifies any thrown value into one exit code and a message. */
export function classify(error: unknown): Classified {
  const of = (kind: ErrorKind, name: string, message: string, location: ErrorLocation = {}): Classified => ({
    exitCode: EXIT_OF[kind],
    kind,
    name,
    message,
    location,
  });
  if (error instanceof CliError) {
    return { ...of(error.kind, error.name, error.message, error.location), problems: error.problems };
  }
  if (error instanceof CommanderError) return of("BadInput", "UsageError", error.message.replace(/^error: /, ""));
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const field = issue?.path.join(".") ?? "";
    return of("BadInput", "ValidationError", `${field === "" ? "" : `${field}: `}${issue?.message}`, { field });
  }
  if (error instanceof ImportInputError) {
    const problems = error.issues.map((issue) => ({
      message: `${error.source} row ${issue.row}: ${issue.field}: ${issue.message}`,
      location: { file: error.source, row: issue.row, field: issue.field },
    }));
    const first = problems[0];
    return {
      ...of(
        "BadInput",
        error.name,
        `${first?.message ?? error.shortMessage} (${error.shortMessage}; nothing was sent)`,
        first?.location,
      ),
      problems,
    };
  }
  if (error instanceof ImportJournalError) return of("BadInput", error.name, error.shortMessage, { file: error.path });
  if (error instanceof ImportIncompleteError) {
    return { ...of("Failure", error.name, error.shortMessage), report: error.report, remaining: error.remaining };
  }
  if (error instanceof ContractRevertedError) {
    return {
      ...of("Refused", error.name, error.shortMessage),
      revert: { errorName: error.errorName, args: { ...(error.args as Record<string, unknown>) } },
    };
  }
  if (error instanceof UnknownRevertError) {
    const manager = managerRevert(error.data);
    if (manager === undefined) return of("Refused", error.name, error.shortMessage);
    return {
      ...of("Refused", "ContractRevertedError", `${error.action} reverted with ${manager.errorName}`),
      revert: manager,
    };
  }
  if (error instanceof UriFormatError) return of("BadInput", error.name, error.shortMessage, { field: error.part });
  if (error instanceof InvalidInputError) return of("BadInput", error.name, error.shortMessage, { field: error.field });
  if (error instanceof DeploymentRecordError) {
    return of("BadInput", error.name, error.shortMessage, { file: error.path });
  }
  if (error instanceof SignerRequiredError) {
    return of("BadInput", error.name, `${error.shortMessage}: pass --keystore FILE (or "keystore" in --config)`, {
      field: "--keystore",
    });
  }
  if (error instanceof DomainMismatchError)
    return of("BadInput", error.name, `${error.shortMessage}: ${error.details}`);
  if (error instanceof DataSafeError) return of("Failure", error.name, error.message);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && ETHERS_BAD_INPUT.has(code)) {
    return of("BadInput", "InvalidArgument", (error as Error).message);
  }
  return of(
    "Failure",
    error instanceof Error ? error.name : "Error",
    error instanceof Error ? error.message : String(error),
  );
}

/** The AccessManager's ABI: governance calls and its reverts, which the SDK's ABIs do not hold. */
export const MANAGER_INTERFACE = DataSafeAccessManager__factory.createInterface();

/** Decodes an AccessManager (or AccessManaged) revert's data, if it is one. */
export function managerRevert(data: string): { errorName: string; args: Record<string, unknown> } | undefined {
  if (!/^0x[0-9a-f]{8}/i.test(data)) return undefined;
  try {
    const parsed = MANAGER_INTERFACE.parseError(data);
    if (parsed === null) return undefined;
    const args: Record<string, unknown> = {};
    parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i]));
    return { errorName: parsed.name, args };
  } catch {
    return undefined;
  }
}
