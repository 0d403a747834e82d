import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

import { DataSafe__factory } from "../../typechain-types/index.js";
import { CliHarness, ROOT } from "./harness.js";

/*
 * cli/README.md's walk-through, run as written: the fenced `sh` blocks between the quickstart
 * markers, in order, in one bash process from the repository root. Two changes only, both for a
 * test that must not collide with a person's own run: the node the test starts listens on a free
 * port instead of 8545 (the block that starts a node is the test's startHardhatNode), and the
 * Ignition deployment id `quickstart` gets a unique suffix.
 */
const README = path.join(ROOT, "cli", "README.md");

/** The quickstart's `sh` blocks, in order. */
export function quickstartBlocks(markdown: string): string[] {
  const start = markdown.indexOf("<!-- quickstart:start -->");
  const end = markdown.indexOf("<!-- quickstart:end -->");
  if (start < 0 || end < start) throw new Error("cli/README.md lacks the quickstart markers");
  return [...markdown.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe("cli: README walk-through", function () {
  this.timeout(900_000);
  const h = new CliHarness("cli-readme");
  const id = `quickstart-${process.pid}-${Date.now()}`;
  after(async () => {
    rmSync(path.join(ROOT, "deploy", "deployments", id), { recursive: true, force: true });
    await h.close();
  });

  it("deploys, onboards a bank, imports 10,000 records, approves by QR, reads and exports the trail with datasafe commands", async () => {
    await h.start(false);
    const blocks = quickstartBlocks(readFileSync(README, "utf8"));
    expect(blocks.length).to.be.greaterThan(5);
    expect(blocks[0].trim()).to.equal("npx hardhat node --network besuLike");
    const port = new URL(h.url).port;
    const script = [
      "set -euo pipefail",
      ...blocks
        .slice(1)
        .map((block) => block.replaceAll("127.0.0.1:8545", `127.0.0.1:${port}`).replaceAll(/\bquickstart\b/g, id)),
      'echo "QS=$QS"',
    ].join("\n");
    const run = spawnSync("bash", ["-c", script], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, DATASAFE_CONFIG: undefined, DATASAFE_KEYSTORE_PASSWORD: undefined },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 840_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).to.equal(0);
    expect(run.stdout).to.match(/issued 10000, already issued 0, refused 0 of 10000 rows/);
    expect(run.stdout).to.match(/registered Department Public Security Bureau/);
    expect(run.stdout).to.match(/registered Consumer Bank of Jinan/);
    expect(run.stderr).to.match(/issuing .* 10000\/10000 rows/);
    const qs = /QS=(.*)/.exec(run.stdout)![1];
    try {
      const trail = readFileSync(path.join(qs, "trail.csv"), "utf8").trim().split("\r\n");
      expect(trail[0]).to.match(/^accessId,readAt,/);
      // The read the bank recorded after the holder approved by scanning the QR code.
      expect(trail).to.have.length(2);
      expect(existsSync(path.join(qs, "request.png")) && existsSync(path.join(qs, "approval.png"))).to.equal(true);
      const addresses = JSON.parse(
        readFileSync(path.join(ROOT, "deploy", "deployments", id, "deployed_addresses.json"), "utf8"),
      );
      const core = DataSafe__factory.connect(addresses["DataSafe#DataSafe"], h.provider);
      expect(await core.queryFilter(core.filters.AssetIssued())).to.have.length(10_000);
    } finally {
      rmSync(qs, { recursive: true, force: true });
    }
  });
});
