/*
 * operator: deploy and check the suite, onboard members, import the catalog, and run delayed
 * governance operations through the AccessManager.
 */
import { readFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import path from "node:path";

import type { Command } from "commander";
import { Interface, getAddress, isAddress, isHexString } from "ethers";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

import {
  CATALOG_FUNCTION_ROLES,
  DATA_SAFE_FUNCTION_ROLES,
  Role,
  type RoleName,
  selectorsOf,
} from "../../deploy/modules/roles.js";
import {
  DataCatalog__factory,
  DataSafeAccessManager__factory,
  DataSafe__factory,
} from "../../typechain-types/index.js";
import { type DataSafeClient, ENUMS, type MemberKind, readIgnitionDeployment } from "../../sdk/index.js";
import { address, bytes32, integer, oneOf } from "../args.js";
import { MANAGER_INTERFACE, ROOT, readArtifact, sendAndWait, withoutImmutables } from "../chain.js";
import { BadInputError, FailureError, RefusedError } from "../errors.js";
import type { Runtime } from "../runtime.js";

const MEMBER_KINDS = ENUMS.MemberKind.filter((kind) => kind !== "None") as Exclude<MemberKind, "None">[];

/** The Permissions module's parameter of each role (deploy/modules/Permissions.ts). */
const PARAMETER_OF: Record<RoleName, string> = {
  OPERATOR: "operator",
  MEMBER_ADMIN: "memberAdmin",
  CATALOG_ADMIN: "catalogAdmin",
  REGULATOR: "regulator",
};

/** The Ignition future ids of the suite's contracts (deploy/modules). */
const FUTURES = {
  manager: "Governance#DataSafeAccessManager",
  catalog: "DataCatalog#DataCatalog",
  dataSafe: "DataSafe#DataSafe",
  keyDirectory: "KeyDirectory#KeyDirectory",
} as const;

const ARTIFACT_OF: Record<keyof typeof FUTURES, string> = {
  manager: "DataSafeAccessManager",
  catalog: "DataCatalog",
  dataSafe: "DataSafe",
  keyDirectory: "KeyDirectory",
};

export function register(program: Command, runtime: Runtime): void {
  const operator = program.command("operator").description("deploy, verify, onboard members, catalog, governance");
  registerDeploy(operator, runtime);
  registerMembers(operator, runtime);
  registerCatalog(operator, runtime);
  registerGovernance(operator, runtime);
  operator
    .command("besu")
    .description("the private Besu network's files")
    .command("generate")
    .description("write node keys, genesis and allowlists (ops/besu/generate-network.ts; its options pass through)")
    .allowUnknownOption()
    .helpOption(false)
    .argument("[options...]", "--parameters FILE --members FILE [--out DIR] [--force] [--dev]")
    .action(async (args: string[]) => {
      const code = await spawnInRoot(
        "npx",
        ["tsx", path.join("ops", "besu", "generate-network.ts"), ...args],
        {},
        runtime,
      );
      if (code !== 0)
        throw new BadInputError(`ops/besu/generate-network.ts exited ${code}`, { field: "besu generate" });
      runtime.emit({ generated: true });
    });
}

// ---------------------------------------------------------------------------------------------

const PARAMETERS_SCHEMA = z.object({
  Permissions: z.looseObject({
    operator: z.string().refine(isAddress, "expected an address"),
    memberAdmin: z.string().refine(isAddress, "expected an address"),
    catalogAdmin: z.string().refine(isAddress, "expected an address"),
    regulator: z.string().refine(isAddress, "expected an address"),
    operatorDelay: z.int().nonnegative().optional(),
    memberAdminDelay: z.int().nonnegative().optional(),
    catalogAdminDelay: z.int().nonnegative().optional(),
    grantDelay: z.int().nonnegative().optional(),
  }),
  DataSafe: z.looseObject({ recoveryDelay: z.int().nonnegative().optional() }).optional(),
});

type Parameters = z.infer<typeof PARAMETERS_SCHEMA>;

async function readParameters(file: string): Promise<Parameters> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new BadInputError(`cannot read a JSON parameter file (${(error as Error).message})`, {
      field: "--parameters",
    });
  }
  const parsed = PARAMETERS_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadInputError(issue.message, { file, field: issue.path.join(".") });
  }
  return parsed.data;
}

