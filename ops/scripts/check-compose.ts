/**
 * Static checks of the Besu network kit, for a machine without a Docker engine and before any
 * `docker compose up`: the compose file against ops/besu/topology.ts and the node configs, and a
 * generated network folder (genesis, keys, bootnodes, allowlists) against the project's chain id
 * and EVM version and, when given, the deployment parameters and members file.
 *
 *   npx tsx ops/scripts/check-compose.ts [--compose <file>] [--network <dir>]
 *     [--parameters <ignition parameters.json> --members <members.json> [--dev]] [--previous <permissions.toml>]
 *
 * Prints one line per problem (✗) and per warning (⚠); exits non-zero if there is any problem.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { SigningKey, computeAddress, decodeRlp, getAddress } from "ethers";
import { parse as parseYaml } from "yaml";

import { EVM_VERSION, PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import {
  AllowlistInputError,
  type AllowlistSources,
  computeAllowlists,
  enodeKey,
  parseEnode,
  readPermissions,
} from "../besu/allowlists.js";
import { type TomlValue, readBesuToml } from "../besu/besu-toml.js";
import { LATER_MILESTONES, QBFT_MIX_HASH, milestonesFor, networkFiles } from "../besu/generate-network.js";
import {
  BESU_UID,
  type BesuNode,
  CONTAINER_PATHS,
  DATA_STORAGE_FORMAT,
  DEFAULT_NETWORK_DIR,
  LIVENESS_PATH,
  NODES,
  P2P_PORT,
  PERMISSIONS_FILE,
  RPC_HOST_BINDING,
  RPC_HTTP_HOST,
  RPC_HTTP_PORT,
  SUBNET,
  VALIDATORS,
} from "../besu/topology.js";

export { readBesuToml } from "../besu/besu-toml.js";

const BESU_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "besu");
export const DEFAULT_COMPOSE_FILE = path.join(BESU_DIR, "docker-compose.yml");

/** The one-shot service that installs node keys into the data volumes. */
export const KEY_INSTALLER_SERVICE = "node-keys";

/** A Besu image pinned to a release: `hyperledger/besu:<major>.<minor>.<patch>`. */
const PINNED_BESU_IMAGE = /^hyperledger\/besu:\d+\.\d+\.\d+$/;

/** JSON-RPC namespaces that must never be served to applications. */
const PRIVILEGED_APIS = ["ADMIN", "DEBUG", "MINER", "QBFT", "IBFT", "CLIQUE", "PERM", "PLUGINS", "TRACE"];

interface ComposeHealthcheck {
  test?: string[] | string;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  disable?: boolean;
}

