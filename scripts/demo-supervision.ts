/**
 * The supervision demo: one command starts the embedded chain, deploys the suite, fills it with a
 * city's traffic (scripts/lib/load.ts), starts the supervision process (the indexer serving the API
 * and the regulator's dashboard), waits until everything is indexed, and prints the dashboard's URL
 * with a ready sign-in link for the demo regulator. It runs until Ctrl-C, then stops everything.
 *
 *   npm run demo:supervision                                   (about 30,000 events, embedded PGlite)
 *   npm run demo:supervision -- --events 100000 --seed city
 *   DATABASE_URL=postgres://… npm run demo:supervision         (PostgreSQL, a fresh schema per run)
 *   npm run demo:supervision -- --events 3000 --exit-when-ready   (CI: stop once the API is ready)
 *
 * The sign-in link is `<url>/#signin=<base64url JSON {message, signature}>`: an EIP-4361 message for
 * a nonce the API issued, signed by the demo regulator's account. That account is a dev account of
 * the embedded network (its key is Hardhat's public test mnemonic), never a key of a real network.
 * The API's nonces live 5 minutes; press Enter for a fresh link.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { SupervisionClient } from "../sdk/supervision.js";
import { serveJsonRpc } from "./lib/demo-gateway.js";
import { generateLoad } from "./lib/load.js";
import { startLoadChain } from "./lib/load-chain.js";
import { step } from "./lib/progress.js";
import { startSupervisionProcess } from "./lib/supervision-process.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string" },
    seed: { type: "string" },
    port: { type: "string" },
    "exit-when-ready": { type: "boolean", default: false },
  },
});
const targetEvents = Number(args.events ?? process.env.DEMO_EVENTS ?? 30_000);
const seed = args.seed ?? process.env.DEMO_SEED ?? "jinan-2021";
const exitWhenReady = args["exit-when-ready"] || process.env.DEMO_EXIT_WHEN_READY === "1";
if (!Number.isSafeInteger(targetEvents) || targetEvents < 500) {
  console.error(`--events: expected an integer of at least 500, got ${args.events ?? process.env.DEMO_EVENTS}`);
  process.exit(2);
}
const fmt = (n: number) => n.toLocaleString("en");

const dir = mkdtempSync(path.join(tmpdir(), "datasafe-demo-supervision-"));
const cleanups: (() => Promise<void>)[] = [];
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`while stopping: ${(error as Error).message}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(code);
}
process.once("SIGINT", () => void shutdown(0));
process.once("SIGTERM", () => void shutdown(0));

try {
  const chain = await step("Starting the embedded network and deploying the suite", () => startLoadChain());
  cleanups.push(() => chain.close());
  const rpc = await serveJsonRpc(chain.provider);
  cleanups.push(() => rpc.close());

  const load = await step(
    `Filling the chain with about ${fmt(targetEvents)} events (seed "${seed}", January to May 2021)`,
    (progress) =>
      generateLoad(chain, {
        seed,
        targetEvents,
        onProgress: (p) =>
          progress.update(
            `day ${p.day + 1} of ${p.days}: ${fmt(p.events)} events, ${fmt(p.transactions)} transactions`,
          ),
      }),
    {
      done: (r) =>
        `Filled ${fmt(r.events)} events (${fmt(r.counts.AccessRecorded ?? 0)} reads, ${fmt(r.outcomes.approved)} loans approved, ` +
        `${fmt(r.holders)} holders) in ${fmt(r.transactions)} transactions`,
    },
  );

  const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
  const supervision = await startSupervisionProcess({
    rpcUrl: rpc.url,
    chainId: chain.chainId,
    addresses: {
      dataSafe: chain.suite.dataSafe,
      dataCatalog: chain.suite.catalog,
      keyDirectory: chain.suite.keyDirectory,
      accessManager: chain.suite.accessManager,
      startBlock: chain.startBlock,
    },
    databaseUrl,
    // A fresh schema per run: PostgreSQL keeps earlier runs' tables.
    schema: `demo_${Date.now().toString(36)}`,
    dir,
    port: args.port === undefined ? undefined : Number(args.port),
  });
  cleanups.push(() => supervision.stop());
  // Should this process die without its cleanups (an uncaught error), the indexer dies with it.
  process.once("exit", () => supervision.kill());
  const head = Number(BigInt((await chain.provider.request({ method: "eth_blockNumber" })) as string));
  const status = await step(
    `Indexing ${fmt(load.events)} events on ${databaseUrl === undefined ? "embedded PGlite" : "PostgreSQL"}`,
    (progress) =>
      supervision.waitForBlock(head, {
        timeoutMs: 60 * 60_000,
        onStatus: (s) => progress.update(`block ${fmt(s.indexedBlock)} of ${fmt(s.headBlock)}`),
      }),
    { done: (s) => `Indexed to block ${fmt(s.indexedBlock)} (lag ${s.lagBlocks} blocks)` },
  );

  const api = new SupervisionClient(supervision.url);
  const signInLink = async () => {
    const nonce = await api.nonce();
    const message = SupervisionClient.signInMessage(chain.roles.regulator, nonce);
    const signature = (await chain.provider.request({
      method: "personal_sign",
      params: [`0x${Buffer.from(message, "utf8").toString("hex")}`, chain.roles.regulator],
    })) as string;
    const fragment = Buffer.from(JSON.stringify({ message, signature }), "utf8").toString("base64url");
    return { link: `${supervision.url}/#signin=${fragment}`, expiresAt: nonce.expiresAt };
  };
  const printLink = async () => {
    const { link, expiresAt } = await signInLink();
    console.log(
      `\nSign in as the demo regulator (link valid until ${new Date(expiresAt * 1000).toLocaleTimeString()}):\n${link}\n`,
    );
  };

  console.log(`\nThe supervision dashboard: ${supervision.url}/`);
  console.log(`API status: ${supervision.url}/api/status (chain ${status.chainId}, block ${fmt(status.indexedBlock)})`);
  console.log(
    `On the chain: ${fmt(load.events)} events from ${fmt(load.holders)} holders and ${load.consumers.length} banks; ` +
      `alert-worthy: ${load.burst.reads} reads by ${load.burst.consumer} in one hour ` +
      `(${new Date(load.burst.time * 1000).toISOString().slice(0, 13)}:00 UTC), ${load.nightReads} reads at night, ` +
      `${fmt((load.counts.AccessRecorded ?? 0) - (load.counts.AccessOutcomeRecorded ?? 0))} outcomes never reported.`,
  );
  await printLink();
  if (exitWhenReady) {
    // CI: check what a regulator would use before stopping: the page, the status, the sign-in.
    const page = await fetch(`${supervision.url}/`);
    const ready = await api.status();
    const { link } = await signInLink();
    const { message, signature } = JSON.parse(Buffer.from(link.split("#signin=")[1], "base64url").toString("utf8")) as {
      message: string;
      signature: string;
    };
    const session = await api.verify(message, signature);
    const ok = page.ok && ready.ready && session.role === "regulator";
    console.log(
      `Checked: dashboard ${page.status}, /api/status ready ${ready.ready}, sign-in link gives role ${session.role}.`,
    );
    await shutdown(ok ? 0 : 1);
  }
  console.log("Press Enter for a fresh sign-in link, Ctrl-C to stop the chain, the indexer and the API.");
  if (process.stdin.isTTY) {
    process.stdin.on("data", () => void printLink().catch((error: Error) => console.error(error.message)));
  } else {
    process.stdin.resume();
  }
  void supervision.exited.then((code) => {
    if (!stopping) {
      console.error(`The supervision process exited (${code}):\n${supervision.tail()}`);
      void shutdown(1);
    }
  });
} catch (error) {
  console.error(error);
  await shutdown(1);
}
