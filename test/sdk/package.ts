/**
 * The SDK as a package, the way another project gets it: `npm pack` of the sdk workspace (its
 * prepack builds sdk/dist), the tarball's file list and manifest checked, the tarball installed with
 * ethers into a scratch project outside the repository, a TypeScript consumer type-checked against
 * the shipped declarations through the exports map, then plain `node` (no tsx, no Hardhat) running
 * sdk/README.md's example as written against a `hardhat node` process with the suite deployed by
 * Ignition over HTTP. What the example prints is checked against the chain.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { getAddress } from "ethers";

import { DataSafe__factory } from "../../typechain-types/index.js";
import { DataSafeClient, type Hex } from "../../sdk/index.js";
import { type LocalNode, Processes, ROOT, startNode } from "../helpers/node-process.js";
import { type Environment, ProcessSet, deploySuite } from "../helpers/processes.js";

const SDK_DIR = path.join(ROOT, "sdk");
const DEPLOYMENT_ID = "sdk-package-test";
const DEPLOYMENT_DIR = path.join(ROOT, "deploy", "deployments", DEPLOYMENT_ID);
const ROOT_MANIFEST = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
/** The README block the test runs: the fenced block after this marker. */
const EXAMPLE_MARKER = "<!-- example: test/sdk/package.ts runs the next block as example.mjs -->";
/** Module names no shipped file may import. */
const HARDHAT_MODULE = /^(hardhat|@nomicfoundation\/)/;
/** The well-known private key of Hardhat's first default account and the default mnemonic's first words. */
const KNOWN_SECRETS = ["ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "test test test test"];

/** The child processes' environment: nothing of the npm run that started the tests (its prefix, workspace, scripts). */
const CLEAN_ENV: Environment = Object.fromEntries(
  Object.keys(process.env)
    .filter((key) => key.toLowerCase().startsWith("npm_"))
    .map((key) => [key, undefined]),
);

interface Manifest {
  name: string;
  version: string;
  type: string;
  license: string;
  exports: Record<string, unknown>;
  files: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
  engines: { node: string };
}

/** The code of the fenced block after `marker` in a Markdown file. */
function fencedBlockAfter(markdown: string, marker: string): string {
  const start = markdown.indexOf(marker);
  if (start < 0) throw new Error(`the README has no ${marker}`);
  const block = /```[a-z]*\n([\s\S]*?)\n```/.exec(markdown.slice(start + marker.length));
  if (block === null) throw new Error(`no fenced block after ${marker}`);
  return `${block[1]}\n`;
}

/** Relative paths of the files under `dir`. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((entry) => statSync(path.join(dir, entry)).isFile());

/** The bare module names a built JavaScript file imports (static, re-exports and dynamic). */
function importedModules(source: string): string[] {
  const names = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g)].map((m) => m[1]);
  return names.filter((name) => !name.startsWith("."));
}

/** A package name from a module specifier (`@scope/name/sub` → `@scope/name`). */
const packageOf = (specifier: string): string =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

