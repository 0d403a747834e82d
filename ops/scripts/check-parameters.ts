/**
 * Pre-flight check of an Ignition parameters file before a deployment to a real network.
 *
 *   npx tsx ops/scripts/check-parameters.ts [--dev] [--module Permissions --module AdminHandover] <parameters.json>
 *
 * Ignition checks an address parameter only when it encodes the call that uses it, that is after
 * the contracts before it are deployed: a placeholder left in the file stops a deployment half-way.
 * This check fails first. It also refuses the zero address and Hardhat's well-known development
 * accounts, whose private keys are published with Hardhat: deploy/parameters/localBesu.json names
 * them on purpose, for the rehearsal on `hardhat node`, and passes with --dev, which accepts them
 * with a warning.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { HDNodeWallet, ZeroAddress, getAddress, isAddress } from "ethers";

/** Address parameters, by Ignition module, and whether the module requires them. */
export const ADDRESS_PARAMETERS: Record<string, readonly string[]> = {
  Permissions: ["operator", "memberAdmin", "catalogAdmin", "regulator"],
  AdminHandover: ["newAdmin"],
};

/** Parameters in seconds, by module; each must fit the contracts' uint32. */
export const DELAY_PARAMETERS: Record<string, readonly string[]> = {
  DataSafe: ["recoveryDelay"],
  Permissions: ["operatorDelay", "memberAdminDelay", "catalogAdminDelay", "grantDelay"],
  AdminHandover: ["adminDelay"],
};

/** How many of the mnemonic's accounts `hardhat node` funds (and these checks know). */
const DEVELOPMENT_ACCOUNT_COUNT = 20;

let developmentAccountList: string[] | undefined;

/** The accounts `hardhat node` funds from its public mnemonic, in order: never to hold a role on a real network. */
export function developmentAccounts(): Set<string> {
  developmentAccountList ??= (() => {
    const root = HDNodeWallet.fromPhrase(
      "test test test test test test test test test test test junk",
      undefined,
      "m/44'/60'/0'/0",
    );
    return Array.from({ length: DEVELOPMENT_ACCOUNT_COUNT }, (_, index) => root.deriveChild(index).address);
  })();
  return new Set(developmentAccountList);
}

/** The index of `address` among Hardhat's development accounts (#0 is `hardhat node`'s first), or -1. */
export function developmentAccountIndex(address: string): number {
  if (!isAddress(address)) return -1;
  developmentAccounts();
  return developmentAccountList!.indexOf(getAddress(address));
}

export interface ParameterCheckOptions {
  /** Accept Hardhat's development accounts, with a warning (a rehearsal on a development node). */
  allowDevelopmentAccounts?: boolean;
  /** Modules the deployment runs; their address parameters must be present. */
  modules?: readonly string[];
}

export interface ParameterReport {
  /** What stops the deployment. */
  problems: string[];
  /** What is accepted but must be said: development accounts under --dev. */
  warnings: string[];
}

/** Why a development account may not hold a role, in the words the check prints. */
const developmentAccountRisk = (entry: string, address: string, index: number) =>
  `${entry} is ${address}, Hardhat development account #${index}: its private key is published with Hardhat, so anyone could act with this role`;

/** Problems and warnings for an Ignition parameters file; no problem means it is ready to deploy. */
export function checkParameterFile(
  file: string,
  { allowDevelopmentAccounts = false, modules = ["Permissions"] }: ParameterCheckOptions = {},
): ParameterReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const parameters = JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;

  for (const [module, names] of Object.entries(ADDRESS_PARAMETERS)) {
    for (const name of names) {
      const value = parameters[module]?.[name];
      const entry = `${module}.${name}`;
      if (value === undefined) {
        if (modules.includes(module)) problems.push(`${entry} is missing`);
        continue;
      }
      if (typeof value !== "string" || !isAddress(value)) {
        problems.push(`${entry} is not an address: ${JSON.stringify(value)}`);
        continue;
      }
      if (getAddress(value) === ZeroAddress) {
        problems.push(`${entry} is the zero address`);
        continue;
      }
      const devIndex = developmentAccountIndex(value);
      if (devIndex >= 0) {
        const risk = developmentAccountRisk(entry, getAddress(value), devIndex);
        if (allowDevelopmentAccounts) warnings.push(`${risk}; accepted by --dev, for a development node only`);
        else problems.push(risk);
      }
    }
  }
  for (const [module, names] of Object.entries(DELAY_PARAMETERS)) {
    for (const name of names) {
      const value = parameters[module]?.[name];
      if (
        value !== undefined &&
        (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0xffffffff)
      ) {
        problems.push(`${module}.${name} is not a number of seconds that fits a uint32: ${JSON.stringify(value)}`);
      }
    }
  }
  return { problems, warnings };
}

/** Problems found in an Ignition parameters file; empty when it is ready to deploy. */
export function checkParameters(file: string, options: ParameterCheckOptions = {}): string[] {
  return checkParameterFile(file, options).problems;
}

/**
 * What the command prints for a report: one line per problem or warning, then a verdict. A refusal
 * caused by development accounts alone says why the repository's own localBesu.json names them.
 */
export function formatReport(fileName: string, { problems, warnings }: ParameterReport, dev: boolean): string[] {
  const lines = [...problems.map((problem) => `✗ ${problem}`), ...warnings.map((warning) => `⚠ ${warning}`)];
  if (problems.length === 0) {
    lines.push(
      dev && warnings.length > 0
        ? `${fileName} is ready to deploy to a development node (\`hardhat node\`), never to a real network.`
        : `${fileName} is ready to deploy.`,
    );
    return lines;
  }
  if (problems.some((problem) => problem.includes("Hardhat development account"))) {
    lines.push(
      `${fileName} names Hardhat's development accounts. That is right for the rehearsal on \`hardhat node\` ` +
        "(deploy/parameters/localBesu.json, ops/besu/README.md “Rehearse without Docker”): check such a file with --dev. " +
        "A real network needs accounts whose keys only their holders know.",
    );
  }
  return lines;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dev: { type: "boolean", default: false }, module: { type: "string", multiple: true } },
  });
  if (positionals.length !== 1) {
    console.error(
      "usage: npx tsx ops/scripts/check-parameters.ts [--dev] [--module Permissions --module AdminHandover] <parameters.json>",
    );
    process.exitCode = 2;
    return;
  }
  const report = checkParameterFile(path.resolve(positionals[0]), {
    allowDevelopmentAccounts: values.dev,
    modules: values.module ?? ["Permissions"],
  });
  const lines = formatReport(positionals[0], report, values.dev);
  if (report.problems.length > 0) {
    for (const line of lines) console.error(line);
    process.exitCode = 1;
  } else {
    for (const line of lines) (line.startsWith("⚠") ? console.warn : console.log)(line);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
