/**
 * Fills a fresh embedded chain with supervision traffic and prints what it produced.
 *
 *   npx hardhat run --no-compile scripts/load.ts          (LOAD_EVENTS=20000 LOAD_SEED=demo by default)
 *   LOAD_EVENTS=100000 LOAD_SEED=x npx hardhat run --no-compile scripts/load.ts
 */
import { generateLoad } from "./lib/load.js";
import { startLoadChain } from "./lib/load-chain.js";
import { step } from "./lib/progress.js";

const targetEvents = Number(process.env.LOAD_EVENTS ?? 20_000);
const seed = process.env.LOAD_SEED ?? "demo";

const chain = await step("Starting the embedded network and deploying the suite", () => startLoadChain());
try {
  const result = await step(
    `Filling the chain with about ${targetEvents.toLocaleString("en")} events (seed "${seed}")`,
    (progress) =>
      generateLoad(chain, {
        seed,
        targetEvents,
        onProgress: (p) =>
          progress.update(
            `day ${p.day + 1} of ${p.days}, ${p.events.toLocaleString("en")} events, ${p.transactions.toLocaleString("en")} transactions`,
          ),
      }),
    {
      done: (r) =>
        `Filled ${r.events.toLocaleString("en")} events in ${r.transactions.toLocaleString("en")} transactions, ${r.blocks} blocks`,
    },
  );
  const seconds = result.elapsedMs / 1000;
  console.log(
    JSON.stringify(
      {
        seed,
        targetEvents,
        events: result.events,
        transactions: result.transactions,
        blocks: result.blocks,
        seconds: Math.round(seconds * 10) / 10,
        eventsPerSecond: Math.round(result.events / seconds),
        holders: result.holders,
        counts: result.counts,
        outcomes: result.outcomes,
        approvedPerRead: Math.round((result.outcomes.approved / result.counts.AccessRecorded) * 1000) / 1000,
        burst: result.burst,
        nightReads: result.nightReads,
      },
      null,
      2,
    ),
  );
} finally {
  await chain.close();
}