function registerDeploy(operator: Command, runtime: Runtime): void {
  operator
    .command("deploy")
    .description("deploy the suite with Hardhat Ignition (deploy/modules/Permissions.ts) and a parameter file")
    .requiredOption("--parameters <file>", "Ignition parameter file (see deploy/parameters/localBesu.json)")
    .option(
      "--network <name>",
      "Hardhat network: localBesu (the node at --rpc signs) or besu (keys from Hardhat's keystore)",
      "localBesu",
    )
    .option("--deployment-id <id>", "Ignition deployment id (folder under deploy/deployments)")
    .action(async (options: { parameters: string; network: string; deploymentId?: string }) => {
      await readParameters(options.parameters);
      const rpcUrl = await runtime.rpcUrl();
      const { chainId } = await (await runtime.provider()).getNetwork();
      const deploymentId = options.deploymentId ?? `chain-${chainId}`;
      const args = [
        "hardhat",
        "ignition",
        "deploy",
        path.join("deploy", "modules", "Permissions.ts"),
        "--network",
        options.network,
        "--parameters",
        path.resolve(options.parameters),
        "--deployment-id",
        deploymentId,
      ];
      runtime.note(`npx ${args.join(" ")}`);
      const code = await spawnInRoot(
        "npx",
        args,
        { LOCAL_BESU_URL: rpcUrl, HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "true" },
        runtime,
      );
      if (code !== 0) throw new FailureError(`hardhat ignition deploy exited ${code}`);
      const deploymentDir = path.join(ROOT, "deploy", "deployments", deploymentId);
      const deployment = await readIgnitionDeployment(deploymentDir);
      const addresses = Object.fromEntries(
        Object.entries(FUTURES).map(([key, future]) => [key, deployment.contracts[future]?.address]),
      );
      runtime.emit({ deploymentId, deploymentDir, chainId: deployment.chainId, addresses });
    });

  operator
    .command("verify")
    .description(
      "check the deployment: code equals the artifacts; roles, function roles and delays equal the parameter file",
    )
    .requiredOption("--parameters <file>", "the parameter file the suite was deployed with")
    .action(async (options: { parameters: string }) => {
      const parameters = await readParameters(options.parameters);
      const dir = await runtime.deploymentDir();
      if (dir === undefined) throw new BadInputError("pass --deployment DIR", { field: "--deployment" });
      const deployment = await readIgnitionDeployment(dir);
      const provider = await runtime.provider();
      const checks: { check: string; expected: unknown; actual: unknown; ok: boolean }[] = [];
      const check = (name: string, expected: unknown, actual: unknown) =>
        checks.push({ check: name, expected, actual, ok: String(expected) === String(actual) });

      const addressOf = {} as Record<keyof typeof FUTURES, string>;
      for (const [key, future] of Object.entries(FUTURES) as [keyof typeof FUTURES, string][]) {
        const contract = deployment.contracts[future];
        if (contract === undefined) throw new BadInputError(`the deployment created no ${future}`, { file: dir });
        addressOf[key] = contract.address;
        const artifact = readArtifact(ARTIFACT_OF[key]);
        const code = await provider.getCode(contract.address);
        const same = withoutImmutables(code, artifact) === withoutImmutables(artifact.deployedBytecode, artifact);
        check(
          `code ${ARTIFACT_OF[key]} at ${contract.address}`,
          "artifact",
          same ? "artifact" : `differs (${(code.length - 2) / 2} bytes)`,
        );
      }
      const manager = DataSafeAccessManager__factory.connect(addressOf.manager, provider);
      const core = DataSafe__factory.connect(addressOf.dataSafe, provider);
      check("DataSafe.authority", addressOf.manager, await core.authority());
      check("DataSafe.catalog", addressOf.catalog, await core.catalog());
      const p = parameters.Permissions;
      const delays: Record<RoleName, number> = {
        OPERATOR: p.operatorDelay ?? 0,
        MEMBER_ADMIN: p.memberAdminDelay ?? 0,
        CATALOG_ADMIN: p.catalogAdminDelay ?? 0,
        REGULATOR: 0,
      };
      for (const role of Object.keys(PARAMETER_OF) as RoleName[]) {
        const account = getAddress((p as Record<string, string>)[PARAMETER_OF[role]]);
        const [isMember, delay] = await manager.hasRole(Role[role], account);
        check(`role ${role} held by ${account}`, true, isMember);
        check(`role ${role} execution delay`, delays[role], Number(delay));
        check(`role ${role} grant delay`, p.grantDelay ?? 0, Number(await manager.getRoleGrantDelay(Role[role])));
        for (const [target, signatures] of [
          [addressOf.dataSafe, DATA_SAFE_FUNCTION_ROLES[role]],
          [addressOf.catalog, CATALOG_FUNCTION_ROLES[role]],
        ] as const) {
          const selectors = selectorsOf(signatures);
          for (const [i, selector] of selectors.entries()) {
            check(`${signatures[i]} → role`, role, roleName(await manager.getTargetFunctionRole(target, selector)));
          }
        }
      }
      if (parameters.DataSafe?.recoveryDelay !== undefined) {
        check("DataSafe.recoveryDelay", parameters.DataSafe.recoveryDelay, Number(await core.recoveryDelay()));
      }
      const failed = checks.filter((c) => !c.ok);
      if (runtime.json) runtime.emit({ ok: failed.length === 0, checks });
      else
        runtime.emit(checks, () =>
          checks
            .map(
              (c) =>
                `${c.ok ? "ok  " : "FAIL"} ${c.check}: ${c.ok ? c.actual : `expected ${c.expected}, found ${c.actual}`}`,
            )
            .join("\n"),
        );
      if (failed.length > 0)
        throw new RefusedError(
          `${failed.length} of ${checks.length} checks failed: ${failed.map((c) => c.check).join("; ")}`,
        );
    });
}

