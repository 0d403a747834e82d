import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

/**
 * The compiler is the WASM build shipped by the pinned npm `solc` package: no download at build time.
 * Keep `SOLC_VERSION` equal to the `solc` version in package.json.
 */
const SOLC_VERSION = "0.8.30";
const SOLC_PATH = require.resolve("solc/soljson.js");

/**
 * One EVM fork everywhere: the compiler target, the embedded network and the Besu genesis
 * milestones written by ops/besu (see ops/besu/README.md). Cancun is the newest fork every
 * supported Besu release runs under QBFT.
 */
export const EVM_VERSION = "cancun";

/** Chain id of the private network, of `besuLike` and of the genesis ops/besu writes. */
export const PRIVATE_CHAIN_ID = 1337;

/**
 * The one compiler configuration, used by every build profile: `hardhat build` and tests use
 * "default", `hardhat ignition deploy` uses "production", and both must produce the bytecode the
 * gas snapshot and the EIP-170 size limit were measured on.
 */
const COMPILER = {
  version: SOLC_VERSION,
  path: SOLC_PATH,
  settings: {
    evmVersion: EVM_VERSION,
    // via-IR: the legacy pipeline runs out of stack on the consent code, and via-IR keeps the
    // composed core (about 22.9 kB) under the 24,576-byte limit. The optimizer favours run time
    // (runs 200): the core is called millions of times and deployed a few; at runs 1, 50 and 200
    // its size differed by under 150 bytes.
    viaIR: true,
    optimizer: { enabled: true, runs: 200 },
  },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: COMPILER,
      production: COMPILER,
    },
  },
  paths: {
    ignition: "deploy",
  },
  test: {
    solidity: {
      // A fixed seed keeps CI reproducible; change it locally to explore other sequences.
      fuzz: { runs: 1024, seed: "0x6461746173616665" },
      invariant: { runs: 256, depth: 96 },
    },
  },
  typechain: {
    outDir: "typechain-types",
  },
  networks: {
    hardhat: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: EVM_VERSION,
    },
    // The embedded network configured like the private Besu network (chain id, zero gas price,
    // same fork): `hardhat node --network besuLike` serves it over HTTP for deployment tests.
    besuLike: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: PRIVATE_CHAIN_ID,
      hardfork: EVM_VERSION,
      initialBaseFeePerGas: 0,
      gasPrice: 0,
    },
    // A node serving `besuLike` (or a Besu dev node) on this machine; its unlocked accounts sign.
    // LOCAL_BESU_URL points it at another port (the deployment tests use a free one).
    localBesu: {
      type: "http",
      chainType: "l1",
      url: process.env.LOCAL_BESU_URL ?? "http://127.0.0.1:8545",
      chainId: PRIVATE_CHAIN_ID,
      gasPrice: 0,
    },
    // A private Besu/QBFT network: URL and deployer key come from the keystore or environment.
    besu: {
      type: "http",
      chainType: "l1",
      url: configVariable("BESU_RPC_URL"),
      accounts: [configVariable("BESU_DEPLOYER_KEY")],
    },
  },
});
