/**
 * The network's local permissioning: the accounts that may send transactions (accounts allowlist)
 * and the nodes that may connect (nodes allowlist), in the permissions_config.toml every node reads.
 *
 *   npx tsx ops/besu/allowlists.ts --parameters deploy/parameters/besu.json \
 *     --members deploy/parameters/besu-members.json [--network <dir>] [--dev] [--remove]
 *
 * Accounts: the deployer and every organisation's accounts from the members file, and every role
 * account of the Ignition parameters file. Nodes: the nodes of the generated network and the nodes
 * organisations run themselves. generate-network.ts writes the first file; this script rewrites it
 * when an organisation joins, and keeps the file it replaces as permissions_config.previous.toml so
 * the checks can show what changed. It refuses to drop an account (see README.md, "Onboarding").
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { ZeroAddress, getAddress, isAddress } from "ethers";

import { ADDRESS_PARAMETERS, developmentAccountIndex } from "../scripts/check-parameters.js";
import { parseBesuToml, tomlStringArray } from "./besu-toml.js";
import { networkFiles } from "./network-files.js";
import { DEFAULT_NETWORK_DIR } from "./topology.js";

/** An organisation of the network: the accounts that send its transactions and the nodes it runs. */
export interface Organisation {
  name: string;
  /** Every account that sends transactions for it: member account, relayers, multisig owners. */
  accounts: string[];
  /** enode URLs of the nodes it runs itself (the nodes of docker-compose.yml are added anyway). */
  nodes: string[];
}

/** The members file (deploy/parameters/besu-members.json). */
export interface Members {
  /** The account Ignition deploys with (BESU_DEPLOYER_KEY); it holds the admin role until the hand-over. */
  deployer: string;
  organisations: Organisation[];
}

/** Bad allowlist sources: every problem found, each naming its file and entry. */
export class AllowlistInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "AllowlistInputError";
  }
}

/** An enode URL Besu's nodes allowlist accepts without DNS support: 128 hex digits @ IPv4 : port. */
const ENODE = /^enode:\/\/([0-9a-fA-F]{128})@(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})(?:\?discport=(\d{1,5}))?$/;

export interface Enode {
  publicKey: string;
  ip: string;
  port: number;
}

/** Parses an enode URL, or explains why Besu would not take it. */
export function parseEnode(url: unknown): Enode | string {
  if (typeof url !== "string") return `${JSON.stringify(url)} is not an enode URL`;
  const match = ENODE.exec(url);
  if (match === null) {
    return /^enode:\/\/[0-9a-fA-F]{128}@[^:]+:\d+/.test(url)
      ? `${url} names its host by name: Besu's allowlist needs an IPv4 address (host names need --Xdns-enabled)`
      : `${url} is not an enode URL (enode://<128 hex digits>@<IPv4 address>:<port>)`;
  }
  const [, publicKey, ip, port] = match;
  if (ip.split(".").some((octet) => Number(octet) > 255)) return `${url} has an invalid IPv4 address`;
  if (Number(port) < 1 || Number(port) > 65535) return `${url} has an invalid port`;
  return { publicKey: publicKey.toLowerCase(), ip, port: Number(port) };
}

/** The same node whatever the case of its key: what Besu compares when it finds a duplicate. */
export const enodeKey = (url: string): string => {
  const enode = parseEnode(url);
  return typeof enode === "string" ? url : `${enode.publicKey}@${enode.ip}:${enode.port}`;
};

export interface AllowlistSources {
  /** The Ignition parameters file: its role accounts (Permissions, AdminHandover). */
  parametersFile: string;
  /** The members file: the deployer and the organisations. */
  membersFile: string;
  /** Accept Hardhat's development accounts (a rehearsal network only), with a warning. */
  allowDevelopmentAccounts?: boolean;
}

export interface Allowlists {
  accounts: string[];
  nodes: string[];
  /** Accepted but worth saying: development accounts under --dev. */
  warnings: string[];
}

const readJson = (file: string, problems: string[]): unknown => {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    problems.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
};

/**
 * Computes the allowlists from the generated nodes and the sources, in a stable order: deployer,
 * organisations' accounts, role accounts; generated nodes, organisations' nodes. An account named
 * twice (a regulator's role account is also its organisation's account) is listed once. Throws
 * AllowlistInputError naming the file and entry of every address or enode Besu would not take.
 */