function roleName(id: bigint): string {
  const entry = Object.entries(Role).find(([, value]) => value === id);
  return entry?.[0] ?? `role ${id}`;
}

/** Runs a command in the repository root, its output on this process's stderr (stdout stays the result). */
function spawnInRoot(command: string, args: string[], env: Record<string, string>, runtime: Runtime): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (chunk: Buffer) => runtime.io.stderr(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => runtime.io.stderr(chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

// ---------------------------------------------------------------------------------------------

function registerMembers(operator: Command, runtime: Runtime): void {
  const member = operator
    .command("member")
    .description("members: departments, consumers, regulators… (member admin, regulator)");
  member
    .command("add")
    .description("register a member (caller: the member admin)")
    .requiredOption("--account <address>", "the member's account", address("--account"))
    .requiredOption("--kind <kind>", `one of ${MEMBER_KINDS.join(", ")}`, oneOf("--kind", MEMBER_KINDS))
    .requiredOption("--name <name>", "display name (shown to holders)")
    .option("--metadata-uri <uri>", "where more about the member is published", "")
    .action(async (o: { account: string; kind: Exclude<MemberKind, "None">; name: string; metadataUri: string }) => {
      const client = await runtime.client(true);
      const mined = await (
        await client.members.register({ account: o.account, kind: o.kind, name: o.name, metadataURI: o.metadataUri })
      ).wait();
      runtime.emit(
        { account: mined.account, kind: o.kind, name: o.name, transaction: mined.receipt.hash },
        `registered ${o.kind} ${o.name} (${mined.account})`,
      );
    });
  member
    .command("update")
    .description("change a member's name and metadata URI (caller: the member admin)")
    .requiredOption("--account <address>", "the member's account", address("--account"))
    .requiredOption("--name <name>", "display name")
    .option("--metadata-uri <uri>", "metadata URI", "")
    .action(async (o: { account: string; name: string; metadataUri: string }) => {
      const client = await runtime.client(true);
      const mined = await (
        await client.members.update({ account: o.account, name: o.name, metadataURI: o.metadataUri })
      ).wait();
      runtime.emit(
        { account: mined.account, name: o.name, transaction: mined.receipt.hash },
        `updated ${mined.account}`,
      );
    });
  member
    .command("suspend")
    .description("suspend a member (caller: the regulator)")
    .requiredOption("--account <address>", "the member's account", address("--account"))
    .requiredOption("--reason <code>", "reason code (the network's convention)", integer("--reason", 0, 65_535))
    .action(async (o: { account: string; reason: number }) => {
      const client = await runtime.client(true);
      const mined = await (await client.members.suspend(o.account, o.reason)).wait();
      runtime.emit(
        { account: mined.account, reason: mined.reason, transaction: mined.receipt.hash },
        `suspended ${mined.account}`,
      );
    });
  member
    .command("reinstate")
    .description("reinstate a suspended member (caller: the regulator)")
    .requiredOption("--account <address>", "the member's account", address("--account"))
    .action(async (o: { account: string }) => {
      const client = await runtime.client(true);
      const mined = await (await client.members.reinstate(o.account)).wait();
      runtime.emit({ account: mined.account, transaction: mined.receipt.hash }, `reinstated ${mined.account}`);
    });
  member
    .command("show")
    .description("a member's record")
    .argument("<account>", "the member's account", address("account"))
    .action(async (account: string) => {
      const client = await runtime.client(false);
      runtime.emit(await client.members.get(account));
    });
}

// ---------------------------------------------------------------------------------------------

/** The catalog file: data types with their schema and the departments authorised to issue them. */
export const CATALOG_SCHEMA = z.strictObject({
  dataTypes: z
    .array(
      z
        .strictObject({
          id: z
            .int()
            .min(1)
            .max(2 ** 32 - 1),
          name: z.string().min(1),
          schemaURI: z.string().min(1),
          schema: z.unknown().optional(),
          schemaHash: z
            .string()
            .refine((v) => isHexString(v, 32), "expected a 32-byte hex hash")
            .optional(),
          issuers: z.array(z.string().refine(isAddress, "expected a 0x-prefixed 20-byte address")).default([]),
        })
        .refine(
          (t) => (t.schema === undefined) !== (t.schemaHash === undefined),
          "give exactly one of schema and schemaHash",
        ),
    )
    .min(1),
});

function registerCatalog(operator: Command, runtime: Runtime): void {
  const catalog = operator.command("catalog").description("the data catalog (caller: the catalog admin)");
  catalog
    .command("import")
    .description("define the data types of a file and authorise their issuers; what is already on chain is skipped")
    .argument(
      "<file>",
      "JSON or YAML: { dataTypes: [{ id, name, schemaURI, schema | schemaHash, issuers: [address] }] }",
    )
    .action(async (file: string) => {
      let raw: unknown;
      try {
        const text = await readFile(file, "utf8");
        raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
      } catch (error) {
        throw new BadInputError(`cannot read the catalog (${(error as Error).message})`, { file });
      }
      const parsed = CATALOG_SCHEMA.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new BadInputError(issue.message, {
          file,
          field: issue.path
            .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
            .join("")
            .replace(/^\./, ""),
        });
      }
      const ids = parsed.data.dataTypes.map((t) => t.id);
      const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
      if (duplicate !== undefined)
        throw new BadInputError(`data type ${duplicate} appears twice`, { file, field: "dataTypes" });
      const client = await runtime.client(true);
      const done: { dataType: number; action: string; issuer?: string }[] = [];
      for (const type of parsed.data.dataTypes) {
        const existing = await client.catalog.get(type.id);
        if (existing.status === "None") {
          await (
            await client.catalog.define({
              dataType: type.id,
              name: type.name,
              schemaURI: type.schemaURI,
              schema: type.schema,
              schemaHash: type.schemaHash,
            })
          ).wait();
          done.push({ dataType: type.id, action: "defined" });
        } else done.push({ dataType: type.id, action: "already defined" });
        for (const issuer of type.issuers) {
          if (await client.catalog.isAuthorisedIssuer(type.id, issuer)) {
            done.push({ dataType: type.id, action: "already authorised", issuer: getAddress(issuer) });
            continue;
          }
          await (await client.catalog.authoriseIssuer(type.id, issuer)).wait();
          done.push({ dataType: type.id, action: "authorised", issuer: getAddress(issuer) });
        }
      }
      runtime.emit(done);
    });
  catalog
    .command("show")
    .description("a data type and its issuers")
    .argument("<dataType>", "type id", integer("dataType", 1, 2 ** 32 - 1))
    .action(async (dataType: number) => {
      const client = await runtime.client(false);
      runtime.emit({ ...(await client.catalog.get(dataType)), issuers: await client.catalog.issuersOf(dataType) });
    });
}

// ---------------------------------------------------------------------------------------------

interface OperationOptions {
  target: string;
  data?: string;
  function?: string;
  args?: string;
}

function registerGovernance(operator: Command, runtime: Runtime): void {
  const governance = operator
    .command("governance")
    .description("delayed operations of the AccessManager: schedule, list, execute, cancel");
  const withCall = (command: Command) =>
    command
      .requiredOption("--target <target>", "core, catalog, manager or a contract address")
      .option("--data <hex>", "the call's calldata")
      .option("--function <name>", "or: the function (name or signature) of the target's ABI, with --args")
      .option("--args <json>", "the function's arguments as a JSON array", "[]");

  withCall(governance.command("schedule"))
    .description("schedule a call for after the caller's execution delay (caller: a role member with a delay)")
    .option("--when <unix>", "earliest execution time (default: as soon as the delay allows)", integer("--when"))
    .action(async (o: OperationOptions & { when?: number }) => {
      const client = await runtime.client(true);
      const manager = await managerOf(client);
      const { target, data } = await callOf(client, o);
      const receipt = await sendAndWait("schedule", () => manager.schedule(target, data, o.when ?? 0));
      const event = receipt.logs.map((log) => safeParse(log)).find((e) => e?.name === "OperationScheduled");
      if (event === undefined || event === null)
        throw new FailureError("the schedule transaction emitted no OperationScheduled");
      const result = {
        operationId: event.args.operationId as string,
        nonce: Number(event.args.nonce),
        executableAt: Number(event.args.schedule),
        target,
        data,
        transaction: receipt.hash,
      };
      runtime.emit(
        result,
        `scheduled ${result.operationId} (nonce ${result.nonce}), executable at ${new Date(result.executableAt * 1000).toISOString()}`,
      );
    });

  governance
    .command("list")
    .description("scheduled operations and their state (from OperationScheduled/Executed/Canceled events)")
    .option("--from-block <n>", "first block (default: the deployment's)", integer("--from-block"))
    .action(async (o: { fromBlock?: number }) => {
      const client = await runtime.client(false);
      runtime.emit(await operationsOf(client, o.fromBlock));
    });

  governance
    .command("execute")
    .description("execute a scheduled operation once its time has come (caller: who scheduled it)")
    .argument("<operationId>", "as `list` prints it", bytes32("operationId"))
    .action(async (operationId: string) => {
      const client = await runtime.client(true);
      const operation = (await operationsOf(client)).findLast((op) => op.operationId === operationId);
      if (operation === undefined)
        throw new BadInputError(`no operation ${operationId} was scheduled`, { field: "operationId" });
      const manager = await managerOf(client);
      const receipt = await sendAndWait("execute", () => manager.execute(operation.target, operation.data));
      runtime.emit({ operationId, nonce: operation.nonce, transaction: receipt.hash }, `executed ${operationId}`);
    });

  governance
    .command("cancel")
    .description("cancel a scheduled operation (caller: who scheduled it, or an admin/guardian)")
    .argument("<operationId>", "as `list` prints it", bytes32("operationId"))
    .action(async (operationId: string) => {
      const client = await runtime.client(true);
      const operation = (await operationsOf(client)).findLast((op) => op.operationId === operationId);
      if (operation === undefined)
        throw new BadInputError(`no operation ${operationId} was scheduled`, { field: "operationId" });
      const manager = await managerOf(client);
      const receipt = await sendAndWait("cancel", () =>
        manager.cancel(operation.caller, operation.target, operation.data),
      );
      runtime.emit({ operationId, nonce: operation.nonce, transaction: receipt.hash }, `cancelled ${operationId}`);
    });
}

function safeParse(log: { topics: readonly string[]; data: string }) {
  try {
    return MANAGER_INTERFACE.parseLog(log);
  } catch {
    return null;
  }
}

async function managerOf(client: DataSafeClient) {
  const authority = await client.contracts.dataSafe.authority();
  return DataSafeAccessManager__factory.connect(authority, client.runner);
}

/** The target and calldata of a governance call, from --data or --function/--args. */
async function callOf(client: DataSafeClient, o: OperationOptions): Promise<{ target: string; data: string }> {
  const targets: Record<string, [string, Interface]> = {
    core: [client.address, DataSafe__factory.createInterface()],
    catalog: [client.catalogAddress, DataCatalog__factory.createInterface()],
    manager: [await client.contracts.dataSafe.authority(), MANAGER_INTERFACE],
  };
  const known = targets[o.target];
  if (known === undefined && !isAddress(o.target)) {
    throw new BadInputError(`expected core, catalog, manager or an address, got ${o.target}`, { field: "--target" });
  }
  const target = known?.[0] ?? getAddress(o.target);
  if (o.data !== undefined) {
    if (!isHexString(o.data) || o.data.length < 10)
      throw new BadInputError("expected 0x-prefixed calldata", { field: "--data" });
    return { target, data: o.data };
  }
  if (o.function === undefined)
    throw new BadInputError("pass --data HEX or --function NAME --args JSON", { field: "--function" });
  if (known === undefined)
    throw new BadInputError("--function needs --target core, catalog or manager (their ABIs are known)", {
      field: "--target",
    });
  let args: unknown;
  try {
    args = JSON.parse(o.args ?? "[]");
  } catch {
    throw new BadInputError("expected a JSON array", { field: "--args" });
  }
  if (!Array.isArray(args)) throw new BadInputError("expected a JSON array", { field: "--args" });
  const fragment = known[1].getFunction(o.function);
  if (fragment === null)
    throw new BadInputError(`the ${o.target} has no function ${o.function}`, { field: "--function" });
  try {
    return { target, data: known[1].encodeFunctionData(fragment, args) };
  } catch (error) {
    throw new BadInputError(`do not fit ${fragment.format("sighash")}: ${(error as Error).message}`, {
      field: "--args",
    });
  }
}

interface Operation {
  operationId: string;
  nonce: number;
  caller: string;
  target: string;
  data: string;
  executableAt: number;
  state: "pending" | "ready" | "executed" | "cancelled" | "expired";
  scheduledInBlock: number;
}

async function operationsOf(client: DataSafeClient, fromBlock = client.fromBlock): Promise<Operation[]> {
  const manager = await managerOf(client);
  const provider = client.runner.provider;
  if (provider === null || provider === undefined) throw new FailureError("no provider");
  const [scheduled, executed, cancelled, latest] = await Promise.all([
    manager.queryFilter(manager.filters.OperationScheduled(), fromBlock),
    manager.queryFilter(manager.filters.OperationExecuted(), fromBlock),
    manager.queryFilter(manager.filters.OperationCanceled(), fromBlock),
    provider.getBlock("latest"),
  ]);
  const key = (id: string, nonce: bigint | number) => `${id}/${nonce}`;
  const done = new Set(executed.map((e) => key(e.args.operationId, e.args.nonce)));
  const dropped = new Set(cancelled.map((e) => key(e.args.operationId, e.args.nonce)));
  const expiration = Number(await manager.expiration());
  const now = latest?.timestamp ?? Math.floor(Date.now() / 1000);
  return scheduled.map((e) => {
    const executableAt = Number(e.args.schedule);
    const id = key(e.args.operationId, e.args.nonce);
    const state: Operation["state"] = done.has(id)
      ? "executed"
      : dropped.has(id)
        ? "cancelled"
        : now >= executableAt + expiration
          ? "expired"
          : now >= executableAt
            ? "ready"
            : "pending";
    return {
      operationId: e.args.operationId,
      nonce: Number(e.args.nonce),
      caller: e.args.caller,
      target: e.args.target,
      data: e.args.data,
      executableAt,
      state,
      scheduledInBlock: e.blockNumber,
    };
  });
}
