/**
 * Writes what the private QBFT network needs and git must never hold: one node key per node, the
 * genesis (chain id, fork milestones, QBFT settings and the initial validator set in extraData),
 * each node's bootnode list, and the allowlists every node enforces (permissions_config.toml).
 *
 *   npx tsx ops/besu/generate-network.ts --parameters deploy/parameters/besu.json \
 *     --members deploy/parameters/besu-members.json [--out <dir>] [--force] [--dev]
 *
 * The default output folder is ops/besu/network, ignored by ops/besu/.gitignore. The script refuses
 * to write inside a git work tree unless git ignores the target, and refuses to overwrite an
 * existing network (its keys are the validators' identities) unless given --force. It checks the
 * allowlists' sources before it writes anything.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { Wallet, encodeRlp, getAddress } from "ethers";

import { EVM_VERSION, PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import { type AllowlistSources, type Allowlists, computeAllowlists, formatPermissions } from "./allowlists.js";
import { networkFiles } from "./network-files.js";
import { type BesuNode, DEFAULT_NETWORK_DIR, NODES, P2P_PORT, VALIDATORS } from "./topology.js";

export { networkFiles } from "./network-files.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Default output folder: ops/besu/network. */
export const DEFAULT_OUT_DIR = path.join(HERE, DEFAULT_NETWORK_DIR);

/**
 * QBFT timing. Two-second blocks keep a consumer's read confirmed within seconds; a round that
 * has not produced a block after `requesttimeoutseconds` moves to the next proposer.
 */
export const QBFT = { blockperiodseconds: 2, epochlength: 30_000, requesttimeoutseconds: 4 } as const;

/**
 * Block gas limit: 200 M gas every 2 s. The sizing figure is the housing-fund chain's ~580 writes a
 * second (≈1,160 a block); at up to ~150 k gas a write that is ≈175 M gas a block. Gas is free on
 * this network, so the limit only bounds a block's execution time.
 */
export const GAS_LIMIT = "0xbebc200";

/** The mix hash Besu expects in a BFT genesis ("ctical byzantine fault tolerance"). */
export const QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365";

/**
 * Besu genesis milestones, oldest first, by the EVM version name solc uses. `paris` (the merge) has
 * no QBFT milestone; prague and later need system contracts in the genesis alloc, which this kit
 * does not write.
 */
export const FORK_MILESTONES: readonly (readonly [evmVersion: string, milestone: string])[] = [
  ["homestead", "homesteadBlock"],
  ["tangerineWhistle", "eip150Block"],
  ["spuriousDragon", "eip158Block"],
  ["byzantium", "byzantiumBlock"],
  ["constantinople", "constantinopleBlock"],
  ["petersburg", "petersburgBlock"],
  ["istanbul", "istanbulBlock"],
  ["berlin", "berlinBlock"],
  ["london", "londonBlock"],
  ["shanghai", "shanghaiTime"],
  ["cancun", "cancunTime"],
];

/** Every milestone key Besu knows that this kit may write or must leave out. */
export const LATER_MILESTONES = ["pragueTime", "osakaTime", "amsterdamTime"] as const;

/** The genesis milestones that activate `evmVersion` and every fork before it at genesis. */
export function milestonesFor(evmVersion: string): Record<string, 0> {
  const index = FORK_MILESTONES.findIndex(([name]) => name === evmVersion);
  if (index < 0) {
    throw new Error(
      `EVM version "${evmVersion}" has no QBFT genesis milestone in this kit; supported: ${FORK_MILESTONES.map(([name]) => name).join(", ")}`,
    );
  }
  return Object.fromEntries(FORK_MILESTONES.slice(0, index + 1).map(([, milestone]) => [milestone, 0]));
}

/**
 * QBFT genesis extraData: RLP([32-byte vanity, [validators], no vote, round 0, no seals]).
 * Validators are sorted so the same set always gives the same genesis.
 */
export function qbftExtraData(validators: readonly string[]): string {
  const sorted = [...validators]
    .map((address) => getAddress(address))
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  return encodeRlp([`0x${"00".repeat(32)}`, sorted, [], "0x", []]);
}

export interface GenesisOptions {
  chainId: number;
  evmVersion: string;
  validators: readonly string[];
  /** Genesis timestamp, seconds. */
  timestamp: number;
}

/** The Besu genesis of a free-gas QBFT network. */
export function buildGenesis({ chainId, evmVersion, validators, timestamp }: GenesisOptions) {
  return {
    config: {
      chainId,
      ...milestonesFor(evmVersion),
      zeroBaseFee: true,
      qbft: { ...QBFT },
    },
    nonce: "0x0",
    timestamp: `0x${timestamp.toString(16)}`,
    gasLimit: GAS_LIMIT,
    difficulty: "0x1",
    mixHash: QBFT_MIX_HASH,
    coinbase: `0x${"00".repeat(20)}`,
    // Gas is free: no account needs a balance to transact.
    alloc: {},
    extraData: qbftExtraData(validators),
  };
}

export interface GeneratedNode extends BesuNode {
  /** Account address of the node key; for a validator, its address in the validator set. */
  address: string;
  /** enode URL peers use to reach the node on the compose network. */
  enode: string;
  /** Bootnodes the node starts from: every validator but itself. */
  bootnodes: string[];
}

export interface GeneratedNetwork {
  outDir: string;
  genesisPath: string;
  nodes: GeneratedNode[];
  allowlists: Allowlists;
}

