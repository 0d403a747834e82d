import { readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";

import { getAddress, isAddress } from "ethers";
import { z } from "zod";

/**
 * The gateway's configuration file: JSON, validated with zod before anything starts. Relative paths
 * are relative to the file. The at-rest key is never in the file by default: it names an
 * environment variable or a key file (an inline `hex` exists for throwaway setups).
 */

const address = z
  .string()
  .refine((value) => isAddress(value), "expected a 0x-prefixed 20-byte address")
  .transform((value) => getAddress(value));

const KeySource = z.union([
  z.strictObject({ env: z.string().min(1).describe("environment variable holding the key as 64 hex digits") }),
  z.strictObject({ file: z.string().min(1).describe("file holding the key as 64 hex digits") }),
  z.strictObject({ hex: z.string().describe("the key itself; for throwaway setups only") }),
]);

const Deployment = z.union([
  z.strictObject({
    ignitionDir: z.string().min(1).describe("an Ignition deployment folder (with deployed_addresses.json)"),
  }),
  z.strictObject({ dataSafe: address, keyDirectory: address }),
]);

const Database = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("sqlite"),
    path: z.string().min(1).describe("database file, created if missing"),
  }),
  z.strictObject({
    kind: z.literal("postgres"),
    url: z.string().startsWith("postgres").describe("postgres://user@host:port/database"),
    poolSize: z.number().int().min(1).max(100).default(10),
  }),
]);

export const GatewayConfigSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(0).max(65_535).default(8787),
    })
    .prefault({}),
  /**
   * Gateway processes serving the port (node:cluster), each with its own chain reads and database
   * connections, all on the same database. Default: one per CPU.
   */
  workers: z.number().int().min(1).max(64).optional(),
  chain: z.strictObject({
    rpcUrl: z.url({ protocol: /^https?$/ }),
    /** Refuse to start if the node serves another chain. */
    chainId: z.number().int().positive().optional(),
    /** Blocks on top of an access's block before it is served, and the depth state is read at. */
    confirmations: z.number().int().min(0).max(1_000).default(1),
    /** How long a read of the chain head is reused, in milliseconds: the head is read at most this often. */
    headCacheMs: z.number().int().min(0).max(60_000).default(250),
  }),
  deployment: Deployment,
  database: Database,
  atRestKey: KeySource,
  /**
   * A JSON file holding an array of the catalog's schema documents (`{ id, fields: [{ name }] }`):
   * the field list that a read's fields mask indexes. Each is checked against the schema hash the
   * catalog holds before it is used. Without it the gateway releases whole records only.
   */
  schemas: z.string().min(1).optional(),
  limits: z
    .strictObject({
      /** Largest request body, bytes. */
      maxBodyBytes: z
        .number()
        .int()
        .min(1_024)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024),
      /** Furthest a fetch signature's deadline may be ahead, seconds: bounds the remembered nonces. */
      maxSignatureLifetime: z.number().int().min(10).max(86_400).default(600),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .prefault({}),
});

export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;

/** A configuration that does not validate, with every problem listed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** What the gateway runs with once the file is read: addresses and key resolved. */
export interface ResolvedConfig extends Omit<GatewayConfig, "deployment" | "atRestKey" | "schemas" | "workers"> {
  /** Gateway processes (1: this process serves; more: a primary forks them). */
  workers: number;
  /** Schema documents by data type id. */
  schemas: Map<number, SchemaDocument>;
  addresses: { dataSafe: string; keyDirectory: string };
  atRestKey: Buffer;
  /** Where the key came from, for the start-up log (never the key). */
  atRestKeySource: string;
}

