/**
 * The payload gateway's start command:
 *
 *   npm run gateway -- --config gateway.json
 *
 * Reads and validates the configuration, then serves until SIGTERM or SIGINT (see README.md): in
 * this process with `workers: 1`, else as the primary of `workers` processes (node:cluster).
 */
import cluster from "node:cluster";
import { parseArgs } from "node:util";

import { WorkerStartError, runPrimary, runWorker } from "./cluster.js";
import { ConfigError, type ResolvedConfig, loadConfig } from "./config.js";
import { startGateway } from "./gateway.js";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
  if (values.config === undefined) {
    process.stderr.write("usage: npm run gateway -- --config FILE\n");
    process.exit(2);
  }
  let config: ResolvedConfig;
  try {
    config = loadConfig(values.config);
  } catch (error) {
    fail(error);
  }
  if (cluster.isWorker) {
    await runWorker(() => startGateway(config)).catch(() => process.exit(1));
    return;
  }
  let running: { stop(): Promise<void> };
  try {
    if (config.workers === 1) {
      const gateway = await startGateway(config);
      running = { stop: () => gateway.close() };
    } else {
      running = await runPrimary(config);
    }
  } catch (error) {
    fail(error);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

function fail(error: unknown): never {
  const known = error instanceof ConfigError || error instanceof WorkerStartError;
  process.stderr.write(`${known ? error.message : (error as Error).stack}\n`);
  process.exit(1);
}

await main();
