/**
 * Static checks of the Besu network kit, for a machine without a Docker engine and before any
 * `docker compose up`: the compose file against ops/besu/topology.ts and the node configs, and a
 * generated network folder against the project's chain id and EVM version.
 *
 *   npx tsx ops/scripts/check-compose.ts [--compose <file>] [--network <dir>]
 *
 * Prints one line per problem and exits non-zero if there is any.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { SigningKey, computeAddress, decodeRlp, getAddress } from "ethers";
import { parse as parseYaml } from "yaml";

import { EVM_VERSION, PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import { LATER_MILESTONES, QBFT_MIX_HASH, milestonesFor, networkFiles } from "../besu/generate-network.js";
import {
  type BesuNode,
  CONTAINER_PATHS,
  DEFAULT_NETWORK_DIR,
  NODES,
  P2P_PORT,
  RPC_HOST_BINDING,
  RPC_HTTP_PORT,
  SUBNET,
  VALIDATORS,
} from "../besu/topology.js";

const BESU_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "besu");
export const DEFAULT_COMPOSE_FILE = path.join(BESU_DIR, "docker-compose.yml");

/** The one-shot service that installs node keys into the data volumes. */
export const KEY_INSTALLER_SERVICE = "node-keys";

/** A Besu image pinned to a release: `hyperledger/besu:<major>.<minor>.<patch>`. */
const PINNED_BESU_IMAGE = /^hyperledger\/besu:\d+\.\d+\.\d+$/;

/** JSON-RPC namespaces that must never be served to applications. */
const PRIVILEGED_APIS = ["ADMIN", "DEBUG", "MINER", "QBFT", "IBFT", "CLIQUE", "PERM", "PLUGINS", "TRACE"];

type TomlValue = string | number | boolean | string[];

/**
 * Reads a Besu config file. Besu configs here are flat `key=value` lines whose values are TOML
 * strings, integers, booleans or arrays of strings: each is also valid JSON, which is how it is read.
 */
export function readBesuToml(file: string): Record<string, TomlValue> {
  const config: Record<string, TomlValue> = {};
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((raw, index) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const match = /^([a-z0-9-]+)\s*=\s*(.+)$/.exec(line);
      if (match === null) throw new Error(`${file}:${index + 1}: not a flat key=value line`);
      const [, key, value] = match;
      if (key in config) throw new Error(`${file}:${index + 1}: ${key} set twice`);
      try {
        config[key] = JSON.parse(value) as TomlValue;
      } catch {
        throw new Error(`${file}:${index + 1}: value of ${key} is not a plain string, number, boolean or string array`);
      }
    });
  return config;
}

interface ComposeService {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number> | string[];
  env_file?: string | string[];
  volumes?: string[];
  ports?: (string | number)[];
  networks?: Record<string, { ipv4_address?: string } | null> | string[];
  network_mode?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
  user?: string;
}

interface ComposeFile {
  services?: Record<string, ComposeService>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] } } | null>;
  volumes?: Record<string, unknown>;
}

/** Parses a compose file the way Docker Compose does, YAML merge keys (`<<: *anchor`) included. */
export function readCompose(file: string): ComposeFile {
  return parseYaml(readFileSync(file, "utf8"), { merge: true }) as ComposeFile;
}

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const environmentOf = (service: ComposeService): Record<string, string> => {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => entry.split(/=(.*)/s, 2) as [string, string]));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value)]));
};

/** Volume entries as { source, target }, sources of bind mounts resolved against the compose folder. */
const mountsOf = (service: ComposeService, composeDir: string) =>
  (service.volumes ?? []).map((entry) => {
    const [source, target] = entry.split(":");
    const bind = source.startsWith(".") || source.startsWith("/");
    return { source: bind ? path.resolve(composeDir, source) : source, target, bind };
  });

/** The host file (or named volume) behind a path inside the container, if mounted. */
function hostPathOf(service: ComposeService, composeDir: string, containerPath: string) {
  for (const mount of mountsOf(service, composeDir)) {
    if (containerPath === mount.target) return mount;
    if (containerPath.startsWith(`${mount.target}/`)) {
      return {
        ...mount,
        source: mount.bind ? path.join(mount.source, containerPath.slice(mount.target.length + 1)) : mount.source,
      };
    }
  }
  return undefined;
}

