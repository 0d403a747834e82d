import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { SigningKey, computeAddress, decodeRlp, getAddress } from "ethers";
import hre from "hardhat";
import { parseDocument } from "yaml";

import { EVM_VERSION, PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import { networkFiles } from "../../ops/besu/generate-network.js";
import { NODES, P2P_PORT, RPC_HTTP_PORT, VALIDATORS } from "../../ops/besu/topology.js";
import { checkCompose, checkNetwork, readBesuToml, readCompose } from "../../ops/scripts/check-compose.js";
import { checkParameters } from "../../ops/scripts/check-parameters.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BESU_DIR = path.join(ROOT, "ops", "besu");
const COMPOSE_FILE = path.join(BESU_DIR, "docker-compose.yml");
const GENERATOR = path.join("ops", "besu", "generate-network.ts");

/** Runs generate-network.ts as an operator would, through npx tsx. */
function generate(...args: string[]) {
  return spawnSync("npx", ["tsx", GENERATOR, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
}

/** Copies ops/besu (without any generated network) to a temp folder, edits its compose file, checks it. */
function checkEditedCompose(
  edit: (compose: ReturnType<typeof parseDocument>) => void,
  chainId = PRIVATE_CHAIN_ID,
): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "datasafe-compose-"));
  try {
    cpSync(path.join(BESU_DIR, "config"), path.join(dir, "config"), { recursive: true });
    const document = parseDocument(readFileSync(COMPOSE_FILE, "utf8"), { merge: true });
    edit(document);
    writeFileSync(path.join(dir, "docker-compose.yml"), document.toString());
    return checkCompose({ composeFile: path.join(dir, "docker-compose.yml"), chainId });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("Besu network kit (static)", function () {
  this.timeout(180_000);

  describe("docker-compose.yml", () => {
    const compose = readCompose(COMPOSE_FILE);
    const services = compose.services ?? {};

    it("passes every static check against topology.ts and the node configs", () => {
      expect(checkCompose()).to.deep.equal([]);
    });

    it("runs every service on one pinned hyperledger/besu release, never latest", () => {
      const images = new Set(Object.values(services).map((service) => service.image));
      expect(images.size).to.equal(1);
      const [image] = images;
      expect(image).to.match(/^hyperledger\/besu:\d+\.\d+\.\d+$/);
      expect(image).not.to.match(/:latest$/);
    });

    it("runs four validators and one RPC node, all on the generated genesis and the project's chain id", () => {
      expect(VALIDATORS).to.have.length(4);
      expect(NODES.filter((node) => node.role === "rpc")).to.have.length(1);
      for (const node of NODES) {
        const service = services[node.name];
        expect(service, node.name).to.not.equal(undefined);
        const configArg = (service.command as string[]).find((arg) => arg.startsWith("--config-file="));
        expect(configArg, node.name).to.equal(`--config-file=/config/${node.role}.toml`);
        expect(service.volumes, node.name).to.include(`./config/${node.role}.toml:/config/${node.role}.toml:ro`);
        expect(service.volumes, node.name).to.include("./network/genesis.json:/network/genesis.json:ro");
        const config = readBesuToml(path.join(BESU_DIR, "config", `${node.role}.toml`));
        expect(config["genesis-file"], node.name).to.equal("/network/genesis.json");
        expect(config["network-id"], node.name).to.equal(PRIVATE_CHAIN_ID);
      }
    });

    it("serves JSON-RPC over HTTP from the RPC node only, published on the host's loopback", () => {
      for (const node of NODES) {
        const config = readBesuToml(path.join(BESU_DIR, "config", `${node.role}.toml`));
        const ports = services[node.name].ports ?? [];
        if (node.role === "rpc") {
          expect(config["rpc-http-enabled"]).to.equal(true);
          expect(ports).to.deep.equal([`127.0.0.1:${RPC_HTTP_PORT}:${RPC_HTTP_PORT}`]);
        } else {
          expect(config["rpc-http-enabled"], node.name).to.equal(false);
          expect(ports, node.name).to.deep.equal([]);
        }
        expect(config["rpc-ws-enabled"], node.name).to.equal(false);
        expect(config["graphql-http-enabled"], node.name).to.equal(false);
      }
    });

    it("gives every node a fixed address that it advertises, and its generated bootnode list", () => {
      for (const node of NODES) {
        const service = services[node.name];
        const networks = service.networks as Record<string, { ipv4_address: string }>;
        expect(networks.besu.ipv4_address, node.name).to.equal(node.ip);
        expect((service.environment as Record<string, string>).BESU_P2P_HOST, node.name).to.equal(node.ip);
        expect(service.env_file, node.name).to.equal(`./network/${node.name}/besu.env`);
      }
    });

    describe("the checker catches", () => {
      const validator = ["services", "validator2"];

      it("a floating image tag", () => {
        const problems = checkEditedCompose((doc) =>
          doc.setIn(["services", "validator3", "image"], "hyperledger/besu:latest"),
        );
        expect(problems.join("\n")).to.contain('validator3: image "hyperledger/besu:latest" is not a pinned');
      });

      it("a validator publishing JSON-RPC", () => {
        const problems = checkEditedCompose((doc) => doc.setIn([...validator, "ports"], doc.createNode(["8545:8545"])));
        expect(problems.join("\n")).to.contain("validator2: a validator must not publish ports");
      });

      it("the RPC node published on every interface", () => {
        const problems = checkEditedCompose((doc) =>
          doc.setIn(["services", "rpc1", "ports"], doc.createNode(["8545:8545"])),
        );
        expect(problems.join("\n")).to.contain("rpc1: ports must be exactly");
      });

      it("a node on another genesis", () => {
        const problems = checkEditedCompose((doc) =>
          doc.setIn(
            [...validator, "volumes"],
            doc.createNode([
              "./config/validator.toml:/config/validator.toml:ro",
              "./other/genesis.json:/network/genesis.json:ro",
              "validator2-data:/opt/besu/data",
            ]),
          ),
        );
        expect(problems.join("\n")).to.contain("validator2: genesis-file");
      });

      it("a chain id the configs do not carry", () => {
        expect(checkEditedCompose(() => {}, 31337).join("\n")).to.contain("network-id 1337 is not the chain id 31337");
      });

      it("an advertised address that is not the node's own", () => {
        const problems = checkEditedCompose((doc) =>
          doc.setIn([...validator, "environment", "BESU_P2P_HOST"], "172.16.240.99"),
        );
        expect(problems.join("\n")).to.contain("validator2: BESU_P2P_HOST 172.16.240.99 is not its address");
      });
    });
  });

  describe("generate-network.ts", () => {
    let dir: string;
    let out: string;
    let genesis: any;

    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "datasafe-besu-"));
      out = path.join(dir, "network");
      const run = generate("--out", out);
      expect(run.status, run.stderr).to.equal(0);
      genesis = JSON.parse(readFileSync(networkFiles(out).genesis, "utf8"));
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it("writes a genesis for the project's chain id", () => {
      expect(genesis.config.chainId).to.equal(PRIVATE_CHAIN_ID);
    });

    it("activates at genesis exactly the fork named by EVM_VERSION, the one the compiler and besuLike use", () => {
      expect(hre.config.solidity.profiles.default.compilers[0].settings.evmVersion).to.equal(EVM_VERSION);
      expect((hre.config.networks.besuLike as { hardfork?: string }).hardfork).to.equal(EVM_VERSION);

      const milestones = Object.fromEntries(
        Object.entries(genesis.config).filter(([key]) => /(Block|Time)$/.test(key)),
      );
      // Independent of the generator's table: the block-numbered forks up to London and the
      // time-stamped forks up to EVM_VERSION, all at 0, nothing later.
      const timeForks = ["shanghai", "cancun", "prague", "osaka"];
      const activeTimeForks = timeForks.slice(0, timeForks.indexOf(EVM_VERSION) + 1);
      expect(activeTimeForks, `EVM_VERSION ${EVM_VERSION} is not a time-stamped fork`).to.not.deep.equal([]);
      const expected = {
        ...Object.fromEntries(
          [
            "homestead",
            "eip150",
            "eip158",
            "byzantium",
            "constantinople",
            "petersburg",
            "istanbul",
            "berlin",
            "london",
          ].map((fork) => [`${fork}Block`, 0]),
        ),
        ...Object.fromEntries(activeTimeForks.map((fork) => [`${fork}Time`, 0])),
      };
      expect(milestones).to.deep.equal(expected);
      expect(genesis.config).to.include({ berlinBlock: 0, londonBlock: 0, shanghaiTime: 0, cancunTime: 0 });
      expect(genesis.config).to.not.have.property("pragueTime");
    });

    it("makes gas free (zero base fee), keeps the default contract size limit and sets the QBFT timing", () => {
      expect(genesis.config.zeroBaseFee).to.equal(true);
      expect(genesis.config).to.not.have.property("contractSizeLimit");
      expect(genesis.config.qbft).to.have.all.keys("blockperiodseconds", "epochlength", "requesttimeoutseconds");
      expect(genesis.config.qbft.requesttimeoutseconds).to.be.greaterThan(genesis.config.qbft.blockperiodseconds);
      expect(genesis.gasLimit).to.match(/^0x[0-9a-f]+$/);
      expect(genesis).to.not.have.property("baseFeePerGas");
    });

    it("encodes the generated validator keys' addresses in QBFT extraData", () => {
      const [vanity, validators, vote, round, seals] = decodeRlp(genesis.extraData) as [
        string,
        string[],
        unknown[],
        string,
        unknown[],
      ];
      expect(vanity).to.equal(`0x${"00".repeat(32)}`);
      expect(vote).to.deep.equal([]);
      expect(round).to.equal("0x");
      expect(seals).to.deep.equal([]);
      const fromKeys = VALIDATORS.map((node) => computeAddress(readFileSync(networkFiles(out).key(node.name), "utf8")));
      expect(validators.map((address) => getAddress(address)))
        .to.have.members(fromKeys)
        .and.to.have.length(4);
      // The RPC node is not a validator.
      const rpcAddress = computeAddress(readFileSync(networkFiles(out).key("rpc1"), "utf8"));
      expect(validators.map((address) => getAddress(address))).to.not.include(rpcAddress);
    });

    it("gives every node the other validators as bootnodes, by key and fixed address", () => {
      const enodeOf = (name: string, ip: string) =>
        `enode://${SigningKey.computePublicKey(readFileSync(networkFiles(out).key(name), "utf8"), false).slice(4)}@${ip}:${P2P_PORT}`;
      for (const node of NODES) {
        const env = readFileSync(networkFiles(out).env(node.name), "utf8").trim();
        const bootnodes = env.replace(/^BESU_BOOTNODES=/, "").split(",");
        const expected = VALIDATORS.filter((validator) => validator.name !== node.name).map((validator) =>
          enodeOf(validator.name, validator.ip),
        );
        expect(bootnodes, node.name).to.have.members(expected);
      }
      expect(checkNetwork(out)).to.deep.equal([]);
    });

    it("writes node keys readable by their owner only", () => {
      for (const node of NODES) {
        expect(statSync(networkFiles(out).key(node.name)).mode & 0o777, node.name).to.equal(0o600);
      }
    });

    it("refuses to overwrite an existing network unless forced", () => {
      const before = readFileSync(networkFiles(out).key("validator1"), "utf8");
      const refused = generate("--out", out);
      expect(refused.status).to.not.equal(0);
      expect(refused.stderr).to.contain("already holds a network");
      expect(readFileSync(networkFiles(out).key("validator1"), "utf8")).to.equal(before);

      const forced = generate("--out", out, "--force");
      expect(forced.status, forced.stderr).to.equal(0);
      expect(readFileSync(networkFiles(out).key("validator1"), "utf8")).to.not.equal(before);
      expect(checkNetwork(out)).to.deep.equal([]);
    });

    it("never writes keys where git could pick them up", () => {
      // The default folder is ignored by ops/besu/.gitignore...
      const ignored = spawnSync("git", ["check-ignore", "-q", "--no-index", "ops/besu/network/validator1/key"], {
        cwd: ROOT,
      });
      expect(ignored.status, "ops/besu/network must be git-ignored").to.equal(0);
      // ...and any other folder of the work tree is refused before a key is written.
      const target = path.join("ops", "besu", `not-ignored-${process.pid}`);
      const refused = generate("--out", target);
      expect(refused.status).to.not.equal(0);
      expect(refused.stderr).to.contain("not ignored");
      expect(existsSync(path.join(ROOT, target))).to.equal(false);
      // Nothing key-like is tracked or waiting to be added anywhere under ops/.
      const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "ops"], {
        cwd: ROOT,
        encoding: "utf8",
      });
      expect(
        files.split("\n").filter((file) => /(^|\/)(key|key\.pub|besu\.env|genesis\.json)$/.test(file)),
      ).to.deep.equal([]);
    });
  });

  describe("Ignition parameters", () => {
    const parametersDir = path.join(ROOT, "deploy", "parameters");

    it("localBesu.json is complete for a development node", () => {
      expect(
        checkParameters(path.join(parametersDir, "localBesu.json"), { allowDevelopmentAccounts: true }),
      ).to.deep.equal([]);
    });

    it("besu.example.json holds placeholders that cannot be mistaken for, or deployed as, real accounts", () => {
      const problems = checkParameters(path.join(parametersDir, "besu.example.json"), {
        modules: ["Permissions", "AdminHandover"],
      });
      for (const name of ["operator", "memberAdmin", "catalogAdmin", "regulator"]) {
        expect(problems.join("\n")).to.contain(`Permissions.${name} is not an address`);
      }
      expect(problems.join("\n")).to.contain("AdminHandover.newAdmin is not an address");
      expect(problems.filter((problem) => !problem.includes("is not an address"))).to.deep.equal([]);
    });

    it("the pre-flight check refuses development accounts for a real network", () => {
      const problems = checkParameters(path.join(parametersDir, "localBesu.json"));
      expect(problems).to.have.length(4);
      expect(problems.join("\n")).to.contain("Permissions.operator is a Hardhat development account");
    });
  });
});
