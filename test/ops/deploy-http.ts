import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Contract, JsonRpcProvider } from "ethers";
import hre from "hardhat";

import {
  CATALOG_FUNCTION_ROLES,
  DATA_SAFE_FUNCTION_ROLES,
  Role,
  type RoleName,
  selectorsOf,
} from "../../deploy/modules/roles.js";
import { EVM_VERSION, PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import { type LocalNode, ROOT, ignitionDeployArgs, start, startNode, stop, stopAll, waitFor } from "./processes.js";

/*
 * Deploys the suite the way an operator deploys it to the Besu network: `hardhat node` serving the
 * besuLike network (chain 1337, zero base fee, same fork) as a separate process, and the deploy
 * command README.md gives, run as written by a shell without a terminal, talking JSON-RPC over HTTP.
 * localBesu's URL comes from LOCAL_BESU_URL (default port 8545), so the test runs on a free port.
 */

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

/**
 * The deploy command of a code block: the line after `npx hardhat node --network besuLike` in
 * README.md's "Deploying" section, or the command after the node's in the runbook's "Rehearse
 * without Docker", joined across `\` continuations, comments dropped.
 */
function documentedDeployCommand(file: string, section: string): string {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const body = text.slice(text.indexOf(section));
  const block = /```sh\n([\s\S]*?)```/.exec(body)?.[1];
  if (block === undefined) throw new Error(`${file}: no sh code block under ${section}`);
  const lines = block
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "");
  const node = lines.findIndex((line) => /hardhat node --network besuLike/.test(line));
  if (node < 0 || lines[node + 1] === undefined)
    throw new Error(`${file}: no command after \`hardhat node --network besuLike\` under ${section}`);
  return lines[node + 1];
}

const README_DEPLOY = documentedDeployCommand("README.md", "## Deploying");
const RUNBOOK_DEPLOY = documentedDeployCommand(path.join("ops", "besu", "README.md"), "### Rehearse without Docker");

/**
 * Runs a documented command as written, through a shell, without a terminal, against `url`. The
 * confirmation variable is removed from the environment: the command must carry what it needs.
 */
function runDocumented(command: string, url: string) {
  return start("deploy", "sh", ["-c", command], {
    LOCAL_BESU_URL: url,
    HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: undefined,
  });
}

/** The README's deploy command against `url`. */
function deploy(url: string) {
  return runDocumented(README_DEPLOY, url);
}

async function deployToCompletion(url: string, command = README_DEPLOY): Promise<string> {
  const run = runDocumented(command, url);
  const code = await run.exited;
  expect(code, `${command} failed:\n${run.output().slice(-4000)}`).to.equal(0);
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
    const build = start("build", "npx", ["hardhat", ...BUILD_PROFILE_ARGS_OR_PRODUCTION, "build", "--no-tests"]);
    const code = await build.exited;
    expect(code, `build failed:\n${build.output().slice(-4000)}`).to.equal(0);
  });

  after(async () => {
    await stopAll();
    rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
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

    it("without a terminal, `ignition deploy` without the confirmation variable stops at its prompt and deploys nothing", async () => {
      const run = start("unconfirmed", "npx", ignitionDeployArgs(), {
        LOCAL_BESU_URL: node.url,
        HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: undefined,
      });
      const code = await run.exited;
      const output = run.output().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
      // The question waits on a closed stdin; Node ends the process with its top-level await unsettled.
      expect(output).to.contain("Confirm deploy to network localBesu (1337)?");
      expect(output).to.contain("Detected unsettled top-level await");
      expect(code, output).to.equal(13);
      expect(await node.provider.getTransactionCount(node.deployer)).to.equal(0);
      expect(existsSync(path.join(DEPLOYMENT_DIR, "deployed_addresses.json"))).to.equal(false);
    });

    it(`README.md's command, \`${README_DEPLOY}\`, run as written without a terminal, deploys the suite through --network localBesu`, async () => {
      expect(README_DEPLOY).to.equal("npm run deploy:local");
      const output = (await deployToCompletion(node.url)).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
      // It says what it does: the build, then Ignition's own progress.
      expect(output).to.match(/Compiling the contracts \(solc .*production profile/);
      expect(output).to.match(/✔ (The contracts are up to date|Compiled the contracts)/);
      expect(output).to.contain("Deployed Addresses");
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

    it(`the runbook's rehearsal command, \`${RUNBOOK_DEPLOY}\`, run again deploys nothing: same addresses, no transaction`, async () => {
      const nonce = await node.provider.getTransactionCount(node.deployer);
      const blockNumber = await node.provider.getBlockNumber();
      const output = await deployToCompletion(node.url, RUNBOOK_DEPLOY);
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
