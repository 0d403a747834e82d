/**
 * The project's Hardhat config with one change: the `localBesu` network's URL comes from
 * LOCAL_BESU_URL (default http://127.0.0.1:8545, as in hardhat.config.ts). It lets a deployment or
 * a test reach a node on another port without editing hardhat.config.ts:
 *
 *   LOCAL_BESU_URL=http://127.0.0.1:18545 npx hardhat --config ops/hardhat/local-node.config.ts \
 *     ignition deploy deploy/modules/Permissions.ts --network localBesu --parameters deploy/parameters/localBesu.json
 *
 * Paths stay those of the project: Hardhat takes the project root from the nearest package.json.
 */
import { defineConfig } from "hardhat/config";

import projectConfig from "../../hardhat.config.js";

const localBesu = projectConfig.networks?.localBesu;
if (localBesu === undefined || localBesu.type !== "http") {
  throw new Error("hardhat.config.ts no longer defines the http network localBesu");
}

export default defineConfig({
  ...projectConfig,
  networks: {
    ...projectConfig.networks,
    localBesu: { ...localBesu, url: process.env.LOCAL_BESU_URL ?? "http://127.0.0.1:8545" },
  },
});