interface ComposeService {
  image?: string;
  healthcheck?: ComposeHealthcheck;
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

/**
 * The host file (or named volume) behind a path inside the container, if mounted: the deepest mount
 * containing it wins, as in the container (a file mounted inside a mounted volume hides the volume's).
 */
function hostPathOf(service: ComposeService, composeDir: string, containerPath: string) {
  const containing = mountsOf(service, composeDir)
    .filter((mount) => containerPath === mount.target || containerPath.startsWith(`${mount.target}/`))
    .sort((a, b) => b.target.length - a.target.length);
  const mount = containing[0];
  if (mount === undefined || containerPath === mount.target) return mount;
  return {
    ...mount,
    source: mount.bind ? path.join(mount.source, containerPath.slice(mount.target.length + 1)) : mount.source,
  };
}

const ipInSubnet = (ip: string, subnet: string): boolean => {
  const [base, bits] = subnet.split("/");
  const toInt = (address: string) => address.split(".").reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
};

/** Environment a node may set: its advertised address, and rpc-http-host against the image's default. */
const ALLOWED_ENVIRONMENT = ["BESU_P2P_HOST", "BESU_RPC_HTTP_HOST"];

/**
 * The health check must ask Besu's liveness endpoint, from inside the container, on the port and
 * with a Host header the node's config accepts; a check that cannot succeed would keep the RPC node
 * (which waits for healthy validators) from ever starting.
 */
function checkHealthcheck(
  where: string,
  configName: string,
  service: ComposeService,
  config: Record<string, TomlValue>,
): string[] {
  const problems: string[] = [];
  const healthcheck = service.healthcheck;
  const test = asList(healthcheck?.test);
  if (healthcheck === undefined || healthcheck.disable === true || test.length === 0 || test[0] === "NONE") {
    return [`${where}: has no health check`];
  }
  const script = test.join(" ");
  const port = config["rpc-http-port"];
  if (test[0] !== "CMD" || test[1] !== "bash")
    problems.push(`${where}: health check must run bash (the image has no curl, wget or /dev/tcp in sh)`);
  if (!script.includes(`/dev/tcp/127.0.0.1/${port}`))
    problems.push(`${where}: health check does not connect to 127.0.0.1:${port}, the node's rpc-http-port`);
  if (!new RegExp(`GET ${LIVENESS_PATH} HTTP/1\\.[01]`).test(script))
    problems.push(`${where}: health check does not ask GET ${LIVENESS_PATH}`);
  const host = /Host: ([^\\\r\n']+)/.exec(script)?.[1];
  const allowlist = Array.isArray(config["host-allowlist"]) ? config["host-allowlist"] : ["localhost", "127.0.0.1"];
  if (host === undefined || !(allowlist.includes(host) || allowlist.includes("*")))
    problems.push(
      `${where}: health check's Host header ${host ?? "(none)"} is not in ${configName}'s host-allowlist: Besu would answer 403`,
    );
  const rpcHost = config["rpc-http-host"];
  if (rpcHost !== "127.0.0.1" && rpcHost !== "0.0.0.0")
    problems.push(
      `${where}: health check reaches 127.0.0.1, which rpc-http-host ${JSON.stringify(rpcHost)} does not listen on`,
    );
  for (const key of ["interval", "timeout", "start_period"] as const) {
    if (typeof healthcheck[key] !== "string") problems.push(`${where}: health check does not set ${key}`);
  }
  if (!Number.isInteger(healthcheck.retries) || (healthcheck.retries as number) < 1)
    problems.push(`${where}: health check does not set retries`);
  return problems;
}

/** The installer line that copies the generated allowlists into a node's data volume. */
const PERMISSIONS_INSTALL = new RegExp(
  `install\\s+-o\\s+${BESU_UID}\\s+-g\\s+${BESU_UID}\\s+-m\\s+0?([0-7])[0-7]{2}\\s+"?/network/${PERMISSIONS_FILE.replace(".", "\\.")}"?\\s+"?/data/\\$\\$node/${PERMISSIONS_FILE.replace(".", "\\.")}"?`,
);

/**
 * Local permissioning must be on for both lists, read from the file the installer puts in the data
 * volume, owned and writable by the besu user: Besu does not apply a permissions file it cannot write
 * (besu#2515), which any read-only mount of it would be.
 */
function checkPermissionsFile(
  where: string,
  configName: string,
  config: Record<string, TomlValue>,
  service: ComposeService,
  composeDir: string,
  installerScript: string,
): string[] {
  const problems: string[] = [];
  for (const list of ["nodes", "accounts"]) {
    if (config[`permissions-${list}-config-file-enabled`] !== true)
      problems.push(`${where}: ${configName} permissions-${list}-config-file-enabled must be true`);
    const file = config[`permissions-${list}-config-file`];
    if (file !== CONTAINER_PATHS.permissions)
      problems.push(
        `${where}: ${configName} permissions-${list}-config-file ${JSON.stringify(file)} is not ${CONTAINER_PATHS.permissions}, the copy in the data volume`,
      );
  }
  if (!CONTAINER_PATHS.permissions.startsWith(`${config["data-path"]}/`))
    problems.push(`${where}: the permissions file is outside data-path`);
  const mount = hostPathOf(service, composeDir, CONTAINER_PATHS.permissions);
  if (mount?.bind === true) {
    problems.push(
      `${where}: docker-compose.yml mounts ${mount.source} over ${CONTAINER_PATHS.permissions}: Besu must be able to write its permissions file (besu#2515); the node-keys service installs it into the data volume`,
    );
  }
  const install = PERMISSIONS_INSTALL.exec(installerScript);
  if (install === null) {
    problems.push(
      `${where}: ${KEY_INSTALLER_SERVICE} does not install network/${PERMISSIONS_FILE} into the data volume owned by uid ${BESU_UID} (install -o ${BESU_UID} -g ${BESU_UID}): Besu does not apply a permissions file it cannot write (besu#2515)`,
    );
  } else if ((Number(install[1]) & 0o6) !== 0o6) {
    problems.push(
      `${where}: ${KEY_INSTALLER_SERVICE} installs ${PERMISSIONS_FILE} with mode ${install[0].match(/-m\s+(\S+)/)?.[1]}, which its owner cannot read and write (besu#2515)`,
    );
  }
  return problems;
}

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
    const configName = path.relative(composeDir, expectedConfig);

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
      problems.push(...checkPermissionsFile(where, configName, config, service, composeDir, installerScript));
    }
    const dependsOn = service.depends_on;
    const dependency = (name: string) => (Array.isArray(dependsOn) ? undefined : dependsOn?.[name]);
    if (dependency(KEY_INSTALLER_SERVICE)?.condition !== "service_completed_successfully") {
      problems.push(`${where}: must wait for ${KEY_INSTALLER_SERVICE} to complete successfully`);
    }
    if (node.role === "rpc") {
      // The RPC node syncs from the validators: started before them it would only wait for peers.
      for (const validator of VALIDATORS) {
        if (dependency(validator.name)?.condition !== "service_healthy") {
          problems.push(`${where}: depends_on ${validator.name} must have condition service_healthy`);
        }
      }
    }

    // World state: what each role needs to answer.
    const storage = DATA_STORAGE_FORMAT[node.role];
    if (config["data-storage-format"] !== storage) {
      problems.push(
        node.role === "rpc"
          ? `${where}: ${configName} data-storage-format ${JSON.stringify(config["data-storage-format"])} is not "${storage}": auditors query the state at past blocks, which Bonsai does not keep (an archive node needs Forest; Bonsai archive is experimental in this Besu)`
          : `${where}: ${configName} data-storage-format ${JSON.stringify(config["data-storage-format"])} is not "${storage}"`,
      );
    }
    if (node.role === "rpc" && config["sync-mode"] !== "FULL") {
      problems.push(
        `${where}: ${configName} sync-mode must be FULL: an archive node executes every block from genesis`,
      );
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
      if (!ALLOWED_ENVIRONMENT.includes(key))
        problems.push(`${where}: environment sets ${key}; keep options in the config file`);
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

    // Client APIs: JSON-RPC over HTTP for applications on the RPC node only, published on loopback
    // only; a validator's listens on its container's loopback, for its health check.
    const ports = (service.ports ?? []).map(String);
    for (const api of ["rpc-ws-enabled", "graphql-http-enabled"]) {
      if (config[api] !== false) problems.push(`${where}: ${api} must be false`);
    }
    if (config["rpc-http-enabled"] !== true)
      problems.push(`${where}: ${configName} rpc-http-enabled must be true (the health check calls ${LIVENESS_PATH})`);
    if (config["rpc-http-port"] !== RPC_HTTP_PORT)
      problems.push(`${where}: rpc-http-port ${config["rpc-http-port"]} is not ${RPC_HTTP_PORT}`);
    const rpcHost = config["rpc-http-host"];
    if (rpcHost !== RPC_HTTP_HOST[node.role]) {
      problems.push(
        rpcHost === undefined
          ? `${where}: ${configName} does not set rpc-http-host: the image's BESU_RPC_HTTP_HOST=0.0.0.0 would decide`
          : `${where}: ${configName} rpc-http-host ${JSON.stringify(rpcHost)} is not "${RPC_HTTP_HOST[node.role]}"`,
      );
    }
    if (env.BESU_RPC_HTTP_HOST !== rpcHost) {
      problems.push(
        `${where}: environment BESU_RPC_HTTP_HOST ${env.BESU_RPC_HTTP_HOST ?? "(unset)"} is not ${configName}'s rpc-http-host ${JSON.stringify(rpcHost)}: ` +
          "the image sets BESU_RPC_HTTP_HOST=0.0.0.0 and the environment overrides the config file",
      );
    }
    const apis = Array.isArray(config["rpc-http-api"]) ? config["rpc-http-api"] : [];
    const privileged = apis.filter((api) => PRIVILEGED_APIS.includes(api.toUpperCase()));
    if (privileged.length > 0)
      problems.push(`${where}: serves privileged JSON-RPC namespaces ${privileged.join(", ")}`);
    const hostAllowlist = config["host-allowlist"];
    if (!Array.isArray(hostAllowlist) || hostAllowlist.length === 0) {
      problems.push(`${where}: ${configName} must set host-allowlist explicitly`);
    } else if (hostAllowlist.includes("*")) {
      problems.push(`${where}: ${configName} host-allowlist accepts any Host header ("*"): list the names clients use`);
    }
    if (node.role === "validator") {
      if (ports.length > 0) problems.push(`${where}: a validator must not publish ports (${ports.join(", ")})`);
      if (apis.map((api) => api.toUpperCase()).includes("ETH"))
        problems.push(`${where}: a validator must not serve the ETH namespace: applications use the RPC node`);
    } else {
      const expectedPort = `${RPC_HOST_BINDING}:${RPC_HTTP_PORT}`;
      if (ports.length !== 1 || ports[0] !== expectedPort)
        problems.push(
          `${where}: ports must be exactly "${expectedPort}" (loopback only), found ${ports.join(", ") || "none"}`,
        );
      if (!apis.map((api) => api.toUpperCase()).includes("ETH"))
        problems.push(`${where}: does not serve the ETH namespace`);
      // The reverse proxy on the host forwards to the published loopback port with that address as Host.
      const bindingHost = RPC_HOST_BINDING.split(":")[0];
      if (Array.isArray(hostAllowlist) && !hostAllowlist.includes(bindingHost) && !hostAllowlist.includes("*"))
        problems.push(
          `${where}: ${configName} host-allowlist does not list ${bindingHost}, the Host a reverse proxy on the host sends to ${RPC_HOST_BINDING}`,
        );
    }
    problems.push(...checkHealthcheck(where, configName, service, config));
  }
  return problems;
}

export interface NetworkCheckOptions {
  chainId?: number;
  evmVersion?: string;
  /** The deployment parameters and members file: every account and node they name must be allowed. */
  sources?: AllowlistSources;
  /**
   * The allowlists before the last change; defaults to the permissions_config.previous.toml that
   * allowlists.ts keeps. Accounts it listed that the current file does not are reported as warnings.
   */
  previousPermissions?: string;
}

/** A generated node as the allowlist must hold it; no enode when its key file is missing. */
export interface GeneratedEnode extends Pick<BesuNode, "name" | "role"> {
  enode: string | undefined;
}

export interface NetworkReport {
  problems: string[];
  warnings: string[];
}

/** Problems found in a folder written by generate-network.ts; empty when all is well. */
export function checkNetwork(networkDir: string, options: NetworkCheckOptions = {}): string[] {
  return checkNetworkReport(networkDir, options).problems;
}

/** Where a file is, for a message: relative to the working folder when inside it. */
const shown = (file: string): string => {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
};

/**
 * The allowlists every node reads. Guards the known ways they fail silently: a duplicate entry, after
 * which Besu up to 24.5 dropped the whole list without a word (besu#7138, later releases refuse to
 * start); an enode URL with a host name, which Besu does not resolve without --Xdns-enabled; a
 * generated node or bootnode missing from the nodes allowlist, without which Besu does not start or
 * the node cannot peer; an empty accounts allowlist, with which nobody can transact. Warns about
 * accounts removed since the previous file: a node that syncs later may reject the blocks holding
 * their past transactions (besu#1476).
 */
export function checkPermissions(
  networkDir: string,
  generated: readonly GeneratedEnode[],
  { sources, previousPermissions }: Pick<NetworkCheckOptions, "sources" | "previousPermissions"> = {},
): NetworkReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const files = networkFiles(networkDir);
  const file = shown(files.permissions);
  if (!existsSync(files.permissions)) {
    return { problems: [`${file} does not exist: run generate-network.ts or ops/besu/allowlists.ts`], warnings };
  }
  let lists: { accounts: unknown[]; nodes: unknown[] };
  try {
    lists = readPermissions(files.permissions);
  } catch (error) {
    return { problems: [error instanceof Error ? error.message : String(error)], warnings };
  }