const ipInSubnet = (ip: string, subnet: string): boolean => {
  const [base, bits] = subnet.split("/");
  const toInt = (address: string) => address.split(".").reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
};

export interface ComposeCheckOptions {
  composeFile?: string;
  chainId?: number;
}

/** Problems found in the compose file and the node configs it mounts; empty when all is well. */
export function checkCompose({
  composeFile = DEFAULT_COMPOSE_FILE,
  chainId = PRIVATE_CHAIN_ID,
}: ComposeCheckOptions = {}): string[] {
  const problems: string[] = [];
  const composeDir = path.dirname(path.resolve(composeFile));
  const compose = readCompose(composeFile);
  const services = compose.services ?? {};
  const expectedGenesis = path.join(composeDir, DEFAULT_NETWORK_DIR, "genesis.json");

  const names = Object.keys(services);
  const expectedNames = [...NODES.map((node) => node.name), KEY_INSTALLER_SERVICE];
  for (const name of expectedNames) if (!(name in services)) problems.push(`service ${name} is missing`);
  for (const name of names)
    if (!expectedNames.includes(name)) problems.push(`service ${name} is not in ops/besu/topology.ts`);

  const images = new Set<string>();
  for (const [name, service] of Object.entries(services)) {
    const image = service.image ?? "";
    images.add(image);
    if (!PINNED_BESU_IMAGE.test(image))
      problems.push(`${name}: image "${image}" is not a pinned hyperledger/besu release tag`);
  }
  if (images.size > 1) problems.push(`services run different images: ${[...images].join(", ")}`);

  const networkNames = Object.keys(compose.networks ?? {});
  if (networkNames.length !== 1) problems.push(`expected one compose network, found ${networkNames.length}`);
  const networkName = networkNames[0];
  const subnet = compose.networks?.[networkName]?.ipam?.config?.[0]?.subnet;
  if (subnet !== SUBNET) problems.push(`network ${networkName}: subnet ${subnet} is not ${SUBNET}`);

  const installer = services[KEY_INSTALLER_SERVICE];
  const installerScript = asList(installer?.command).join("\n");
  if (installer !== undefined && installer.network_mode !== "none")
    problems.push(`${KEY_INSTALLER_SERVICE}: must run without network`);

  for (const node of NODES) {
    const service = services[node.name];
    if (service === undefined) continue;
    const where = `${node.name}`;
    const args = asList(service.command);
    const configArg = args.find((arg) => arg.startsWith("--config-file="));
    const otherArgs = args.filter((arg) => arg !== configArg);
    if (otherArgs.length > 0)
      problems.push(`${where}: command sets options outside the config file: ${otherArgs.join(" ")}`);
    if (service.entrypoint !== undefined) problems.push(`${where}: overrides the image's entrypoint`);
    if (configArg === undefined) {
      problems.push(`${where}: command has no --config-file`);
      continue;
    }
    const configMount = hostPathOf(service, composeDir, configArg.slice("--config-file=".length));
    const expectedConfig = path.join(composeDir, "config", `${node.role}.toml`);
    if (configMount?.source !== expectedConfig) {
      problems.push(`${where}: --config-file is not ops/besu/config/${node.role}.toml mounted into the container`);
      continue;
    }
    const config = readBesuToml(expectedConfig);

    // Chain: genesis and network id.
    const genesisMount = hostPathOf(service, composeDir, String(config["genesis-file"]));
    if (config["genesis-file"] !== CONTAINER_PATHS.genesis || genesisMount?.source !== expectedGenesis) {
      problems.push(
        `${where}: genesis-file ${config["genesis-file"]} is not the generated ${path.relative(composeDir, expectedGenesis)}`,
      );
    }
    if (config["network-id"] !== chainId)
      problems.push(`${where}: network-id ${config["network-id"]} is not the chain id ${chainId}`);
    if (config["min-gas-price"] !== 0) problems.push(`${where}: min-gas-price must be 0 on a free-gas network`);

    // Identity: the key the installer put in this node's data volume.
    const dataMount = hostPathOf(service, composeDir, String(config["data-path"]));
    if (dataMount === undefined || dataMount.bind || !(dataMount.source in (compose.volumes ?? {}))) {
      problems.push(`${where}: data-path ${config["data-path"]} is not a named volume`);
    } else {
      const keyPath = String(config["node-private-key-file"]);
      if (!keyPath.startsWith(`${config["data-path"]}/`))
        problems.push(`${where}: node-private-key-file is outside data-path`);
      const installerMount =
        installer === undefined
          ? undefined
          : mountsOf(installer, composeDir).find((mount) => mount.source === dataMount.source);
      if (
        installerMount === undefined ||
        installerMount.target !== `/data/${node.name}` ||
        !installerScript.includes("/data/$$node/key")
      ) {
        problems.push(
          `${where}: ${KEY_INSTALLER_SERVICE} does not install the node key into volume ${dataMount.source}`,
        );
      }
      if (!/for node in ([^;]+);/.exec(installerScript)?.[1].split(/\s+/).includes(node.name)) {
        problems.push(`${where}: ${KEY_INSTALLER_SERVICE} does not handle this node`);
      }
    }
    const dependsOn = service.depends_on;
    const installerDependency = Array.isArray(dependsOn) ? undefined : dependsOn?.[KEY_INSTALLER_SERVICE];
    if (installerDependency?.condition !== "service_completed_successfully") {
      problems.push(`${where}: must wait for ${KEY_INSTALLER_SERVICE} to complete successfully`);
    }

    // Peer-to-peer: fixed address, advertised as such, bootnodes from the generated folder.
    const networks = service.networks;
    const address = Array.isArray(networks) || networks === undefined ? undefined : networks[networkName]?.ipv4_address;
    const env = environmentOf(service);
    if (address !== node.ip) problems.push(`${where}: ipv4_address ${address} is not ${node.ip}`);
    if (address !== undefined && subnet !== undefined && !ipInSubnet(address, subnet))
      problems.push(`${where}: ${address} is outside ${subnet}`);
    if (env.BESU_P2P_HOST !== node.ip)
      problems.push(`${where}: BESU_P2P_HOST ${env.BESU_P2P_HOST} is not its address ${node.ip}`);
    for (const key of Object.keys(env)) {
      if (key !== "BESU_P2P_HOST") problems.push(`${where}: environment sets ${key}; keep options in the config file`);
    }
    const envFiles = asList(service.env_file).map((file) => path.resolve(composeDir, file));
    const expectedEnvFile = networkFiles(path.join(composeDir, DEFAULT_NETWORK_DIR)).env(node.name);
    if (envFiles.length !== 1 || envFiles[0] !== expectedEnvFile) {
      problems.push(`${where}: env_file is not the generated ${path.relative(composeDir, expectedEnvFile)}`);
    }
    if (config["p2p-port"] !== P2P_PORT) problems.push(`${where}: p2p-port ${config["p2p-port"]} is not ${P2P_PORT}`);
    if (config["p2p-enabled"] !== true || config["discovery-enabled"] !== true)
      problems.push(`${where}: p2p and discovery must be enabled`);
    if (config["nat-method"] !== "NONE")
      problems.push(`${where}: nat-method must be NONE (the node advertises BESU_P2P_HOST)`);
    if ("bootnodes" in config)
      problems.push(`${where}: bootnodes belong in the generated besu.env, not the shared config`);

    // Client APIs: JSON-RPC over HTTP on the RPC node only, published on loopback only.
    const ports = (service.ports ?? []).map(String);
    for (const api of ["rpc-ws-enabled", "graphql-http-enabled"]) {
      if (config[api] !== false) problems.push(`${where}: ${api} must be false`);
    }
    if (node.role === "validator") {
      if (config["rpc-http-enabled"] !== false) problems.push(`${where}: a validator must not serve JSON-RPC`);
      if (ports.length > 0) problems.push(`${where}: a validator must not publish ports (${ports.join(", ")})`);
    } else {
      if (config["rpc-http-enabled"] !== true) problems.push(`${where}: the RPC node must serve JSON-RPC over HTTP`);
      if (config["rpc-http-port"] !== RPC_HTTP_PORT)
        problems.push(`${where}: rpc-http-port ${config["rpc-http-port"]} is not ${RPC_HTTP_PORT}`);
      const expectedPort = `${RPC_HOST_BINDING}:${RPC_HTTP_PORT}`;
      if (ports.length !== 1 || ports[0] !== expectedPort)
        problems.push(
          `${where}: ports must be exactly "${expectedPort}" (loopback only), found ${ports.join(", ") || "none"}`,
        );
      const apis = Array.isArray(config["rpc-http-api"]) ? config["rpc-http-api"] : [];
      const privileged = apis.filter((api) => PRIVILEGED_APIS.includes(api.toUpperCase()));
      if (privileged.length > 0)
        problems.push(`${where}: serves privileged JSON-RPC namespaces ${privileged.join(", ")}`);
      if (!apis.map((api) => api.toUpperCase()).includes("ETH"))
        problems.push(`${where}: does not serve the ETH namespace`);
    }
  }
  return problems;
}

