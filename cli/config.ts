/*
 * The config file: where the network and the deployment are, and which keystore signs. JSON or
 * YAML, validated with zod; an error names the field (`config.rpcUrl: ...`). Paths in the file are
 * relative to the file. Command-line options override it.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import { isAddress } from "ethers";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

import { BadInputError } from "./errors.js";

const address = z.string().refine((value) => isAddress(value), { message: "expected a 0x-prefixed 20-byte address" });
const url = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });

/** The config file's shape. Every field is optional: options and defaults fill the rest. */
export const CONFIG_SCHEMA = z.strictObject({
  /** JSON-RPC endpoint of a node of the network. */
  rpcUrl: url.optional(),
  /** The chain id the node must serve (checked on first use). */
  chainId: z.int().positive().optional(),
  /** An Ignition deployment folder (deploy/deployments/<id>), relative to the config file. */
  deployment: z.string().min(1).optional(),
  /** Or the addresses, when there is no Ignition folder (e.g. a network deployed elsewhere). */
  addresses: z
    .strictObject({
      dataSafe: address,
      catalog: address.optional(),
      keyDirectory: address.optional(),
    })
    .optional(),
  /** The first block history queries read, with `addresses` (the deployment's block). */
  fromBlock: z.int().nonnegative().optional(),
  /** The encrypted JSON keystore that signs, relative to the config file. */
  keystore: z.string().min(1).optional(),
  /** A file holding the keystore's password, relative to the config file. */
  passwordFile: z.string().min(1).optional(),
  /**
   * Legacy gas price of every transaction, in wei, as a decimal string: "0" on a private network
   * whose gas is free (Besu with min-gas-price 0, `hardhat node --network besuLike`). Default: the node's fee data.
   */
  gasPrice: z.string().regex(/^\d+$/, "expected a decimal number of wei").optional(),
  /** The delivery gateway's base URL. */
  gatewayUrl: url.optional(),
});

export type ConfigFile = z.infer<typeof CONFIG_SCHEMA>;

/**
 * Reads and validates a config file (`.json`, `.yaml` or `.yml`); relative paths in it are resolved
 * against its folder.
 * @throws BadInputError naming the file and the field
 */
export async function readConfig(file: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new BadInputError(
      `cannot read the config file (${(error as Error).message})`,
      { field: "--config" },
      { cause: error },
    );
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new BadInputError(`not valid ${/\.ya?ml$/i.test(file) ? "YAML" : "JSON"}: ${(error as Error).message}`, {
      file,
    });
  }
  const parsed = CONFIG_SCHEMA.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ["config", ...issue.path.map(String)].join(".");
    const unknown = issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
    throw new BadInputError(`${issue.message}${unknown}`, { file, field });
  }
  const dir = path.dirname(path.resolve(file));
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(dir, p));
  return {
    ...parsed.data,
    deployment: resolve(parsed.data.deployment),
    keystore: resolve(parsed.data.keystore),
    passwordFile: resolve(parsed.data.passwordFile),
  };
}
