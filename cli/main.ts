/*
 * The `datasafe` program: global options, one command group per role (cli/commands/*.ts, each
 * exporting `register(program, runtime)`), and the one place errors become exit codes.
 */
import { Command, CommanderError } from "commander";

import * as auditor from "./commands/auditor.js";
import * as consumer from "./commands/consumer.js";
import * as department from "./commands/department.js";
import * as holder from "./commands/holder.js";
import * as keys from "./commands/keys.js";
import * as operator from "./commands/operator.js";
import * as verifier from "./commands/verifier.js";
import { EXIT, classify } from "./errors.js";
import { toJson } from "./output.js";
import { type Io, Runtime, addGlobalOptions } from "./runtime.js";

/** A command module: adds its commands to the program. */
export interface CommandModule {
  register(program: Command, runtime: Runtime): void;
}

const MODULES: CommandModule[] = [keys, operator, department, holder, consumer, auditor, verifier];

/** The program with every command, and the runtime its actions use. */
export function buildProgram(io?: Io): { program: Command; runtime: Runtime } {
  const program = new Command("datasafe");
  program
    .description("Operate, issue into, consent through and audit a datasafe deployment.")
    .version("0.1.0")
    // Usage errors throw (and exit 2 below) instead of exiting 1 inside commander.
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({
      writeOut: (text) => (io === undefined ? process.stdout.write(text) : io.stdout(text)),
      writeErr: (text) => (io === undefined ? process.stderr.write(text) : io.stderr(text)),
    });
  addGlobalOptions(program);
  const runtime = new Runtime(program, io);
  for (const module of MODULES) module.register(program, runtime);
  return { program, runtime };
}

/**
 * Runs the program on `argv` (as process.argv: node, script, arguments) and returns the exit code.
 * Errors are printed here, as text or (with --json) as `{ "error": … }` on stderr.
 */
export async function run(argv: string[], io?: Io): Promise<number> {
  const { program, runtime } = buildProgram(io);
  const stderr = io?.stderr ?? ((text: string) => process.stderr.write(text));
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (
      error instanceof CommanderError &&
      ["commander.helpDisplayed", "commander.version", "commander.help"].includes(error.code)
    ) {
      return EXIT.ok;
    }
    const classified = classify(error);
    // Commander printed its usage error already.
    if (error instanceof CommanderError && !runtime.json) return classified.exitCode;
    if (runtime.json || argv.includes("--json")) stderr(`${toJson({ error: classified })}\n`);
    else {
      stderr(`error: ${classified.message}\n`);
      for (const problem of (classified.problems ?? []).slice(1, 20)) stderr(`error: ${problem.message}\n`);
      if (process.env.DATASAFE_DEBUG === "1" && error instanceof Error) stderr(`${error.stack}\n`);
    }
    return classified.exitCode;
  } finally {
    runtime.close();
  }
}