  const seen = new Map<string, number>();
  lists.accounts.forEach((account, index) => {
    const entry = `${file}: accounts-allowlist[${index}]`;
    if (typeof account !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(account)) {
      problems.push(`${entry} ${JSON.stringify(account)} is not an account address`);
      return;
    }
    const first = seen.get(account.toLowerCase());
    if (first !== undefined) {
      problems.push(
        `${entry} ${account} duplicates accounts-allowlist[${first}]: a duplicate made Besu drop the whole list (besu#7138); list each account once`,
      );
    } else seen.set(account.toLowerCase(), index);
  });
  if (lists.accounts.length === 0)
    problems.push(`${file}: accounts-allowlist is empty: no account could send a transaction`);

  const seenNodes = new Map<string, number>();
  lists.nodes.forEach((url, index) => {
    const entry = `${file}: nodes-allowlist[${index}]`;
    const enode = parseEnode(url);
    if (typeof enode === "string") {
      problems.push(`${entry}: ${enode}`);
      return;
    }
    const first = seenNodes.get(enodeKey(url as string));
    if (first !== undefined) {
      problems.push(
        `${entry} duplicates nodes-allowlist[${first}]: a duplicate made Besu drop the whole list (besu#7138); list each node once`,
      );
    } else seenNodes.set(enodeKey(url as string), index);
  });
  for (const node of generated) {
    if (node.enode !== undefined && !seenNodes.has(enodeKey(node.enode))) {
      problems.push(
        `${file}: nodes-allowlist does not list ${node.name} (${node.enode}): ${node.role === "validator" ? "it is every other node's bootnode, and Besu does not start with a bootnode outside the list" : "no other node would accept its connection"}`,
      );
    }
  }

