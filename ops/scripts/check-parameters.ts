/**
 * Pre-flight check of an Ignition parameters file before a deployment to a real network.
 *
 *   npx tsx ops/scripts/check-parameters.ts deploy/parameters/besu.json
 *
 * Ignition checks an address parameter only when it encodes the call that uses it, that is after
 * the contracts before it are deployed: a placeholder left in the file stops a deployment half-way.
 * This check fails first, and also refuses the zero address and Hardhat's well-known development
 * accounts (their keys are public) unless told the target is a development node.
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

/** The accounts `hardhat node` funds from its public mnemonic: never to hold a role on a real network. */
export function developmentAccounts(count = 20): Set<string> {
  const root = HDNodeWallet.fromPhrase(
    "test test test test test test test test test test test junk",
    undefined,
    "m/44'/60'/0'/0",
  );
  return new Set(Array.from({ length: count }, (_, index) => root.deriveChild(index).address));
}

export interface ParameterCheckOptions {
  /** Accept Hardhat's development accounts (for a local node). */
  allowDevelopmentAccounts?: boolean;
  /** Modules the deployment runs; their address parameters must be present. */
  modules?: readonly string[];
}

/** Problems found in an Ignition parameters file; empty when it is ready to deploy. */
export function checkParameters(
  file: string,
  { allowDevelopmentAccounts = false, modules = ["Permissions"] }: ParameterCheckOptions = {},
): string[] {
  const problems: string[] = [];
  const parameters = JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;
  const devAccounts = allowDevelopmentAccounts ? new Set<string>() : developmentAccounts();

  for (const [module, names] of Object.entries(ADDRESS_PARAMETERS)) {
    for (const name of names) {
      const value = parameters[module]?.[name];
      if (value === undefined) {
        if (modules.includes(module)) problems.push(`${module}.${name} is missing`);
        continue;
      }
      if (typeof value !== "string" || !isAddress(value)) {
        problems.push(`${module}.${name} is not an address: ${JSON.stringify(value)}`);
      } else if (getAddress(value) === ZeroAddress) {
        problems.push(`${module}.${name} is the zero address`);
      } else if (devAccounts.has(getAddress(value))) {
        problems.push(`${module}.${name} is a Hardhat development account, whose key is public`);
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
  return problems;
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
  const file = path.resolve(positionals[0]);
  const problems = checkParameters(file, {
    allowDevelopmentAccounts: values.dev,
    modules: values.module ?? ["Permissions"],
  });
  for (const problem of problems) console.error(`✗ ${problem}`);
  if (problems.length > 0) process.exitCode = 1;
  else console.log(`${positionals[0]} is ready to deploy.`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