export function computeAllowlists(
  networkNodes: readonly { name: string; enode: string }[],
  { parametersFile, membersFile, allowDevelopmentAccounts = false }: AllowlistSources,
): Allowlists {
  const problems: string[] = [];
  const warnings: string[] = [];
  const accounts = new Map<string, string>(); // address → where it was first named
  const nodes = new Map<string, string>(); // enode key → URL

  const addAccount = (file: string, entry: string, value: unknown) => {
    if (typeof value !== "string" || !isAddress(value)) {
      problems.push(`${file}: ${entry} is not an address: ${JSON.stringify(value)}`);
      return;
    }
    const address = getAddress(value);
    if (address === ZeroAddress) {
      problems.push(`${file}: ${entry} is the zero address`);
      return;
    }
    const devIndex = developmentAccountIndex(address);
    if (devIndex >= 0) {
      const what = `${file}: ${entry} ${address} is Hardhat development account #${devIndex}, whose private key is public`;
      if (!allowDevelopmentAccounts) {
        problems.push(`${what}: anyone could send transactions as it. Use --dev for a rehearsal network only.`);
        return;
      }
      warnings.push(`${what}: allowed by --dev, for a rehearsal network only`);
    }
    if (!accounts.has(address)) accounts.set(address, `${file}: ${entry}`);
  };

  for (const node of networkNodes) {
    const enode = parseEnode(node.enode);
    if (typeof enode === "string") problems.push(`generated node ${node.name}: ${enode}`);
    else nodes.set(enodeKey(node.enode), node.enode);
  }

  const members = readJson(membersFile, problems) as Partial<Members> | undefined;
  if (members !== undefined) {
    addAccount(membersFile, "deployer", members.deployer);
    if (!Array.isArray(members.organisations)) {
      problems.push(`${membersFile}: organisations is not a list`);
    } else {
      const owner = new Map<string, string>();
      members.organisations.forEach((organisation: Partial<Organisation>, i) => {
        const where = `organisations[${i}]`;
        if (typeof organisation?.name !== "string" || organisation.name.trim() === "") {
          problems.push(`${membersFile}: ${where}.name is missing`);
        }
        const name = organisation?.name ?? where;
        if (!Array.isArray(organisation?.accounts)) {
          problems.push(`${membersFile}: ${where}.accounts is not a list`);
        } else {
          organisation.accounts.forEach((account, j) => {
            const entry = `${where}.accounts[${j}] (${name})`;
            if (typeof account === "string" && isAddress(account)) {
              const first = owner.get(getAddress(account));
              if (first !== undefined) {
                problems.push(
                  `${membersFile}: ${entry} ${getAddress(account)} is already listed at ${first}: an account sends for one organisation`,
                );
                return;
              }
              owner.set(getAddress(account), entry);
            }
            addAccount(membersFile, entry, account);
          });
        }
        if (organisation?.nodes !== undefined && !Array.isArray(organisation.nodes)) {
          problems.push(`${membersFile}: ${where}.nodes is not a list`);
        } else {
          (organisation?.nodes ?? []).forEach((url, j) => {
            const entry = `${where}.nodes[${j}] (${name})`;
            const enode = parseEnode(url);
            if (typeof enode === "string") {
              problems.push(`${membersFile}: ${entry}: ${enode}`);
            } else if (nodes.has(enodeKey(url as string))) {
              problems.push(`${membersFile}: ${entry} ${url} is already in the nodes allowlist`);
            } else {
              nodes.set(enodeKey(url as string), url as string);
            }
          });
        }
      });
    }
  }

  const parameters = readJson(parametersFile, problems) as Record<string, Record<string, unknown>> | undefined;
  if (parameters !== undefined) {
    for (const [module, names] of Object.entries(ADDRESS_PARAMETERS)) {
      for (const name of names) {
        const value = parameters[module]?.[name];
        if (value !== undefined) addAccount(parametersFile, `${module}.${name}`, value);
      }
    }
  }

  if (problems.length > 0) throw new AllowlistInputError(problems);
  return { accounts: [...accounts.keys()], nodes: [...nodes.values()], warnings };
}

/** The permissions_config.toml Besu reads: both allowlists, one entry a line. */
export function formatPermissions({ accounts, nodes }: Pick<Allowlists, "accounts" | "nodes">): string {
  return [
    "# Local permissioning of the datasafe network, written by ops/besu/allowlists.ts from the",
    "# deployment parameters and the members file: change those and re-run it, do not edit this file.",
    "# Every node gets a copy (the node-keys service installs it into each data volume). Never remove",
    "# an account that has sent transactions: suspend its member on chain (ops/besu/README.md).",
    `accounts-allowlist=${tomlStringArray(accounts)}`,
    `nodes-allowlist=${tomlStringArray(nodes)}`,
    "",
  ].join("\n");
}

