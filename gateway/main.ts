/**
 * The payload gateway's start command:
 *
 *   npm run gateway -- --config gateway.json
 *
 * Reads and validates the configuration, then serves until SIGTERM or SIGINT (see README.md).
 */
import { parseArgs } from "node:util";

import { ConfigError, loadConfig } from "./config.js";
import { type RunningGateway, startGateway } from "./gateway.js";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
  if (values.config === undefined) {
    process.stderr.write("usage: npm run gateway -- --config FILE\n");
    process.exit(2);
  }
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(loadConfig(values.config));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

await main();
