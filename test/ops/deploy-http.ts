import { type ChildProcess, spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";
import { Contract, JsonRpcProvider, getAddress } from "ethers";
import hre from "hardhat";

import {
  CATALOG_FUNCTION_ROLES,
  DATA_SAFE_FUNCTION_ROLES,
  Role,
  type RoleName,
  selectorsOf,
} from "../../deploy/modules/roles.js";
import { EVM_VERSION, PRIVATE_CHAIN_ID } from "../../hardhat.config.js";

/*
 * Deploys the suite the way an operator deploys it to the Besu network: `hardhat node` serving the
 * besuLike network (chain 1337, zero base fee, same fork) as a separate process, and
 * `hardhat ignition deploy ... --network localBesu` as another, talking JSON-RPC over HTTP.
 * localBesu's URL comes from LOCAL_BESU_URL (default port 8545), so the test runs on a free port.
 */

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const DEPLOYMENT_ID = `chain-${PRIVATE_CHAIN_ID}`;
const DEPLOYMENT_DIR = path.join(ROOT, "deploy", "deployments", DEPLOYMENT_ID);
const PARAMETERS_FILE = path.join("deploy", "parameters", "localBesu.json");
const PARAMETERS = JSON.parse(readFileSync(path.join(ROOT, PARAMETERS_FILE), "utf8")).Permissions as Record<
  string,
  string
>;
const PARAMETER_OF: Record<RoleName, string> = {
  OPERATOR: "operator",
  MEMBER_ADMIN: "memberAdmin",
  CATALOG_ADMIN: "catalogAdmin",
  REGULATOR: "regulator",
};

const MANAGER_ABI = [
  "function hasRole(uint64 roleId, address account) view returns (bool isMember, uint32 executionDelay)",
  "function getTargetFunctionRole(address target, bytes4 selector) view returns (uint64)",
  "function getRoleGrantDelay(uint64 roleId) view returns (uint32)",
];
const MANAGED_ABI = ["function authority() view returns (address)"];
const KEY_DIRECTORY_ABI = ["function dataSafe() view returns (address)"];

/**
 * `ignition deploy` builds with the production profile. Until hardhat.config.ts defines it with the
 * default profile's settings, Hardhat derives one without them (another EVM version, no via-IR):
 * the deployment then uses the default profile, and the first test below fails to say so.
 */
const profiles = hre.config.solidity.profiles;
const compilerSettings = (profile: string) => {
  const { evmVersion, viaIR, optimizer } = profiles[profile].compilers[0].settings as Record<string, unknown>;
  return { evmVersion, viaIR, optimizer };
};
const PRODUCTION_BUILD_MATCHES =
  JSON.stringify(compilerSettings("production")) === JSON.stringify(compilerSettings("default"));
const BUILD_PROFILE_ARGS = PRODUCTION_BUILD_MATCHES ? [] : ["--build-profile", "default"];
const BUILD_PROFILE_ARGS_OR_PRODUCTION = PRODUCTION_BUILD_MATCHES
  ? ["--build-profile", "production"]
  : BUILD_PROFILE_ARGS;

const children = new Set<ChildProcess>();
const logDir = mkdtempSync(path.join(tmpdir(), "datasafe-deploy-"));

/** Starts `command` in its own process group (npx starts node, which may start more), output to a log file. */
function start(name: string, args: string[], env: Record<string, string> = {}) {
  const log = path.join(logDir, `${name}-${Date.now()}.log`);
  const fd = openSync(log, "w");
  const child = spawn("npx", args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  exited.finally(() => children.delete(child));
  return { child, log, exited, output: () => readFileSync(log, "utf8") };
}

/** Ends a process group started by `start`: politely, then for good. */
async function stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // already gone
  }
  const ended = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!ended) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await exited;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns a value; errors from the probe count as "not yet", except after the deadline. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof Error && error.message.includes("exited")) throw error;
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ""}`,
  );
}

interface LocalNode {
  url: string;
  provider: JsonRpcProvider;
  deployer: string;
  stop: () => Promise<void>;
}

/** `hardhat node --network besuLike` on a free loopback port, answering eth_chainId. */
async function startNode(): Promise<LocalNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = start("node", [
    "hardhat",
    "node",
    "--network",
    "besuLike",
    "--hostname",
    "127.0.0.1",
    "--port",
    String(port),
  ]);
  let exitCode: number | null | undefined;
  node.exited.then((code) => (exitCode = code));
  await waitFor(
    `hardhat node on ${url}`,
    async () => {
      if (exitCode !== undefined) throw new Error(`hardhat node exited (${exitCode}):\n${node.output().slice(-2000)}`);
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(2_000),
      });
      return ((await response.json()) as { result?: string }).result;
    },
    120_000,
    500,
  ).catch(async (error) => {
    if (exitCode !== undefined) throw new Error(`hardhat node exited (${exitCode}):\n${node.output().slice(-2000)}`);
    await stop(node.child);
    throw error;
  });
  const provider = new JsonRpcProvider(url, PRIVATE_CHAIN_ID, { staticNetwork: true, pollingInterval: 200 });
  const [deployer] = (await provider.send("eth_accounts", [])) as string[];
  return {
    url,
    provider,
    deployer: getAddress(deployer),
    stop: async () => {
      provider.destroy();
      await stop(node.child);
    },
  };
}

/** `hardhat ignition deploy deploy/modules/Permissions.ts --network localBesu --parameters …` against `url`. */
function deploy(url: string) {
  return start(
    "ignition",
    [
      "hardhat",
      ...BUILD_PROFILE_ARGS,
      "ignition",
      "deploy",
      path.join("deploy", "modules", "Permissions.ts"),
      "--network",
      "localBesu",
      "--parameters",
      PARAMETERS_FILE,
    ],
    // Chain 1337 is not Hardhat's own chain id: Ignition would ask for confirmation on the terminal.
    { LOCAL_BESU_URL: url, HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "true" },
  );
}

async function deployToCompletion(url: string): Promise<string> {
  const run = deploy(url);
  const code = await run.exited;
  expect(code, `ignition deploy failed:\n${run.output().slice(-4000)}`).to.equal(0);
  return run.output();
}

const deployedAddresses = (): Record<string, string> =>
  JSON.parse(readFileSync(path.join(DEPLOYMENT_DIR, "deployed_addresses.json"), "utf8"));

const journal = (): { type: string; futureId?: string }[] =>
  existsSync(path.join(DEPLOYMENT_DIR, "journal.jsonl"))
    ? readFileSync(path.join(DEPLOYMENT_DIR, "journal.jsonl"), "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line))
    : [];

const SUITE = [
  "Governance#DataSafeAccessManager",
  "DataCatalog#DataCatalog",
  "DataSafe#DataSafe",
  "KeyDirectory#KeyDirectory",
];

/** Every transaction of the chain, oldest first. */
async function allTransactions(provider: JsonRpcProvider) {
  const latest = await provider.getBlockNumber();
  const transactions: { hash: string; from: string; to: string | null }[] = [];
  for (let number = 0; number <= latest; number++) {
    const block = await provider.send("eth_getBlockByNumber", [`0x${number.toString(16)}`, true]);
    transactions.push(...block.transactions);
  }
  return transactions;
}

/** Checks that the suite is live at its recorded addresses and the roles are wired as the parameters say. */
async function expectSuiteWired(provider: JsonRpcProvider, addresses: Record<string, string>) {
  for (const future of SUITE) {
    expect(await provider.getCode(addresses[future]), future).to.not.equal("0x");
  }
  const manager = new Contract(addresses["Governance#DataSafeAccessManager"], MANAGER_ABI, provider);
  const catalog = addresses["DataCatalog#DataCatalog"];
  const dataSafe = addresses["DataSafe#DataSafe"];
  for (const target of [catalog, dataSafe]) {
    expect(await new Contract(target, MANAGED_ABI, provider).authority()).to.equal(manager.target);
  }
  const keyDirectory = new Contract(addresses["KeyDirectory#KeyDirectory"], KEY_DIRECTORY_ABI, provider);
  expect(await keyDirectory.dataSafe()).to.equal(dataSafe);
  for (const role of Object.keys(PARAMETER_OF) as RoleName[]) {
    const [isMember, executionDelay] = await manager.hasRole(Role[role], PARAMETERS[PARAMETER_OF[role]]);
    expect(isMember, `${role} granted to ${PARAMETERS[PARAMETER_OF[role]]}`).to.equal(true);
    expect(executionDelay).to.equal(0n);
    for (const selector of selectorsOf(DATA_SAFE_FUNCTION_ROLES[role])) {
      expect(await manager.getTargetFunctionRole(dataSafe, selector), `${role} ${selector}`).to.equal(Role[role]);
    }
    for (const selector of selectorsOf(CATALOG_FUNCTION_ROLES[role])) {
      expect(await manager.getTargetFunctionRole(catalog, selector), `${role} ${selector}`).to.equal(Role[role]);
    }
  }
  // No role went to an account the parameters do not name.
  const [deployerIsOperator] = await manager.hasRole(Role.OPERATOR, (await provider.send("eth_accounts", []))[0]);
  expect(deployerIsOperator).to.equal(false);
}

function assertNoCommittedDeployment() {
  const tracked = execFileSync("git", ["ls-files", "--", path.relative(ROOT, DEPLOYMENT_DIR)], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (tracked.trim() !== "") {
    throw new Error(
      `${DEPLOYMENT_DIR} holds a committed deployment; this test deletes that folder. Deploy real networks with --deployment-id (see ops/besu/README.md).`,
    );
  }
}

describe("deploying the suite over HTTP to a Besu-like node", function () {
  this.timeout(300_000);

  before(async function () {
    assertNoCommittedDeployment();
    rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
    // Build what `ignition deploy` will build first, so a cold cache (a fresh clone: the production
    // profile compiles each contract on its own, via-IR, with the WASM compiler) does not count
    // against the deployments' time.
    this.timeout(30 * 60_000);
    const build = start("build", ["hardhat", ...BUILD_PROFILE_ARGS_OR_PRODUCTION, "build", "--no-tests"]);
    const code = await build.exited;
    expect(code, `build failed:\n${build.output().slice(-4000)}`).to.equal(0);
  });

  after(async () => {
    await Promise.all([...children].map((child) => stop(child, "SIGKILL")));
    rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  });

  it(`builds what it deploys for ${EVM_VERSION}, with the settings the contracts are sized and tested with`, () => {
    expect(
      compilerSettings("production"),
      "hardhat.config.ts: `ignition deploy` builds with the production profile, which Hardhat derives without the default profile's settings; define profiles.production with the same settings",
    ).to.deep.equal(compilerSettings("default"));
    expect(compilerSettings("production").evmVersion).to.equal(EVM_VERSION);
  });

  describe("a first deployment, then the same deployment again", () => {
    let node: LocalNode;
    let addresses: Record<string, string>;

    before(async () => {
      node = await startNode();
    });

    after(async () => {
      await node?.stop();
      rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
    });

    it("the node serves chain id 1337 with a zero base fee", async () => {
      expect(Number(await node.provider.send("eth_chainId", []))).to.equal(PRIVATE_CHAIN_ID);
      const block = await node.provider.getBlock("latest");
      expect(block?.baseFeePerGas).to.equal(0n);
    });

    it("Ignition deploys the suite through --network localBesu and records its addresses", async () => {
      await deployToCompletion(node.url);
      addresses = deployedAddresses();
      expect(Object.keys(addresses)).to.have.members(SUITE);
      await expectSuiteWired(node.provider, addresses);
    });

    it("pays nothing for gas", async () => {
      const transactions = await allTransactions(node.provider);
      expect(transactions).to.not.have.length(0);
      for (const { hash } of transactions) {
        const receipt = await node.provider.getTransactionReceipt(hash);
        expect(receipt?.gasPrice, hash).to.equal(0n);
      }
      expect(await node.provider.getBalance(node.deployer)).to.equal(10_000n * 10n ** 18n);
    });

    it("running it again deploys nothing: same addresses, no transaction", async () => {
      const nonce = await node.provider.getTransactionCount(node.deployer);
      const blockNumber = await node.provider.getBlockNumber();
      const output = await deployToCompletion(node.url);
      expect(output).to.contain("Nothing new to deploy");
      expect(deployedAddresses()).to.deep.equal(addresses);
      expect(await node.provider.getTransactionCount(node.deployer)).to.equal(nonce);
      expect(await node.provider.getBlockNumber()).to.equal(blockNumber);
    });
  });

  describe("a deployment killed after its first contract", () => {
    let node: LocalNode;

    before(async () => {
      rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
      node = await startNode();
    });

    after(async () => {
      await node?.stop();
      rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
    });

    it("resumes where it stopped and deploys no contract and sends no transaction twice", async () => {
      const { provider, deployer } = node;
      const pendingNonce = () => provider.getTransactionCount(deployer, "pending");
      // Blocks come only when the test mines them, so the deployment can be stopped at a known point.
      await provider.send("evm_setAutomine", [false]);

      const first = deploy(node.url);
      let firstExit: number | null | undefined;
      first.exited.then((code) => (firstExit = code));
      const stillRunning = () => {
        if (firstExit !== undefined)
          throw new Error(`ignition deploy exited (${firstExit}) early:\n${first.output().slice(-4000)}`);
      };
      await waitFor(
        "the first transaction",
        async () => (stillRunning(), (await pendingNonce()) >= 1 ? true : undefined),
        180_000,
      );
      // Without automine Ignition waits for 5 confirmations.
      await provider.send("hardhat_mine", ["0x5"]);
      await waitFor(
        "the manager to be recorded as deployed and the next batch to be sent",
        async () =>
          (stillRunning(), journal()).some(
            (entry) => entry.type === "DEPLOYMENT_EXECUTION_STATE_COMPLETE" && entry.futureId === SUITE[0],
          ) && (await pendingNonce()) >= 2
            ? true
            : undefined,
        60_000,
      );
      // Kill the deploying process while it waits for confirmations with transactions in flight:
      // every step it has started has its transaction sent. (Ignition 3 cannot resume a journal
      // that ends between a step's start and its transaction request: see ops/besu/README.md.)
      let sent = await pendingNonce();
      await waitFor(
        "the batch to be sent",
        async () => {
          stillRunning();
          const now = await pendingNonce();
          const entries = journal();
          const started = entries
            .filter((entry) => /_EXECUTION_STATE_INITIALIZE$/.test(entry.type))
            .map((entry) => entry.futureId);
          const settled = new Set(
            entries
              .filter((entry) => entry.type === "TRANSACTION_SEND" || /_EXECUTION_STATE_COMPLETE$/.test(entry.type))
              .map((entry) => entry.futureId),
          );
          const quiet = now === sent && started.every((futureId) => settled.has(futureId));
          sent = now;
          return quiet ? true : undefined;
        },
        30_000,
        1_000,
      );
      await stop(first.child, "SIGKILL");

      const inFlight = (await pendingNonce()) - (await provider.getTransactionCount(deployer, "latest"));
      expect(inFlight, "transactions sent but not mined when the deployment was killed").to.be.greaterThan(0);
      const beforeResume = deployedAddresses();
      expect(Object.keys(beforeResume)).to.deep.equal([SUITE[0]]);

      // The network goes on: the transactions in flight are mined, blocks come with transactions again.
      await provider.send("evm_mine", []);
      await provider.send("evm_setAutomine", [true]);

      await deployToCompletion(node.url);
      const addresses = deployedAddresses();
      expect(Object.keys(addresses)).to.have.members(SUITE);
      expect(addresses[SUITE[0]]).to.equal(beforeResume[SUITE[0]]);
      await expectSuiteWired(provider, addresses);

      const transactions = await allTransactions(provider);
      const creations = transactions.filter((transaction) => transaction.to === null);
      expect(creations, "contract creations").to.have.length(SUITE.length);
      const entries = journal();
      expect(entries.filter((entry) => /DROPPED|REPLACED_BY_USER/.test(entry.type))).to.deep.equal([]);
      // One transaction per on-chain step of the module, each confirmed once.
      const confirmed = entries.filter((entry) => entry.type === "TRANSACTION_CONFIRM").length;
      expect(transactions).to.have.length(confirmed);
      expect(await provider.getTransactionCount(deployer)).to.equal(confirmed);
    });
  });
});
