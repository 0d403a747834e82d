import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";

import { expect } from "chai";

import { formatElapsed, step } from "../../scripts/lib/progress.js";
import { ROOT } from "./processes.js";

/*
 * What a newcomer meets first: the commands of README.md and the runbook run as written, without a
 * terminal; long steps say what they do; a benchmark run leaves the work tree clean.
 */

const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const packageScripts = JSON.parse(read("package.json")).scripts as Record<string, string>;

/** Every command of the sh code blocks of a Markdown file, `\` continuations joined. */
function documentedCommands(file: string): string[] {
  return [...read(file).matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, block]) =>
    block
      .replace(/\\\n\s*/g, " ")
      .split("\n")
      .map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line !== "" && !line.startsWith("#")),
  );
}

/** Collects what `step` writes, as a log (not a terminal) would. */
function capture() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk) => (text += String(chunk)));
  return { stream, text: () => text.replace(/\x1b\[[0-9;]*m/g, "") };
}

describe("first run: documented commands, progress, a clean tree", function () {
  this.timeout(120_000);

  describe("deploy commands run as written without a terminal", () => {
    for (const file of ["README.md", path.join("ops", "besu", "README.md")]) {
      it(`${file}: every \`ignition deploy\` carries HARDHAT_IGNITION_CONFIRM_DEPLOYMENT=true, or is npm run deploy:local`, () => {
        const commands = documentedCommands(file);
        const deploys = commands.filter((command) => /ignition deploy|deploy:local/.test(command));
        expect(deploys, `${file} documents a deployment`).to.not.deep.equal([]);
        for (const command of deploys) {
          expect(
            /^(\S+=\S+ )*HARDHAT_IGNITION_CONFIRM_DEPLOYMENT=true (\S+=\S+ )*npx hardhat ignition deploy /.test(
              command,
            ) || /^(\S+=\S+ )*npm run deploy:local$/.test(command),
            `${file}: ${command}`,
          ).to.equal(true);
        }
      });
    }

    it("npm run deploy:local builds with progress, then deploys with the confirmation variable", () => {
      expect(packageScripts["deploy:local"]).to.equal(
        "hardhat --build-profile production run --no-compile scripts/build.ts && " +
          "HARDHAT_IGNITION_CONFIRM_DEPLOYMENT=true hardhat ignition deploy deploy/modules/Permissions.ts " +
          "--network localBesu --parameters deploy/parameters/localBesu.json",
      );
    });

    it("Ignition 3 still decides to ask by HARDHAT_IGNITION_CONFIRM_DEPLOYMENT, for any chain but 31337", () => {
      const task = readFileSync(
        path.join(
          ROOT,
          "node_modules",
          "@nomicfoundation",
          "hardhat-ignition",
          "dist",
          "src",
          "internal",
          "tasks",
          "deploy.js",
        ),
        "utf8",
      );
      expect(task).to.contain("if (chainId !== 31337)");
      expect(task).to.contain("process.env.HARDHAT_IGNITION_CONFIRM_DEPLOYMENT === undefined");
    });
  });

  describe("progress on long steps", () => {
    it("npm run demo builds with progress before it runs the story", () => {
      expect(packageScripts.demo).to.equal(
        "hardhat run --no-compile scripts/build.ts && hardhat run --no-compile scripts/demo.ts",
      );
      expect(read(path.join("scripts", "demo.ts"))).to.contain(
        'progressStep("Deploying the suite through the Ignition modules"',
      );
    });

    it("formats the time a step takes", () => {
      expect(formatElapsed(999)).to.equal("0 s");
      expect(formatElapsed(12_400)).to.equal("12 s");
      expect(formatElapsed(65_000)).to.equal("1 min 05 s");
    });

    it("on a log, says when a step starts, that it still runs, what it does, and when it ends", async () => {
      const log = capture();
      const result = await step(
        "Compiling",
        async (progress) => {
          progress.update("compiler run 1 (54 source files)");
          await new Promise((resolve) => setTimeout(resolve, 130));
          return 42;
        },
        { stream: log.stream, interactive: false, heartbeatMs: 50, done: (value) => `Compiled ${value}` },
      );
      expect(result).to.equal(42);
      const lines = log.text().trimEnd().split("\n");
      expect(lines[0]).to.equal("- Compiling");
      expect(lines.slice(1, -1)).to.have.length.of.at.least(2);
      for (const line of lines.slice(1, -1)) {
        expect(line).to.match(/^ {2}… Compiling: compiler run 1 \(54 source files\) \(0 s\)$/);
      }
      expect(lines.at(-1)).to.equal("✔ Compiled 42 (0 s)");
    });

    it("on a failure, says so with ✖ and passes the error on", async () => {
      const log = capture();
      const failure = new Error("solc ran out of memory");
      let caught: unknown;
      try {
        await step("Compiling", () => Promise.reject(failure), { stream: log.stream, interactive: false });
      } catch (error) {
        caught = error;
      }
      expect(caught).to.equal(failure);
      expect(log.text()).to.match(/✖ Compiling: failed after 0 s\n$/);
    });

    it("scripts/build.ts says what it builds and how it ended (here: nothing to do)", () => {
      // The build of the tests before this one leaves nothing to compile: the cheap path, the same output.
      const run = spawnSync("npx", ["hardhat", "run", "--no-compile", path.join("scripts", "build.ts")], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 600_000,
      });
      expect(run.status, run.stderr).to.equal(0);
      const output = run.stderr.replace(/\x1b\[[0-9;]*m/g, "");
      expect(output).to.match(
        /^- Compiling the contracts \(solc 0\.8\.30, via-IR, default profile; a first build takes minutes\)$/m,
      );
      expect(output).to.match(
        /^✔ (The contracts are up to date|Compiled the contracts in \d+ compiler runs?) \(\d+ (s|min \d\d s)\)$/m,
      );
    });
  });

  describe("benchmark results", () => {
    it("go to bench/results/, which git ignores, and no result file is committed", () => {
      const bench = read(path.join("scripts", "bench.ts"));
      expect(bench).to.contain('new URL("../bench/results/chain.json", import.meta.url)');
      for (const file of ["bench/results/chain.json", "bench/results/crypto.json", "bench/results/gateway.json"]) {
        const ignored = spawnSync("git", ["check-ignore", "-q", "--no-index", file], { cwd: ROOT });
        expect(ignored.status, `${file} must be git-ignored`).to.equal(0);
      }
      // bench/ holds the benchmark programs; only their results are kept out of the tree.
      const tracked = spawnSync("git", ["ls-files", "bench"], { cwd: ROOT, encoding: "utf8" });
      expect(tracked.stdout.split("\n").filter((file) => file.endsWith(".json"))).to.deep.equal([]);
      expect(tracked.stdout).not.to.contain("bench/results/");
    });
  });
});