describe("sdk: the packed @datasafe/sdk in a plain Node project", function () {
  this.timeout(10 * 60_000);

  const processes = new Processes();
  const commands = new ProcessSet("sdk-package");
  const scratch = mkdtempSync(path.join(tmpdir(), "datasafe-sdk-package-"));
  const packDir = path.join(scratch, "pack");
  const unpacked = path.join(scratch, "unpacked");
  const project = path.join(scratch, "project");
  const timings: Record<string, number> = {};
  let tarball: string;
  let packed: string[];
  let manifest: Manifest;
  let node: LocalNode;
  let suite: { address: string; catalogAddress: string };

  /** Runs `command args` (cwd: the repository) to its end; throws with its output unless it exits 0. */
  async function run(name: string, command: string, args: string[], env: Environment = {}): Promise<string> {
    const started = Date.now();
    const child = commands.start(command, args, commands.logFile(name), { ...CLEAN_ENV, ...env });
    const code = await child.exited;
    timings[name] = Date.now() - started;
    if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}:\n${child.output().slice(-4000)}`);
    return child.output();
  }

  /**
   * Builds the package from the compiled contracts (`hardhat test` compiled them) and packs the workspace.
   * Not the prepack's `npm run sdk:build`: its `hardhat compile` would rebuild artifacts/ with the default
   * build profile, which the Ignition deployments of this and later tests then rebuild with the
   * production profile, minutes each time.
   */
  async function buildAndPack(): Promise<void> {
    await run("build", process.execPath, ["--import", "tsx", path.join("scripts", "build-sdk.ts")]);
    mkdirSync(packDir);
    await run("npm-pack", "npm", ["pack", "--workspace", "sdk", "--ignore-scripts", "--pack-destination", packDir]);
    const tarballs = readdirSync(packDir).filter((file) => file.endsWith(".tgz"));
    expect(tarballs).to.deep.equal(["datasafe-sdk-0.1.0.tgz"]);
    tarball = path.join(packDir, tarballs[0]);
    mkdirSync(unpacked);
    await run("tar", "tar", ["-xzf", tarball, "-C", unpacked]);
    packed = filesUnder(path.join(unpacked, "package")).sort();
    manifest = JSON.parse(readFileSync(path.join(unpacked, "package", "package.json"), "utf8"));
  }

  /** A scratch project outside the repository with the tarball and ethers installed from the registry. */
  async function install(): Promise<void> {
    mkdirSync(project);
    writeFileSync(
      path.join(project, "package.json"),
      `${JSON.stringify({ name: "scratch", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
    );
    await run("npm-install", "npm", [
      "install",
      "--prefix",
      project,
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      tarball,
      `ethers@${ROOT_MANIFEST.dependencies.ethers}`,
    ]);
  }

  /** The suite deployed by Ignition over HTTP to the node. */
  async function deploy(): Promise<void> {
    const started = Date.now();
    rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
    const { addresses } = await deploySuite(
      (name, args, env) => processes.start(name, args, env),
      node.url,
      DEPLOYMENT_ID,
    );
    suite = { address: addresses["DataSafe#DataSafe"], catalogAddress: addresses["DataCatalog#DataCatalog"] };
    timings.deploy = Date.now() - started;
  }

  /** The scratch project's environment for a script against the node: its URL, the deployment and the roles' accounts. */
  const scriptEnv = (): Environment => ({
    RPC_URL: node.url,
    DEPLOYMENT_DIR,
    // As deploy/parameters/localBesu.json names them: memberAdmin and catalogAdmin are accounts 2 and 3.
    MEMBER_ADMIN: node.accounts[2],
    CATALOG_ADMIN: node.accounts[3],
    AUTHORITY: node.accounts[5],
    DEPARTMENT: node.accounts[7],
    BANK: node.accounts[8],
  });

  before(async function () {
    // The deployment may first rebuild the contracts with the production profile: minutes on a loaded machine.
    this.timeout(20 * 60_000);
    const started = Date.now();
    // `hardhat node` compiles nothing: it starts while the package builds. The deployment compiles
    // (production profile) and so waits for the build to have read artifacts/; the install runs beside it.
    const nodeStarted = startNode(processes).then((started) => (node = started));
    nodeStarted.catch(() => {}); // awaited below; a failure is reported there, not as an unhandled rejection
    await buildAndPack();
    await Promise.all([install(), nodeStarted.then(deploy)]);
    timings.before = Date.now() - started;
  });

  after(async () => {
    await node?.stop();
    await processes.stopAll();
    await commands.stopAll();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
    console.log(
      `      timings (ms): ${Object.entries(timings)
        .map(([name, ms]) => `${name} ${ms}`)
        .join(", ")}`,
    );
  });

  it("packs compiled JavaScript, declarations, source maps, TypeChain bindings and ABIs, and nothing else", () => {
    const size = statSync(tarball).size;
    console.log(`      tarball: ${packed.length} files, ${(size / 1024).toFixed(0)} KiB packed`);

    for (const expected of [
      "package.json",
      "README.md",
      "dist/sdk/index.js",
      "dist/sdk/index.d.ts",
      "dist/sdk/index.js.map",
      "dist/sdk/crypto/index.js",
      "dist/sdk/crypto/index.d.ts",
      "dist/typechain-types/index.js",
      "dist/typechain-types/index.d.ts",
      "dist/typechain-types/DataSafe.d.ts",
      "dist/typechain-types/factories/DataSafe__factory.js",
      "dist/abi/index.js",
      "dist/abi/index.d.ts",
      "dist/abi/DataSafe.json",
      "dist/abi/DataCatalog.json",
      "dist/abi/KeyDirectory.json",
      "dist/abi/DataSafeAccessManager.json",
    ]) {
      expect(packed, expected).to.include(expected);
    }
    // Every SDK source file is built (new modules are picked up without touching the build).
    const sources = filesUnder(SDK_DIR).filter(
      (file) => file.endsWith(".ts") && !file.endsWith(".d.ts") && !file.startsWith(`dist${path.sep}`),
    );
    expect(sources).to.include("client.ts");
    for (const source of sources) {
      const built = `dist/sdk/${source.split(path.sep).join("/").replace(/\.ts$/, "")}`;
      expect(packed, source).to.include.members([`${built}.js`, `${built}.d.ts`, `${built}.js.map`]);
    }

    for (const file of packed) {
      expect(file === "package.json" || file === "README.md" || file.startsWith("dist/"), file).to.equal(true);
      expect(/\.(js|js\.map|d\.ts|json)$/.test(file) || file === "README.md", `${file}: not a built file`).to.equal(
        true,
      );
      // Tests and their fixtures stay home; the only "test" folders are TypeChain's bindings of
      // contracts/test (its index exports them).
      expect(/(^|\/)test\//.test(file) && !/^dist\/typechain-types\/(factories\/)?test\//.test(file), file).to.equal(
        false,
      );
      expect(
        /\.(sol|tgz|pem|key|env)$|keystore|tsconfig|\.t\.sol|^dist\/(scripts|test|hardhat)/i.test(file),
        file,
      ).to.equal(false);
    }
    for (const file of packed) {
      const text = readFileSync(path.join(unpacked, "package", file), "utf8");
      for (const secret of KNOWN_SECRETS) expect(text.includes(secret), `${file} holds a known secret`).to.equal(false);
    }
  });

  it("declares what the built code imports: its dependencies, ethers as a peer, never Hardhat", () => {
    expect(manifest).to.include({ name: "@datasafe/sdk", version: "0.1.0", type: "module", license: "Apache-2.0" });
    expect(manifest.peerDependencies).to.deep.equal({ ethers: "^6.15.0" });
    expect(manifest.devDependencies).to.equal(undefined);
    expect(manifest.engines.node).to.match(/^>=22/);
    expect(Object.keys(manifest.exports)).to.include.members([".", "./crypto", "./typechain", "./abi", "./abi/*.json"]);
    // Run-time dependencies at the versions the repository itself uses and tests.
    for (const [name, range] of Object.entries(manifest.dependencies)) {
      expect(ROOT_MANIFEST.dependencies[name], name).to.equal(range);
    }

    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const file of packed.filter((f) => f.endsWith(".js"))) {
      for (const specifier of importedModules(readFileSync(path.join(unpacked, "package", file), "utf8"))) {
        expect(HARDHAT_MODULE.test(specifier), `${file} imports ${specifier}`).to.equal(false);
        if (specifier.startsWith("node:") || builtins.has(specifier)) continue;
        imported.add(packageOf(specifier));
      }
    }
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    expect(
      [...imported].filter((name) => !declared.has(name)),
      "imported but not declared",
    ).to.deep.equal([]);
    expect(
      [...declared].filter((name) => !imported.has(name)),
      "declared but not imported",
    ).to.deep.equal([]);
  });

  it("type-checks a TypeScript consumer against the shipped declarations, through the exports map", async () => {
    writeFileSync(
      path.join(project, "consumer.ts"),
      `import { JsonRpcProvider } from "ethers";
import { DataSafeClient, type Hex, type UsageRecord, InvalidInputError, assetIdOf } from "@datasafe/sdk";
import { KeySuite, cipherSuite, openWith, sealTo } from "@datasafe/sdk/crypto";
import { type DataSafe, DataSafe__factory } from "@datasafe/sdk/typechain";
import { DataSafe as dataSafeAbi } from "@datasafe/sdk/abi";

type FunctionName = Extract<(typeof dataSafeAbi)[number], { type: "function" }>["name"];
export const recordAccess: FunctionName = "recordAccess";
// @ts-expect-error the ABI's types are literal: no such function
export const missing: FunctionName = "noSuchFunction";

export async function trailOf(url: string, dataSafe: string, subjectId: Hex): Promise<UsageRecord[]> {
  const provider = new JsonRpcProvider(url);
  const contract: DataSafe = DataSafe__factory.connect(dataSafe, provider);
  const safe = await DataSafeClient.at(await contract.getAddress(), provider);
  // @ts-expect-error purpose is a number
  await safe.consent.requestAccess({ subjectId, targets: [], purpose: "loan", grantDuration: 60 });
  return safe.events.usageOf(subjectId);
}

export async function sealed(record: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const pair = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
  return openWith(pair, await sealTo(pair, record, aad), aad);
}

export const isInputError = (error: unknown): error is InvalidInputError => error instanceof InvalidInputError;
export const idOf: (...args: Parameters<typeof assetIdOf>) => Hex = assetIdOf;
`,
    );
    writeFileSync(
      path.join(project, "tsconfig.json"),
      `${JSON.stringify(
        {
          compilerOptions: {
            module: "nodenext",
            moduleResolution: "nodenext",
            target: "es2022",
            lib: ["es2023"],
            strict: true,
            noEmit: true,
            // The shipped declarations are checked too, against the consumer's own ethers and @types/node.
            skipLibCheck: false,
          },
          files: ["consumer.ts"],
        },
        null,
        2,
      )}\n`,
    );
    await run("tsc", process.execPath, [TSC, "-p", path.join(project, "tsconfig.json")]);
  });

  it("runs the README's example with plain node over HTTP: holder, asset, request, approval by signature, read, trail", async () => {
    const env = scriptEnv();
    // The operator's part, with the package too: members, the data type, its issuer.
    writeFileSync(
      path.join(project, "onboard.mjs"),
      `import { JsonRpcProvider } from "ethers";
import { DataSafeClient } from "@datasafe/sdk";

const { RPC_URL, DEPLOYMENT_DIR, MEMBER_ADMIN, CATALOG_ADMIN, AUTHORITY, DEPARTMENT, BANK } = process.env;
const provider = new JsonRpcProvider(RPC_URL);
const safe = await DataSafeClient.fromDeployment(DEPLOYMENT_DIR, provider);
const memberAdmin = safe.connect(await provider.getSigner(MEMBER_ADMIN));
const catalogAdmin = safe.connect(await provider.getSigner(CATALOG_ADMIN));
for (const [account, kind, name] of [
  [AUTHORITY, "IdentityAuthority", "Identity Authority"],
  [DEPARTMENT, "Department", "Housing Provident Fund Centre"],
  [BANK, "Consumer", "City Commercial Bank"],
]) {
  await (await memberAdmin.members.register({ account, kind, name })).wait();
}
const schema = { name: "personal-housing-fund" };
await (await catalogAdmin.catalog.define({ dataType: 8, name: schema.name, schemaURI: "ipfs://s/8", schema })).wait();
await (await catalogAdmin.catalog.authoriseIssuer(8, DEPARTMENT)).wait();
provider.destroy();
`,
    );
    await run("onboard", process.execPath, [path.join(project, "onboard.mjs")], env);

    const example = fencedBlockAfter(readFileSync(path.join(SDK_DIR, "README.md"), "utf8"), EXAMPLE_MARKER);
    expect(example).to.include('from "@datasafe/sdk"');
    writeFileSync(path.join(project, "example.mjs"), example);
    const output = await run("example", process.execPath, [path.join(project, "example.mjs")], env);
    const line = output
      .trim()
      .split("\n")
      .findLast((l) => l.startsWith("{"));
    expect(line, output).to.not.equal(undefined);
    const printed = JSON.parse(line!) as {
      subjectId: Hex;
      assetId: Hex;
      requestId: Hex;
      accessId: Hex;
      usage: Record<string, unknown>[];
    };

    // What it printed is the chain's state, read here with the repository's own SDK and bindings.
    const bank = getAddress(env.BANK!);
    expect(printed.usage).to.have.length(1);
    expect(printed.usage[0]).to.include({
      accessId: printed.accessId,
      assetId: printed.assetId,
      requestId: printed.requestId,
      consumer: bank,
      consumerName: "City Commercial Bank",
      dataType: 8,
      dataTypeName: "personal-housing-fund",
      issuer: getAddress(env.DEPARTMENT!),
      issuerName: "Housing Provident Fund Centre",
      purpose: 1,
      fields: "0",
      readNumber: 1,
      maxReads: 1,
    });
    const safe = new DataSafeClient(suite, node.provider);
    expect(await safe.consent.requestStatus(printed.requestId)).to.equal("Approved");
    const asset = await safe.assets.get(printed.assetId);
    expect(asset).to.include({ assetId: printed.assetId, status: "Valid", dataType: 8 });
    const subject = await safe.subjects.get(printed.subjectId);
    const dataSafe = DataSafe__factory.connect(suite.address, node.provider);
    const reads = await dataSafe.queryFilter(dataSafe.filters.AccessRecorded(undefined, printed.subjectId));
    expect(reads.map((log) => [log.args.accessId, log.args.consumer, log.args.assetId])).to.deep.equal([
      [printed.accessId, bank, printed.assetId],
    ]);
    // The phone signed and a member relayed: the holder's key never held or spent anything.
    expect(await node.provider.getBalance(subject.controller)).to.equal(0n);
    expect(await node.provider.getTransactionCount(subject.controller)).to.equal(0);
  });
});