/**
 * Reads, validates and resolves a configuration file.
 * @param file path of the JSON file
 * @param env where `{ env }` key sources are looked up
 * @throws ConfigError naming every invalid field
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = GatewayConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new ConfigError(`invalid gateway configuration ${file}:\n${lines.join("\n")}`);
  }
  const base = path.dirname(path.resolve(file));
  const config = parsed.data;
  const database =
    config.database.kind === "sqlite"
      ? { ...config.database, path: path.resolve(base, config.database.path) }
      : config.database;
  const { key, source } = resolveKey(config.atRestKey, base, env);
  return {
    listen: config.listen,
    workers: config.workers ?? availableParallelism(),
    chain: config.chain,
    database,
    limits: config.limits,
    log: config.log,
    addresses: resolveDeployment(config.deployment, base),
    schemas: config.schemas === undefined ? new Map() : loadSchemas(path.resolve(base, config.schemas)),
    atRestKey: key,
    atRestKeySource: source,
  };
}

/** A data type's schema document as the catalog hashes it; the gateway reads its field list. */
export interface SchemaDocument {
  id: number;
  fields: { name: string }[];
  [member: string]: unknown;
}

const SchemaDocumentSchema = z.looseObject({
  id: z.number().int().positive(),
  fields: z
    .array(z.looseObject({ name: z.string().min(1) }))
    .min(1)
    .max(64),
});

function loadSchemas(file: string): Map<number, SchemaDocument> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`schemas: cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = z.array(SchemaDocumentSchema).safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`schemas: ${file} is not an array of schema documents: ${parsed.error.issues[0]?.message}`);
  }
  const schemas = new Map<number, SchemaDocument>();
  for (const document of parsed.data) {
    if (schemas.has(document.id)) throw new ConfigError(`schemas: ${file} lists data type ${document.id} twice`);
    // Keep the document as read: its hash must equal the catalog's.
    schemas.set(
      document.id,
      (raw as SchemaDocument[]).find((d) => d.id === document.id)!,
    );
  }
  return schemas;
}

function resolveDeployment(deployment: z.output<typeof Deployment>, base: string) {
  if (!("ignitionDir" in deployment)) return deployment;
  const dir = path.resolve(base, deployment.ignitionDir);
  let recorded: Record<string, string>;
  try {
    recorded = JSON.parse(readFileSync(path.join(dir, "deployed_addresses.json"), "utf8"));
  } catch (error) {
    throw new ConfigError(
      `deployment.ignitionDir: cannot read ${dir}/deployed_addresses.json: ${(error as Error).message}`,
    );
  }
  const find = (contract: string) => {
    const entry = Object.entries(recorded).find(([future]) => future.endsWith(`#${contract}`));
    if (entry === undefined) throw new ConfigError(`deployment.ignitionDir: ${dir} records no ${contract}`);
    return getAddress(entry[1]);
  };
  return { dataSafe: find("DataSafe"), keyDirectory: find("KeyDirectory") };
}

function resolveKey(source: z.output<typeof KeySource>, base: string, env: NodeJS.ProcessEnv) {
  let hex: string | undefined;
  let described: string;
  if ("env" in source) {
    hex = env[source.env];
    described = `environment variable ${source.env}`;
    if (hex === undefined) throw new ConfigError(`atRestKey.env: ${source.env} is not set`);
  } else if ("file" in source) {
    const file = path.resolve(base, source.file);
    described = `file ${file}`;
    try {
      if ((statSync(file).mode & 0o077) !== 0) {
        throw new ConfigError(`atRestKey.file: ${file} is readable by other users (chmod 600 it)`);
      }
      hex = readFileSync(file, "utf8").trim();
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`atRestKey.file: cannot read ${file}: ${(error as Error).message}`);
    }
  } else {
    hex = source.hex;
    described = "the configuration file";
  }
  const digits = hex.trim().replace(/^0x/, "");
  if (!/^[0-9a-fA-F]{64}$/.test(digits)) {
    throw new ConfigError(`atRestKey: the key from ${described} is not 32 bytes as 64 hex digits`);
  }
  return { key: Buffer.from(digits, "hex"), source: described };
}