/** Throws unless `dir` is outside any git work tree or ignored by git, and nothing in it is tracked. */
export function assertKeysStayOutOfGit(dir: string): void {
  let probe = path.resolve(dir);
  while (!existsSync(probe)) probe = path.dirname(probe);
  let top: string;
  try {
    top = execFileSync("git", ["-C", probe, "rev-parse", "--show-toplevel"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return; // not in a git work tree
  }
  const relative = path.relative(top, path.resolve(dir, "validator1", "key"));
  try {
    execFileSync("git", ["-C", top, "check-ignore", "-q", "--no-index", relative], { stdio: "ignore" });
  } catch {
    throw new Error(`refusing to write node keys to ${dir}: it is inside the git work tree ${top} and not ignored`);
  }
  const tracked = execFileSync("git", ["-C", top, "ls-files", "--", path.relative(top, path.resolve(dir)) || "."], {
    encoding: "utf8",
  });
  if (tracked.trim() !== "") {
    throw new Error(`refusing to write node keys to ${dir}: git tracks files there`);
  }
}

export interface GenerateOptions extends AllowlistSources {
  outDir?: string;
  /** Replace an existing network (new keys: the old validators lose their identity). */
  force?: boolean;
  /** Genesis timestamp, seconds; defaults to now. */
  timestamp?: number;
}

/** Generates node keys, genesis and bootnode lists for the nodes of topology.ts into `outDir`. */
/**
 * Generates node keys, genesis, bootnode lists and allowlists for the nodes of topology.ts into
 * `outDir`. Throws before writing anything if the allowlists' sources are not usable.
 */
export function generateNetwork({
  outDir = DEFAULT_OUT_DIR,
  force = false,
  timestamp,
  ...sources
}: GenerateOptions): GeneratedNetwork {
  const dir = path.resolve(outDir);
  assertKeysStayOutOfGit(dir);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force) {
    throw new Error(`${dir} already holds a network; pass --force to replace its keys and genesis`);
  }
  const files = networkFiles(dir);

  const keys = new Map(NODES.map((node) => [node.name, Wallet.createRandom()]));
  const enodeOf = (node: BesuNode) =>
    `enode://${keys.get(node.name)!.signingKey.publicKey.slice(4)}@${node.ip}:${P2P_PORT}`;
  const nodes: GeneratedNode[] = NODES.map((node) => ({
    ...node,
    address: keys.get(node.name)!.address,
    enode: enodeOf(node),
    bootnodes: VALIDATORS.filter((validator) => validator.name !== node.name).map(enodeOf),
  }));
  // Every bootnode is a generated node, so the nodes allowlist holds them all, as Besu requires.
  const allowlists = computeAllowlists(nodes, sources);
  if (existsSync(dir) && readdirSync(dir).length > 0) rmSync(dir, { recursive: true });

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const node of nodes) {
    const wallet = keys.get(node.name)!;
    mkdirSync(path.join(dir, node.name), { mode: 0o700 });
    // Besu reads the node key as one line of 0x-prefixed hex.
    writeFileSync(files.key(node.name), wallet.privateKey, { mode: 0o600 });
    chmodSync(files.key(node.name), 0o600);
    writeFileSync(files.publicKey(node.name), `0x${wallet.signingKey.publicKey.slice(4)}\n`);
    writeFileSync(files.env(node.name), `BESU_BOOTNODES=${node.bootnodes.join(",")}\n`);
  }

  const genesis = buildGenesis({
    chainId: PRIVATE_CHAIN_ID,
    evmVersion: EVM_VERSION,
    validators: nodes.filter((node) => node.role === "validator").map((node) => node.address),
    timestamp: timestamp ?? Math.floor(Date.now() / 1000),
  });
  writeFileSync(files.genesis, `${JSON.stringify(genesis, null, 2)}\n`);
  writeFileSync(files.nodes, `${JSON.stringify(nodes, null, 2)}\n`);
  writeFileSync(files.permissions, formatPermissions(allowlists), { mode: 0o644 });
  return { outDir: dir, genesisPath: files.genesis, nodes, allowlists };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      force: { type: "boolean", default: false },
      parameters: { type: "string" },
      members: { type: "string" },
      dev: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  const usage =
    "usage: npx tsx ops/besu/generate-network.ts --parameters <ignition parameters.json> --members <members.json> [--out <dir>] [--force] [--dev]";
  if (values.help === true) {
    console.log(usage);
    return;
  }
  if (values.parameters === undefined || values.members === undefined) {
    console.error(
      `${usage}\nThe accounts allowlist is built from the deployment parameters and the members file: ` +
        "copy deploy/parameters/besu.example.json and besu-members.example.json and fill them in (ops/besu/README.md, step 1).",
    );
    process.exitCode = 2;
    return;
  }
  const network = generateNetwork({
    outDir: values.out,
    force: values.force,
    parametersFile: values.parameters,
    membersFile: values.members,
    allowDevelopmentAccounts: values.dev,
  });
  for (const warning of network.allowlists.warnings) console.warn(`⚠ ${warning}`);
  console.log(
    `Wrote a ${VALIDATORS.length}-validator QBFT network for chain ${PRIVATE_CHAIN_ID} (${EVM_VERSION}) to ${network.outDir}`,
  );
  for (const node of network.nodes) console.log(`  ${node.name.padEnd(11)} ${node.role.padEnd(9)} ${node.address}`);
  console.log(
    `Allowlists: ${network.allowlists.accounts.length} accounts may send transactions, ${network.allowlists.nodes.length} nodes may connect.`,
  );
  console.log("Node keys are secrets: back them up offline; never commit them.");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    main();
  } catch (error) {
    console.error(`generate-network: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
