import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

import { expect } from "chai";

import { SupervisionClient } from "../../sdk/supervision.js";
import { ROOT, stop, waitFor } from "../helpers/processes.js";

/**
 * `npm run demo:supervision` end to end, small: it fills a chain, indexes it, prints the dashboard's
 * URL and a sign-in link; the page answers, /api/status says ready, the link signs the demo
 * regulator in; Ctrl-C (SIGINT) stops the chain, the indexer and the API.
 */
describe("npm run demo:supervision", function () {
  this.timeout(600_000);
  let demo: ChildProcess | undefined;
  let output = "";

  after(async () => {
    // Ctrl-C first, so the demo stops what it started (the indexer runs in its own process group).
    if (demo !== undefined) await stop(demo, "SIGINT");
  });

  it("starts everything, prints a working URL and sign-in link, and stops on Ctrl-C", async () => {
    // Node itself (with tsx's loader) rather than npx, so that Ctrl-C reaches the demo and its exit code is ours.
    const script = path.join("scripts", "demo-supervision.ts");
    demo = spawn(process.execPath, ["--import", "tsx", script, "--events", "800", "--seed", "ci"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DATABASE_URL: undefined },
    });
    demo.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    demo.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    let exited: number | null | undefined;
    const exit = new Promise<number | null>((resolve) => demo?.once("exit", (code) => resolve((exited = code))));

    const link = await waitFor(
      "the demo's sign-in link",
      async () => /(http:\/\/127\.0\.0\.1:\d+)\/#signin=([A-Za-z0-9_-]+)/.exec(output) ?? undefined,
      540_000,
      500,
      () => (exited === undefined ? undefined : output.slice(-4000)),
    );
    const url = link[1];
    expect(output).to.include(`The supervision dashboard: ${url}/`);

    const page = await fetch(`${url}/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get("content-type")).to.match(/text\/html/);

    const api = new SupervisionClient(url);
    const status = await api.status();
    expect(status.ready).to.equal(true);
    expect(status.chainId).to.equal(1337);
    expect(status.lagBlocks).to.equal(0);

    const { message, signature } = JSON.parse(Buffer.from(link[2], "base64url").toString("utf8")) as {
      message: string;
      signature: string;
    };
    const session = await api.verify(message, signature);
    expect(session.role).to.equal("regulator");
    // The regulator sees the traffic: the banks' reads, with their outcomes.
    const reads = await api.reads({ limit: 200 });
    expect(reads.items.length).to.be.above(20);
    expect(reads.items.some((r) => r.outcome === 1)).to.equal(true);
    expect(reads.items.some((r) => r.outcome === 2)).to.equal(true);
    // The charts' statistics count every read and every grant is listed. On PGlite these came back
    // empty once a backfill had bulk-updated those tables (see indexer/src/api/index.ts).
    let readCount = 0;
    let cursor: string | undefined;
    do {
      const page = await api.reads({ limit: 500, cursor });
      readCount += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    const byConsumer = await api.stats({ by: "consumer" });
    expect(byConsumer.totals.reads).to.equal(readCount);
    expect(byConsumer.rows.length).to.be.above(1);
    expect((await api.grants({ limit: 10 })).items.length).to.be.above(0);

    if (demo.pid !== undefined) process.kill(-demo.pid, "SIGINT");
    expect(await exit).to.equal(0);
    // Everything it started is gone: the API no longer answers.
    const after = await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(2_000) }).then(
      () => "answered",
      () => "refused",
    );
    expect(after).to.equal("refused");
  });
});
