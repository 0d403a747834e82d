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

/** Chain id of the private network; `hardhat node --network besuLocal`-style tests reuse it. */
export const PRIVATE_CHAIN_ID = 1337;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: {
        version: SOLC_VERSION,
        path: SOLC_PATH,
        settings: {
          evmVersion: EVM_VERSION,
          // The core is called millions of times (issuance, consent, reads) and deployed a handful
          // of times: optimise for run time. via-IR keeps the composed core under the EIP-170
          // size limit with stack-heavy struct code; 200 runs is the point past which the
          // bytecode grows without lowering the per-call gas we snapshot.
          viaIR: true,
          optimizer: { enabled: true, runs: 200 },
        },
      },
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
    localBesu: {
      type: "http",
      chainType: "l1",
      url: "http://127.0.0.1:8545",
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