/** The allowlists of a permissions file as written, duplicates and all (the checks look at them). */
export function readPermissions(file: string): { accounts: unknown[]; nodes: unknown[] } {
  const { values } = parseBesuToml(file);
  const list = (key: string): unknown[] => {
    const value = values[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new Error(`${file}: ${key} is not a list`);
    return value;
  };
  return { accounts: list("accounts-allowlist"), nodes: list("nodes-allowlist") };
}

export interface AllowlistChange extends Allowlists {
  file: string;
  added: { accounts: string[]; nodes: string[] };
  removed: { accounts: string[]; nodes: string[] };
}

export interface WriteAllowlistsOptions extends AllowlistSources {
  networkDir: string;
  /** Drop accounts the current file lists and the sources no longer name. */
  allowRemoval?: boolean;
}

const sameAccount = (a: unknown, b: string) => typeof a === "string" && a.toLowerCase() === b.toLowerCase();

/**
 * Rewrites the permissions file of a generated network from its nodes.json and the sources. The
 * file it replaces becomes permissions_config.previous.toml. Refuses to drop an account unless
 * `allowRemoval`: a node that joins later may reject the blocks holding that account's past
 * transactions (besu#1476), so an organisation that leaves is suspended on chain instead.
 */
export function writeAllowlists({
  networkDir,
  allowRemoval = false,
  ...sources
}: WriteAllowlistsOptions): AllowlistChange {
  const files = networkFiles(networkDir);
  if (!existsSync(files.nodes)) {
    throw new Error(`${files.nodes} does not exist: generate the network first (generate-network.ts)`);
  }
  const networkNodes = JSON.parse(readFileSync(files.nodes, "utf8")) as { name: string; enode: string }[];
  const lists = computeAllowlists(networkNodes, sources);
  const current = existsSync(files.permissions) ? readPermissions(files.permissions) : { accounts: [], nodes: [] };
  const removedAccounts = current.accounts
    .filter((account): account is string => typeof account === "string")
    .filter((account) => !lists.accounts.some((kept) => sameAccount(account, kept)));
  const removedNodes = current.nodes
    .filter((node): node is string => typeof node === "string")
    .filter((node) => !lists.nodes.some((kept) => enodeKey(kept) === enodeKey(node)));
  if (removedAccounts.length > 0 && !allowRemoval) {
    throw new Error(
      `refusing to remove ${removedAccounts.join(", ")} from the accounts allowlist of ${files.permissions}: ` +
        "a node syncing later may reject the blocks that hold their past transactions (besu#1476). " +
        "To stop an organisation, suspend its member on chain (suspendMember, the regulator's role) and keep " +
        "its accounts in the members file; pass --remove only for an account that never sent a transaction.",
    );
  }
  const change: AllowlistChange = {
    ...lists,
    file: files.permissions,
    added: {
      accounts: lists.accounts.filter((account) => !current.accounts.some((old) => sameAccount(old, account))),
      nodes: lists.nodes.filter(
        (node) => !current.nodes.some((old) => typeof old === "string" && enodeKey(old) === enodeKey(node)),
      ),
    },
    removed: { accounts: removedAccounts, nodes: removedNodes },
  };
  if (existsSync(files.permissions)) copyFileSync(files.permissions, files.previousPermissions);
  writeFileSync(files.permissions, formatPermissions(lists), { mode: 0o644 });
  return change;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

function main(): void {
  const { values } = parseArgs({
    options: {
      parameters: { type: "string" },
      members: { type: "string" },
      network: { type: "string" },
      dev: { type: "boolean", default: false },
      remove: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  const usage =
    "usage: npx tsx ops/besu/allowlists.ts --parameters <ignition parameters.json> --members <members.json> [--network <dir>] [--dev] [--remove]";
  if (values.help === true) {
    console.log(usage);
    return;
  }
  if (values.parameters === undefined || values.members === undefined) {
    console.error(usage);
    process.exitCode = 2;
    return;
  }
  const change = writeAllowlists({
    networkDir: values.network ?? path.join(HERE, DEFAULT_NETWORK_DIR),
    parametersFile: values.parameters,
    membersFile: values.members,
    allowDevelopmentAccounts: values.dev,
    allowRemoval: values.remove,
  });
  for (const warning of change.warnings) console.warn(`⚠ ${warning}`);
  console.log(`Wrote ${change.file}: ${change.accounts.length} accounts, ${change.nodes.length} nodes.`);
  for (const account of change.added.accounts) console.log(`  + account ${account}`);
  for (const node of change.added.nodes) console.log(`  + node ${node}`);
  for (const account of change.removed.accounts) console.log(`  - account ${account}`);
  for (const node of change.removed.nodes) console.log(`  - node ${node}`);
  console.log(
    "Check it (npx tsx ops/scripts/check-compose.ts), then install it on every node: see ops/besu/README.md, “Onboarding an organisation”.",
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    main();
  } catch (error) {
    console.error(`allowlists: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