/** Problems found in a folder written by generate-network.ts; empty when all is well. */
export function checkNetwork(
  networkDir: string,
  { chainId = PRIVATE_CHAIN_ID, evmVersion = EVM_VERSION } = {},
): string[] {
  const problems: string[] = [];
  const files = networkFiles(networkDir);
  if (!existsSync(files.genesis)) return [`${files.genesis} does not exist: run generate-network.ts`];
  const genesis = JSON.parse(readFileSync(files.genesis, "utf8"));
  const config = genesis.config ?? {};

  if (config.chainId !== chainId) problems.push(`genesis chainId ${config.chainId} is not ${chainId}`);
  const expected = milestonesFor(evmVersion);
  for (const [milestone, value] of Object.entries(expected)) {
    if (config[milestone] !== value)
      problems.push(`genesis ${milestone} is ${config[milestone]}, expected ${value} for ${evmVersion}`);
  }
  const milestoneKey = /(Block|Time)$/;
  for (const key of Object.keys(config)) {
    if (milestoneKey.test(key) && !(key in expected)) problems.push(`genesis activates ${key}, beyond ${evmVersion}`);
  }
  for (const later of LATER_MILESTONES)
    if (later in config) problems.push(`genesis sets ${later}, beyond ${evmVersion}`);
  if (config.zeroBaseFee !== true) problems.push("genesis is not a zero-base-fee (free gas) network");
  if ("contractSizeLimit" in config)
    problems.push("genesis overrides contractSizeLimit: keep the EIP-170 default the contracts are built for");
  const qbft = config.qbft ?? {};
  for (const key of ["blockperiodseconds", "epochlength", "requesttimeoutseconds"]) {
    if (!Number.isInteger(qbft[key]) || qbft[key] <= 0) problems.push(`genesis qbft.${key} is not a positive integer`);
  }
  if (qbft.requesttimeoutseconds <= qbft.blockperiodseconds)
    problems.push("genesis qbft.requesttimeoutseconds must exceed blockperiodseconds");
  if (genesis.mixHash !== QBFT_MIX_HASH) problems.push("genesis mixHash is not the BFT mix hash");
  if (typeof genesis.gasLimit !== "string" || !/^0x[0-9a-f]+$/i.test(genesis.gasLimit))
    problems.push("genesis gasLimit is missing");

  // extraData: RLP([vanity, validators, vote, round, seals]) with the validators' key addresses.
  const keyAddresses = new Map<string, string>();
  for (const node of NODES) {
    const keyFile = files.key(node.name);
    if (!existsSync(keyFile)) {
      problems.push(`${node.name}: no key at ${keyFile}`);
      continue;
    }
    if ((statSync(keyFile).mode & 0o077) !== 0) problems.push(`${node.name}: key file is readable by other users`);
    keyAddresses.set(node.name, computeAddress(readFileSync(keyFile, "utf8").trim()));
  }
  try {
    const decoded = decodeRlp(genesis.extraData);
    if (!Array.isArray(decoded) || decoded.length !== 5) throw new Error("not a 5-item list");
    const [vanity, validators, vote, round, seals] = decoded;
    if (vanity !== `0x${"00".repeat(32)}`) problems.push("extraData vanity is not 32 zero bytes");
    if (!Array.isArray(vote) || vote.length !== 0) problems.push("extraData carries a vote");
    if (round !== "0x") problems.push("extraData round is not empty");
    if (!Array.isArray(seals) || seals.length !== 0) problems.push("extraData carries seals");
    const inGenesis = (validators as string[]).map((address) => getAddress(address)).sort();
    const fromKeys = VALIDATORS.map((node) => keyAddresses.get(node.name))
      .filter((a): a is string => a !== undefined)
      .sort();
    if (JSON.stringify(inGenesis) !== JSON.stringify(fromKeys)) {
      problems.push(
        `extraData validators ${inGenesis.join(",")} are not the validator keys' addresses ${fromKeys.join(",")}`,
      );
    }
  } catch (error) {
    problems.push(
      `extraData does not decode as QBFT extra data: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  // Bootnodes: every other validator, by the public key of its key file and its fixed address.
  const enodeOf = (node: BesuNode) => {
    const keyFile = files.key(node.name);
    if (!existsSync(keyFile)) return undefined;
    const publicKey = SigningKey.computePublicKey(readFileSync(keyFile, "utf8").trim(), false).slice(4);
    return `enode://${publicKey}@${node.ip}:${P2P_PORT}`;
  };
  for (const node of NODES) {
    const envFile = files.env(node.name);
    if (!existsSync(envFile)) {
      problems.push(`${node.name}: no ${envFile}`);
      continue;
    }
    const line = readFileSync(envFile, "utf8")
      .split("\n")
      .find((entry) => entry.startsWith("BESU_BOOTNODES="));
    const bootnodes = (line ?? "")
      .slice("BESU_BOOTNODES=".length)
      .split(",")
      .filter((entry) => entry !== "");
    const expectedBootnodes = VALIDATORS.filter((validator) => validator.name !== node.name).map(enodeOf);
    if (JSON.stringify([...bootnodes].sort()) !== JSON.stringify([...expectedBootnodes].sort())) {
      problems.push(`${node.name}: bootnodes are not the other validators' enode URLs`);
    }
    if (bootnodes.includes(enodeOf(node) ?? "")) problems.push(`${node.name}: lists itself as a bootnode`);
  }

  // Secrets stay out of git.
  try {
    const top = execFileSync("git", ["-C", path.dirname(path.resolve(networkDir)), "rev-parse", "--show-toplevel"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const tracked = execFileSync("git", ["-C", top, "ls-files", "--", path.relative(top, path.resolve(networkDir))], {
      encoding: "utf8",
    });
    if (tracked.trim() !== "")
      problems.push(`git tracks files in ${networkDir}: ${tracked.trim().split("\n").join(", ")}`);
    for (const node of NODES) {
      try {
        execFileSync("git", ["-C", top, "check-ignore", "-q", "--no-index", path.relative(top, files.key(node.name))], {
          stdio: "ignore",
        });
      } catch {
        problems.push(`${node.name}: key is inside the git work tree and not ignored`);
      }
    }
  } catch {
    // Not inside a git work tree: nothing git could pick up.
  }
  return problems;
}

function main(): void {
  const { values } = parseArgs({ options: { compose: { type: "string" }, network: { type: "string" } } });
  const problems = checkCompose({ composeFile: values.compose });
  const networkDir = values.network ?? path.join(BESU_DIR, DEFAULT_NETWORK_DIR);
  if (values.network !== undefined || existsSync(networkDir)) problems.push(...checkNetwork(networkDir));
  for (const problem of problems) console.error(`✗ ${problem}`);
  if (problems.length > 0) {
    process.exitCode = 1;
    return;
  }
  console.log(
    "Compose file, node configs" + (existsSync(networkDir) ? " and generated network" : "") + " are consistent.",
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