  if (sources !== undefined) {
    try {
      const expected = computeAllowlists(
        generated.flatMap((node) => (node.enode === undefined ? [] : [{ name: node.name, enode: node.enode }])),
        sources,
      );
      warnings.push(...expected.warnings);
      for (const account of expected.accounts) {
        if (!seen.has(account.toLowerCase()))
          problems.push(
            `${file}: accounts-allowlist does not list ${account}, named in ${sources.membersFile} or ${sources.parametersFile}`,
          );
      }
      for (const node of expected.nodes) {
        if (!seenNodes.has(enodeKey(node)))
          problems.push(`${file}: nodes-allowlist does not list ${node}, named in ${sources.membersFile}`);
      }
    } catch (error) {
      if (error instanceof AllowlistInputError) problems.push(...error.problems);
      else throw error;
    }
  }

  const previous = previousPermissions ?? files.previousPermissions;
  if (existsSync(previous)) {
    try {
      const before = readPermissions(previous);
      for (const account of before.accounts) {
        if (typeof account === "string" && !seen.has(account.toLowerCase())) {
          warnings.push(
            `${file}: ${account} was removed from accounts-allowlist (it is in ${shown(previous)}): a node that syncs later may reject the blocks holding its past transactions (besu#1476). Keep it listed and suspend its member on chain instead`,
          );
        }
      }
      for (const url of before.nodes) {
        if (typeof url === "string" && typeof parseEnode(url) !== "string" && !seenNodes.has(enodeKey(url))) {
          warnings.push(
            `${file}: ${url} was removed from nodes-allowlist (it is in ${shown(previous)}): that node can no longer connect`,
          );
        }
      }
    } catch (error) {
      warnings.push(
        `${shown(previous)} could not be read to compare: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return { problems, warnings };
}

/** Problems and warnings for a folder written by generate-network.ts. */
export function checkNetworkReport(
  networkDir: string,
  { chainId = PRIVATE_CHAIN_ID, evmVersion = EVM_VERSION, sources, previousPermissions }: NetworkCheckOptions = {},
): NetworkReport {
  const problems: string[] = [];
  const files = networkFiles(networkDir);
  if (!existsSync(files.genesis))
    return { problems: [`${files.genesis} does not exist: run generate-network.ts`], warnings: [] };
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

  // Allowlists: every generated node, by the public key of its key file and its fixed address.
  const permissions = checkPermissions(
    networkDir,
    NODES.map((node) => ({ name: node.name, role: node.role, enode: enodeOf(node) })),
    { sources, previousPermissions },
  );
  problems.push(...permissions.problems);

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
  return { problems, warnings: permissions.warnings };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      compose: { type: "string" },
      network: { type: "string" },
      parameters: { type: "string" },
      members: { type: "string" },
      dev: { type: "boolean", default: false },
      previous: { type: "string" },
    },
  });
  if ((values.parameters === undefined) !== (values.members === undefined)) {
    console.error("check-compose: --parameters and --members go together");
    process.exitCode = 2;
    return;
  }
  const problems = checkCompose({ composeFile: values.compose });
  const warnings: string[] = [];
  const networkDir = values.network ?? path.join(BESU_DIR, DEFAULT_NETWORK_DIR);
  const checkGenerated = values.network !== undefined || existsSync(networkDir);
  if (checkGenerated) {
    const report = checkNetworkReport(networkDir, {
      sources:
        values.parameters === undefined || values.members === undefined
          ? undefined
          : { parametersFile: values.parameters, membersFile: values.members, allowDevelopmentAccounts: values.dev },
      previousPermissions: values.previous,
    });
    problems.push(...report.problems);
    warnings.push(...report.warnings);
  }
  for (const problem of problems) console.error(`✗ ${problem}`);
  for (const warning of warnings) console.warn(`⚠ ${warning}`);
  if (problems.length > 0) {
    process.exitCode = 1;
    return;
  }
  console.log(
    checkGenerated
      ? "Compose file, node configs and generated network are consistent."
      : "Compose file and node configs are consistent.",
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
