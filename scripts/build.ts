/**
 * Builds the contracts and says so: `hardhat run` and `ignition deploy` build silently before they
 * start, minutes on a first run. `npm run demo` and `npm run deploy:local` run this first.
 *
 *   npx hardhat run --no-compile scripts/build.ts
 *   npx hardhat --build-profile production run --no-compile scripts/build.ts   (what ignition deploy builds)
 */
import hre from "hardhat";

import { buildWithProgress } from "./lib/progress.js";

await buildWithProgress(hre);
