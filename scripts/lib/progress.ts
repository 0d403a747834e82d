/**
 * Progress for the long steps of the scripts (compiling, deploying, waiting for blocks), so that a
 * first run does not sit silent for minutes. On a terminal: a spinner (ora) with what the step is
 * doing and the time it has taken. On a log (CI, a pipe): a line when the step starts, one every
 * 30 s while it runs, and one when it ends. Progress goes to stderr; the scripts' own output stays
 * on stdout.
 */
import type { HardhatHooks } from "hardhat/types/hooks";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import ora from "ora";

export interface StepOptions {
  /** Where progress goes; stderr by default. */
  stream?: NodeJS.WritableStream;
  /** Animate a spinner (a terminal) or print lines (a log); detected from the stream by default. */
  interactive?: boolean;
  /** On a log, how often to say the step is still running. */
  heartbeatMs?: number;
}

/** What a running step can say about itself. */
export interface Progress {
  /** What the step is doing now: shown at once on a terminal, with the next heartbeat on a log. */
  update(detail: string): void;
}

/** "1 min 05 s" or "12 s": the time a step has taken. */
export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
}

/**
 * Runs `run` as one step: says it starts, shows that it runs, and ends with ✔ and `done(result)`
 * (the title by default) or ✖ and the error, which it rethrows.
 */
export async function step<T>(
  title: string,
  run: (progress: Progress) => Promise<T>,
  { done, ...options }: StepOptions & { done?: (result: T) => string } = {},
): Promise<T> {
  const stream = (options.stream ?? process.stderr) as NodeJS.WriteStream;
  const spinner = ora({ text: title, stream, isEnabled: options.interactive, discardStdin: false });
  const started = Date.now();
  let detail = "";
  const line = () => `${title}${detail === "" ? "" : `: ${detail}`} (${formatElapsed(Date.now() - started)})`;
  spinner.start();
  const timer = spinner.isEnabled
    ? setInterval(() => (spinner.text = line()), 1000)
    : setInterval(() => stream.write(`  … ${line()}\n`), options.heartbeatMs ?? 30_000);
  try {
    const result = await run({
      update: (next) => {
        detail = next;
        if (spinner.isEnabled) spinner.text = line();
      },
    });
    clearInterval(timer);
    spinner.succeed(`${done === undefined ? title : done(result)} (${formatElapsed(Date.now() - started)})`);
    return result;
  } catch (error) {
    clearInterval(timer);
    spinner.fail(`${title}: failed after ${formatElapsed(Date.now() - started)}`);
    throw error;
  }
}

/**
 * Builds the contracts the way `hardhat run` and `ignition deploy` do before they start, but saying
 * so: a first build of this suite (solc WASM, via-IR) takes minutes. Counts the compiler runs
 * through Hardhat's `invokeSolc` hook. The build profile is Hardhat's `--build-profile` when given,
 * else `defaultBuildProfile`.
 */
export async function buildWithProgress(
  hre: HardhatRuntimeEnvironment,
  { defaultBuildProfile = "default", ...options }: StepOptions & { defaultBuildProfile?: string } = {},
): Promise<{ compilerRuns: number }> {
  const profile = hre.globalOptions.buildProfile ?? defaultBuildProfile;
  const { version, settings } = hre.config.solidity.profiles[profile].compilers[0];
  let started = 0;
  let finished = 0;
  return step(
    `Compiling the contracts (solc ${version}${settings.viaIR === true ? ", via-IR" : ""}, ${profile} profile; a first build takes minutes)`,
    async (progress) => {
      const handlers = {
        invokeSolc: async (...args: Parameters<NonNullable<HardhatHooks["solidity"]["invokeSolc"]>>) => {
          const [context, compiler, input, config, next] = args;
          started += 1;
          const sources = Object.keys(input.sources).length;
          progress.update(`compiler run ${started} (${sources} source files), ${finished} finished`);
          const output = await next(context, compiler, input, config);
          finished += 1;
          progress.update(`${finished} of ${started} compiler runs finished`);
          return output;
        },
      };
      hre.hooks.registerHandlers("solidity", handlers);
      try {
        // Build what the next command would, so that it finds everything cached: `ignition deploy`
        // builds the production profile without the tests; `hardhat run` builds as `hardhat build`
        // does (contracts and, unless compiled apart, tests), which `hardhat test` then reuses.
        const noTests = profile === "production" || hre.config.solidity.splitTestsCompilation;
        await hre.tasks.getTask("build").run({ quiet: true, noTests, defaultBuildProfile });
      } finally {
        hre.hooks.unregisterHandlers("solidity", handlers);
      }
      return { compilerRuns: finished };
    },
    {
      ...options,
      done: ({ compilerRuns }) =>
        compilerRuns === 0
          ? "The contracts are up to date"
          : `Compiled the contracts in ${compilerRuns} compiler run${compilerRuns === 1 ? "" : "s"}`,
    },
  );
}
