import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { SigningKey, Wallet, computeAddress, decodeRlp, getAddress } from "ethers";
import hre from "hardhat";
import { parseDocument } from "yaml";

import { EVM_VERSION, PRIVATE_CHAIN_ID } from "../../hardhat.config.js";
import { readPermissions } from "../../ops/besu/allowlists.js";
import { networkFiles } from "../../ops/besu/generate-network.js";
import {
  CONTAINER_PATHS,
  DATA_STORAGE_FORMAT,
  NODES,
  P2P_PORT,
  RPC_HTTP_HOST,
  RPC_HTTP_PORT,
  VALIDATORS,
} from "../../ops/besu/topology.js";
import {
  checkCompose,
  checkNetwork,
  checkNetworkReport,
  readBesuToml,
  readCompose,
} from "../../ops/scripts/check-compose.js";
import { checkParameters } from "../../ops/scripts/check-parameters.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BESU_DIR = path.join(ROOT, "ops", "besu");
const COMPOSE_FILE = path.join(BESU_DIR, "docker-compose.yml");
const GENERATOR = path.join("ops", "besu", "generate-network.ts");
const ALLOWLISTS = path.join("ops", "besu", "allowlists.ts");
const PARAMETERS_DIR = path.join(ROOT, "deploy", "parameters");

/** Runs an ops script as an operator would, through npx tsx. */
function tsx(script: string, ...args: string[]) {
  return spawnSync("npx", ["tsx", script, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
}

const randomAccount = () => Wallet.createRandom().address;
const randomEnode = (ip: string) => `enode://${Wallet.createRandom().signingKey.publicKey.slice(4)}@${ip}:30303`;

/** A deployment parameters file and a members file with fresh accounts, in `dir`. */
function writeSources(dir: string) {
  const parametersFile = path.join(dir, "besu.json");
  const membersFile = path.join(dir, "besu-members.json");
  const roles = {
    operator: randomAccount(),
    memberAdmin: randomAccount(),
    catalogAdmin: randomAccount(),
    regulator: randomAccount(),
  };
  const members = {
    deployer: randomAccount(),
    organisations: [
      { name: "City Big Data Bureau", accounts: [roles.operator, randomAccount()], nodes: [] as string[] },
      { name: "Housing Provident Fund Centre", accounts: [randomAccount()], nodes: [] as string[] },
      // The regulator's role account is its organisation's account too: listed once in the allowlist.
      { name: "City Regulator", accounts: [roles.regulator], nodes: [] as string[] },
    ],
  };
  writeFileSync(parametersFile, JSON.stringify({ Permissions: roles, AdminHandover: { newAdmin: randomAccount() } }));
  writeFileSync(membersFile, JSON.stringify(members, null, 2));
  return { parametersFile, membersFile, roles, members };
}

/** Runs generate-network.ts with the allowlists' sources. */
function generate(sources: { parametersFile: string; membersFile: string }, ...args: string[]) {
  return tsx(GENERATOR, "--parameters", sources.parametersFile, "--members", sources.membersFile, ...args);
}

/**
 * Copies ops/besu (without any generated network) to a temp folder, edits its compose file and node
 * configs, checks it.
 */
function checkEditedCompose(
  edit: (compose: ReturnType<typeof parseDocument>) => void,
  { chainId = PRIVATE_CHAIN_ID, config }: { chainId?: number; config?: (role: string, text: string) => string } = {},
): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "datasafe-compose-"));
  try {
    cpSync(path.join(BESU_DIR, "config"), path.join(dir, "config"), { recursive: true });
    for (const role of ["validator", "rpc"]) {
      const file = path.join(dir, "config", `${role}.toml`);
      if (config !== undefined) writeFileSync(file, config(role, readFileSync(file, "utf8")));
    }
    const document = parseDocument(readFileSync(COMPOSE_FILE, "utf8"), { merge: true });
    edit(document);
    writeFileSync(path.join(dir, "docker-compose.yml"), document.toString());
    return checkCompose({ composeFile: path.join(dir, "docker-compose.yml"), chainId });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Replaces one `key=value` line of a node config, or removes it with `undefined`. */
const setConfigLine = (text: string, key: string, value: string | undefined) => {
  const line = new RegExp(`^${key}=.*$`, "m");
  expect(text, `${key} in the config`).to.match(line);
  return text.replace(line, value === undefined ? "" : `${key}=${value}`);
};

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

    it("serves JSON-RPC to applications from the RPC node only, published on the host's loopback", () => {
      for (const node of NODES) {
        const config = readBesuToml(path.join(BESU_DIR, "config", `${node.role}.toml`));
        const ports = services[node.name].ports ?? [];
        expect(config["rpc-http-enabled"], node.name).to.equal(true);
        if (node.role === "rpc") {
          expect(ports).to.deep.equal([`127.0.0.1:${RPC_HTTP_PORT}:${RPC_HTTP_PORT}`]);
          expect(config["rpc-http-api"]).to.include("ETH");
        } else {
          // For its health check only: on the container's own loopback, NET only, nothing published.
          expect(config["rpc-http-api"], node.name).to.deep.equal(["NET"]);
          expect(ports, node.name).to.deep.equal([]);
        }
        expect(config["rpc-ws-enabled"], node.name).to.equal(false);
        expect(config["graphql-http-enabled"], node.name).to.equal(false);
      }
    });

    it("sets rpc-http-host in each config and repeats it in the environment, over the image's 0.0.0.0", () => {
      for (const node of NODES) {
        const config = readBesuToml(path.join(BESU_DIR, "config", `${node.role}.toml`));
        expect(config["rpc-http-host"], node.name).to.equal(RPC_HTTP_HOST[node.role]);
        expect((services[node.name].environment as Record<string, string>).BESU_RPC_HTTP_HOST, node.name).to.equal(
          config["rpc-http-host"],
        );
      }
      expect(RPC_HTTP_HOST.validator).to.equal("127.0.0.1");
    });

    it("accepts the Host headers of the health check and of a reverse proxy on the host, never any", () => {
      const rpc = readBesuToml(path.join(BESU_DIR, "config", "rpc.toml"));
      expect(rpc["host-allowlist"]).to.have.members(["localhost", "127.0.0.1", "rpc1"]);
      const validator = readBesuToml(path.join(BESU_DIR, "config", "validator.toml"));
      expect(validator["host-allowlist"]).to.have.members(["localhost", "127.0.0.1"]);
    });

    it("keeps every block's state on the RPC node (Forest, full sync) and recent state on validators (Bonsai)", () => {
      const rpc = readBesuToml(path.join(BESU_DIR, "config", "rpc.toml"));
      expect(rpc["data-storage-format"]).to.equal("FOREST");
      expect(rpc["sync-mode"]).to.equal("FULL");
      const validator = readBesuToml(path.join(BESU_DIR, "config", "validator.toml"));
      expect(validator["data-storage-format"]).to.equal("BONSAI");
      expect(DATA_STORAGE_FORMAT).to.deep.equal({ validator: "BONSAI", rpc: "FOREST" });
    });

    it("enables both allowlists on every node, from the copy in its data volume, installed writable by uid 1000", () => {
      for (const role of ["validator", "rpc"]) {
        const config = readBesuToml(path.join(BESU_DIR, "config", `${role}.toml`));
        expect(config["permissions-nodes-config-file-enabled"], role).to.equal(true);
        expect(config["permissions-accounts-config-file-enabled"], role).to.equal(true);
        expect(config["permissions-nodes-config-file"], role).to.equal(CONTAINER_PATHS.permissions);
        expect(config["permissions-accounts-config-file"], role).to.equal(CONTAINER_PATHS.permissions);
        expect(CONTAINER_PATHS.permissions.startsWith(`${config["data-path"]}/`)).to.equal(true);
      }
      const installer = (services["node-keys"].command as string[]).join("\n");
      expect(installer).to.contain(
        'install -o 1000 -g 1000 -m 0600 /network/permissions_config.toml "/data/$$node/permissions_config.toml"',
      );
      for (const node of NODES) {
        expect(services[node.name].volumes!.some((volume) => volume.includes("permissions"))).to.equal(false);
      }
    });

    it("checks every node's health on /liveness and starts the RPC node once the validators are healthy", () => {
      for (const node of NODES) {
        const test = services[node.name].healthcheck?.test as string[];
        expect(test.slice(0, 3), node.name).to.deep.equal(["CMD", "bash", "-c"]);
        expect(test[3], node.name).to.contain(`/dev/tcp/127.0.0.1/${RPC_HTTP_PORT}`).and.to.contain("GET /liveness");
      }
      const dependsOn = services.rpc1.depends_on as Record<string, { condition: string }>;
      for (const validator of VALIDATORS)
        expect(dependsOn[validator.name]).to.deep.equal({ condition: "service_healthy" });
      expect(dependsOn["node-keys"]).to.deep.equal({ condition: "service_completed_successfully" });
    });

    describe("the health check command, run by bash against an HTTP server", () => {
      // Compose turns $$ into $; the port is the test server's instead of 8545.
      const command = (port: number) =>
        ((services.validator1.healthcheck?.test as string[])[3] as string)
          .replaceAll("$$", "$")
          .replace(`/dev/tcp/127.0.0.1/${RPC_HTTP_PORT}`, `/dev/tcp/127.0.0.1/${port}`);
      const runHealthcheck = (port: number) =>
        new Promise<number | null>((resolve) => {
          const child = spawn("bash", ["-c", command(port)], { stdio: "ignore" });
          const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
          child.once("exit", (code) => (clearTimeout(timer), resolve(code)));
        });
      /** Answers like Besu: 403 for a Host outside the allowlist, else `status` on /liveness. */
      const serve = async (status: number) => {
        const requests: { url?: string; host?: string }[] = [];
        const server = createServer((request, response) => {
          requests.push({ url: request.url, host: request.headers.host });
          const allowed = ["localhost", "127.0.0.1"].includes((request.headers.host ?? "").split(":")[0]);
          response.writeHead(!allowed ? 403 : request.url === "/liveness" ? status : 404);
          response.end(allowed ? '{"status":"UP"}' : '{"message":"Host not authorized."}');
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return { server, requests, port: (server.address() as AddressInfo).port };
      };

      it("succeeds when the node answers 200 on /liveness, asking with a Host the node accepts", async () => {
        const { server, requests, port } = await serve(200);
        try {
          expect(await runHealthcheck(port)).to.equal(0);
          expect(requests).to.deep.equal([{ url: "/liveness", host: "localhost" }]);
        } finally {
          server.close();
        }
      });

      it("fails when the node answers otherwise, or not at all", async () => {
        const { server, port } = await serve(503);
        try {
          expect(await runHealthcheck(port)).to.not.equal(0);
        } finally {
          await new Promise((resolve) => server.close(resolve));
        }
        expect(await runHealthcheck(port)).to.not.equal(0);
      });
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
        expect(checkEditedCompose(() => {}, { chainId: 31337 }).join("\n")).to.contain(
          "network-id 1337 is not the chain id 31337",
        );
      });

      it("an advertised address that is not the node's own", () => {
        const problems = checkEditedCompose((doc) =>
          doc.setIn([...validator, "environment", "BESU_P2P_HOST"], "172.16.240.99"),
        );
        expect(problems.join("\n")).to.contain("validator2: BESU_P2P_HOST 172.16.240.99 is not its address");
      });

      it("a node without a health check", () => {
        const problems = checkEditedCompose((doc) =>
          doc.setIn([...validator, "healthcheck"], doc.createNode({ test: ["NONE"] })),
        );
        expect(problems.join("\n")).to.contain("validator2: has no health check");
      });

      it("a health check asking with a Host header the node would refuse", () => {
        const problems = checkEditedCompose((doc) => {
          const test = doc.getIn(["x-besu-node", "healthcheck", "test"]) as { items: { value: string }[] };
          test.items[3].value = test.items[3].value.replace("Host: localhost", "Host: besu.example.org");
        });
        expect(problems.join("\n")).to.contain(
          "validator1: health check's Host header besu.example.org is not in config/validator.toml's host-allowlist",
        );
        expect(problems.join("\n")).to.contain("rpc1: health check's Host header besu.example.org");
      });

      it("a health check on a port the node does not serve", () => {
        const problems = checkEditedCompose(() => {}, {
          config: (role, text) => (role === "validator" ? setConfigLine(text, "rpc-http-port", "8550") : text),
        });
        expect(problems.join("\n")).to.contain("validator1: health check does not connect to 127.0.0.1:8550");
      });

      it("an RPC node that does not wait for healthy validators", () => {
        const problems = checkEditedCompose((doc) =>
          doc.setIn(["services", "rpc1", "depends_on", "validator3"], doc.createNode({ condition: "service_started" })),
        );
        expect(problems.join("\n")).to.contain("rpc1: depends_on validator3 must have condition service_healthy");
      });

      it("a config that leaves rpc-http-host to the image", () => {
        const problems = checkEditedCompose(() => {}, {
          config: (role, text) => (role === "rpc" ? setConfigLine(text, "rpc-http-host", undefined) : text),
        });
        expect(problems.join("\n")).to.contain(
          "rpc1: config/rpc.toml does not set rpc-http-host: the image's BESU_RPC_HTTP_HOST=0.0.0.0 would decide",
        );
      });

      it("a validator whose environment does not repeat its config's rpc-http-host", () => {
        const problems = checkEditedCompose((doc) => doc.deleteIn([...validator, "environment", "BESU_RPC_HTTP_HOST"]));
        expect(problems.join("\n")).to.contain(
          'validator2: environment BESU_RPC_HTTP_HOST (unset) is not config/validator.toml\'s rpc-http-host "127.0.0.1"',
        );
      });

      it("a validator listening on every interface of its container", () => {
        const problems = checkEditedCompose(
          (doc) => {
            for (const node of VALIDATORS)
              doc.setIn(["services", node.name, "environment", "BESU_RPC_HTTP_HOST"], "0.0.0.0");
          },
          { config: (role, text) => (role === "validator" ? setConfigLine(text, "rpc-http-host", '"0.0.0.0"') : text) },
        );
        expect(problems.join("\n")).to.contain(
          'validator2: config/validator.toml rpc-http-host "0.0.0.0" is not "127.0.0.1"',
        );
      });

      it("a validator serving the ETH namespace", () => {
        const problems = checkEditedCompose(() => {}, {
          config: (role, text) => (role === "validator" ? setConfigLine(text, "rpc-http-api", '["NET","ETH"]') : text),
        });
        expect(problems.join("\n")).to.contain("validator1: a validator must not serve the ETH namespace");
      });

      it("a wildcard host-allowlist, and one without the reverse proxy's Host", () => {
        const wildcard = checkEditedCompose(() => {}, {
          config: (role, text) => (role === "rpc" ? setConfigLine(text, "host-allowlist", '["*"]') : text),
        });
        expect(wildcard.join("\n")).to.contain('rpc1: config/rpc.toml host-allowlist accepts any Host header ("*")');
        const noLoopback = checkEditedCompose(() => {}, {
          config: (role, text) =>
            role === "rpc" ? setConfigLine(text, "host-allowlist", '["localhost","rpc1"]') : text,
        });
        expect(noLoopback.join("\n")).to.contain(
          "rpc1: config/rpc.toml host-allowlist does not list 127.0.0.1, the Host a reverse proxy on the host sends",
        );
      });

      it("an RPC node on Bonsai, which keeps no history for auditors", () => {
        const problems = checkEditedCompose(() => {}, {
          config: (role, text) => (role === "rpc" ? setConfigLine(text, "data-storage-format", '"BONSAI"') : text),
        });
        expect(problems.join("\n")).to.contain(
          'rpc1: config/rpc.toml data-storage-format "BONSAI" is not "FOREST": auditors query the state at past blocks',
        );
      });

      it("an allowlist switched off", () => {
        const problems = checkEditedCompose(() => {}, {
          config: (role, text) =>
            role === "validator" ? setConfigLine(text, "permissions-accounts-config-file-enabled", "false") : text,
        });
        expect(problems.join("\n")).to.contain(
          "validator1: config/validator.toml permissions-accounts-config-file-enabled must be true",
        );
      });

      it("a permissions file mounted read-only from the host (besu#2515)", () => {
        const problems = checkEditedCompose((doc) =>
          doc.setIn(
            [...validator, "volumes"],
            doc.createNode([
              "./config/validator.toml:/config/validator.toml:ro",
              "./network/genesis.json:/network/genesis.json:ro",
              "validator2-data:/opt/besu/data",
              "./network/permissions_config.toml:/opt/besu/data/permissions_config.toml:ro",
            ]),
          ),
        );
        expect(problems.join("\n")).to.match(
          /validator2: docker-compose\.yml mounts .*network\/permissions_config\.toml over \/opt\/besu\/data\/permissions_config\.toml: Besu must be able to write its permissions file \(besu#2515\)/,
        );
      });

      it("a permissions file installed for root, or read-only for its owner (besu#2515)", () => {
        const script = (doc: ReturnType<typeof parseDocument>) =>
          doc.getIn(["services", "node-keys", "command"]) as { items: { value: string }[] };
        const asRoot = checkEditedCompose((doc) => {
          const command = script(doc);
          command.items[0].value = command.items[0].value.replace(
            "install -o 1000 -g 1000 -m 0600 /network/permissions_config.toml",
            "install -m 0600 /network/permissions_config.toml",
          );
        });
        expect(asRoot.join("\n")).to.contain(
          "validator1: node-keys does not install network/permissions_config.toml into the data volume owned by uid 1000",
        );
        const readOnly = checkEditedCompose((doc) => {
          const command = script(doc);
          command.items[0].value = command.items[0].value.replace(
            "-m 0600 /network/permissions_config.toml",
            "-m 0400 /network/permissions_config.toml",
          );
        });
        expect(readOnly.join("\n")).to.contain(
          "rpc1: node-keys installs permissions_config.toml with mode 0400, which its owner cannot read and write",
        );
      });
    });
  });

  describe("generate-network.ts", () => {
    let dir: string;
    let out: string;
    let genesis: any;
    let sources: ReturnType<typeof writeSources>;

    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "datasafe-besu-"));
      out = path.join(dir, "network");
      sources = writeSources(dir);
      const run = generate(sources, "--out", out);
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
      const refused = generate(sources, "--out", out);
      expect(refused.status).to.not.equal(0);
      expect(refused.stderr).to.contain("already holds a network");
      expect(readFileSync(networkFiles(out).key("validator1"), "utf8")).to.equal(before);

      const forced = generate(sources, "--out", out, "--force");
      expect(forced.status, forced.stderr).to.equal(0);
      expect(readFileSync(networkFiles(out).key("validator1"), "utf8")).to.not.equal(before);
      expect(checkNetwork(out)).to.deep.equal([]);
    });

    it("allows the deployer, the role accounts and the organisations' accounts, each once, and every generated node", () => {
      const { accounts, nodes } = readPermissions(networkFiles(out).permissions);
      const expected = [
        sources.members.deployer,
        ...sources.members.organisations.flatMap((organisation) => organisation.accounts),
        ...Object.values(sources.roles),
        JSON.parse(readFileSync(sources.parametersFile, "utf8")).AdminHandover.newAdmin,
      ];
      expect(accounts).to.have.members([...new Set(expected)]);
      expect(accounts).to.have.length(new Set(expected).size);
      const generated = JSON.parse(readFileSync(networkFiles(out).nodes, "utf8")) as { enode: string }[];
      expect(nodes).to.deep.equal(generated.map((node) => node.enode));
      expect(checkNetwork(out, { sources })).to.deep.equal([]);
    });

    it("checks the allowlists' sources before writing anything, naming each file and entry", () => {
      const target = path.join(dir, "from-examples");
      const run = tsx(
        GENERATOR,
        "--out",
        target,
        "--parameters",
        path.join(PARAMETERS_DIR, "besu.example.json"),
        "--members",
        path.join(PARAMETERS_DIR, "besu-members.example.json"),
      );
      expect(run.status).to.equal(1);
      expect(run.stderr).to.match(/besu-members\.example\.json: deployer is not an address: "<deployer account/);
      expect(run.stderr).to.match(/besu-members\.example\.json: organisations\[1\]\.nodes\[0\] .*is not an enode URL/);
      expect(run.stderr).to.match(/besu\.example\.json: Permissions\.operator is not an address/);
      expect(existsSync(target)).to.equal(false);

      const missing = tsx(GENERATOR, "--out", target);
      expect(missing.status).to.equal(2);
      expect(missing.stderr).to.contain(
        "The accounts allowlist is built from the deployment parameters and the members file",
      );
    });

    it("refuses Hardhat's development accounts unless told the network is a rehearsal (--dev), and then warns", () => {
      const members = path.join(dir, "dev-members.json");
      writeFileSync(
        members,
        JSON.stringify({ deployer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", organisations: [] }),
      );
      const localBesu = { parametersFile: path.join(PARAMETERS_DIR, "localBesu.json"), membersFile: members };
      const refused = generate(localBesu, "--out", path.join(dir, "dev-refused"));
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.contain(
        `${members}: deployer 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 is Hardhat development account #0, whose private key is public`,
      );
      expect(refused.stderr).to.contain(
        "localBesu.json: Permissions.operator 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 is Hardhat development account #1",
      );
      const accepted = generate(localBesu, "--out", path.join(dir, "dev-accepted"), "--dev");
      expect(accepted.status, accepted.stderr).to.equal(0);
      expect(
        accepted.stderr.match(/⚠ .*Hardhat development account #\d, whose private key is public: allowed by --dev/g),
      ).to.have.length(5);
    });

    describe("onboarding an organisation", () => {
      let network: string;
      const bank = {
        name: "City Commercial Bank",
        accounts: [randomAccount(), randomAccount()],
        nodes: [randomEnode("203.0.113.10")],
      };
      const update = (...args: string[]) =>
        tsx(
          ALLOWLISTS,
          "--network",
          network,
          "--parameters",
          sources.parametersFile,
          "--members",
          sources.membersFile,
          ...args,
        );

      before(() => {
        network = path.join(dir, "onboarding");
        cpSync(out, network, { recursive: true });
        const members = JSON.parse(readFileSync(sources.membersFile, "utf8"));
        members.organisations.push(bank);
        writeFileSync(sources.membersFile, JSON.stringify(members, null, 2));
      });

      it("adds its accounts and node to both allowlists, keeps the previous file, and passes the checks", () => {
        const before = readFileSync(networkFiles(network).permissions, "utf8");
        const run = update();
        expect(run.status, run.stderr).to.equal(0);
        for (const account of bank.accounts) expect(run.stdout).to.contain(`+ account ${account}`);
        expect(run.stdout).to.contain(`+ node ${bank.nodes[0]}`);
        const { accounts, nodes } = readPermissions(networkFiles(network).permissions);
        expect(accounts).to.include.members(bank.accounts);
        expect(nodes).to.include(bank.nodes[0]);
        expect(readFileSync(networkFiles(network).previousPermissions, "utf8")).to.equal(before);
        expect(checkNetworkReport(network, { sources })).to.deep.equal({ problems: [], warnings: [] });
        const check = tsx(
          path.join("ops", "scripts", "check-compose.ts"),
          "--network",
          network,
          "--parameters",
          sources.parametersFile,
          "--members",
          sources.membersFile,
        );
        expect(check.status, check.stderr).to.equal(0);
      });

      it("fails the check while a named organisation is missing from the allowlists", () => {
        const members = JSON.parse(readFileSync(sources.membersFile, "utf8"));
        const school = {
          name: "No. 1 Middle School",
          accounts: [randomAccount()],
          nodes: [randomEnode("203.0.113.11")],
        };
        members.organisations.push(school);
        const membersFile = path.join(dir, "members-with-school.json");
        writeFileSync(membersFile, JSON.stringify(members));
        const problems = checkNetwork(network, { sources: { parametersFile: sources.parametersFile, membersFile } });
        expect(problems.join("\n")).to.contain(
          `accounts-allowlist does not list ${school.accounts[0]}, named in ${membersFile}`,
        );
        expect(problems.join("\n")).to.contain(
          `nodes-allowlist does not list ${school.nodes[0]}, named in ${membersFile}`,
        );
      });

      it("refuses to drop an account that has left the members file, and changes nothing (besu#1476)", () => {
        const current = readFileSync(networkFiles(network).permissions, "utf8");
        const members = JSON.parse(readFileSync(sources.membersFile, "utf8"));
        members.organisations.pop();
        const membersFile = path.join(dir, "members-without-bank.json");
        writeFileSync(membersFile, JSON.stringify(members));
        const run = tsx(
          ALLOWLISTS,
          "--network",
          network,
          "--parameters",
          sources.parametersFile,
          "--members",
          membersFile,
        );
        expect(run.status).to.equal(1);
        expect(run.stderr).to.contain(
          `refusing to remove ${bank.accounts[0]}, ${bank.accounts[1]} from the accounts allowlist`,
        );
        expect(run.stderr).to.contain("besu#1476").and.to.contain("suspend its member on chain");
        expect(readFileSync(networkFiles(network).permissions, "utf8")).to.equal(current);
      });

      it("warns about every account removed since the previous file, without failing", () => {
        const copy = path.join(dir, "removed");
        cpSync(network, copy, { recursive: true });
        const file = networkFiles(copy).permissions;
        // The bank's first account taken out by hand; the previous file is the one just written.
        cpSync(file, networkFiles(copy).previousPermissions);
        writeFileSync(file, readFileSync(file, "utf8").replace(`  "${bank.accounts[0]}",\n`, ""));
        const { problems, warnings } = checkNetworkReport(copy);
        expect(problems).to.deep.equal([]);
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.contain(`${bank.accounts[0]} was removed from accounts-allowlist`);
        expect(warnings[0]).to.contain("besu#1476").and.to.contain("suspend its member on chain");
      });
    });

    describe("the allowlist checks catch", () => {
      /** A copy of the generated network whose permissions file `edit` rewrites; its problems. */
      const checkEditedPermissions = (edit: (text: string) => string) => {
        const copy = mkdtempSync(path.join(dir, "edited-"));
        cpSync(out, copy, { recursive: true });
        const file = networkFiles(copy).permissions;
        writeFileSync(file, edit(readFileSync(file, "utf8")));
        return { file, problems: checkNetwork(copy) };
      };

      it("an account listed twice, in another case (besu#7138)", () => {
        const account = sources.members.deployer;
        const { file, problems } = checkEditedPermissions((text) =>
          text.replace("accounts-allowlist=[\n", `accounts-allowlist=[\n  "${account.toLowerCase()}",\n`),
        );
        expect(problems).to.have.length(1);
        expect(problems[0]).to.contain(`${file}: accounts-allowlist[1] ${account} duplicates accounts-allowlist[0]`);
        expect(problems[0]).to.contain("besu#7138");
      });

      it("a node listed twice (besu#7138)", () => {
        const first = JSON.parse(readFileSync(networkFiles(out).nodes, "utf8"))[0].enode as string;
        const { file, problems } = checkEditedPermissions((text) =>
          text.replace("nodes-allowlist=[\n", `nodes-allowlist=[\n  "${first}",\n`),
        );
        expect(problems.join("\n")).to.contain(`${file}: nodes-allowlist[1] duplicates nodes-allowlist[0]`);
      });

      it("a node named by host name, which Besu does not resolve", () => {
        const enode = randomEnode("203.0.113.12").replace("203.0.113.12", "bank-node.example.org");
        const { file, problems } = checkEditedPermissions((text) =>
          text.replace("nodes-allowlist=[\n", `nodes-allowlist=[\n  "${enode}",\n`),
        );
        expect(problems.join("\n")).to.contain(`${file}: nodes-allowlist[0]: ${enode} names its host by name`);
      });

      it("a bootnode missing from the nodes allowlist, and an account that is not an address", () => {
        const validator = JSON.parse(readFileSync(networkFiles(out).nodes, "utf8"))[1].enode as string;
        const { file, problems } = checkEditedPermissions((text) =>
          text
            .replace(`  "${validator}",\n`, "")
            .replace("accounts-allowlist=[\n", 'accounts-allowlist=[\n  "0x1234",\n'),
        );
        expect(problems.join("\n")).to.contain(
          `${file}: nodes-allowlist does not list validator2 (${validator}): it is every other node's bootnode`,
        );
        expect(problems.join("\n")).to.contain(`${file}: accounts-allowlist[0] "0x1234" is not an account address`);
      });

      it("an empty accounts allowlist, and a file that is missing", () => {
        const { file, problems } = checkEditedPermissions((text) =>
          text.replace(/accounts-allowlist=\[[^\]]*\]/, "accounts-allowlist=[]"),
        );
        expect(problems).to.deep.equal([`${file}: accounts-allowlist is empty: no account could send a transaction`]);
        const copy = mkdtempSync(path.join(dir, "missing-"));
        cpSync(out, copy, { recursive: true });
        rmSync(networkFiles(copy).permissions);
        expect(checkNetwork(copy).join("\n")).to.contain(
          "permissions_config.toml does not exist: run generate-network.ts or ops/besu/allowlists.ts",
        );
      });
    });

    it("never writes keys where git could pick them up", () => {
      // The default folder is ignored by ops/besu/.gitignore...
      const ignored = spawnSync("git", ["check-ignore", "-q", "--no-index", "ops/besu/network/validator1/key"], {
        cwd: ROOT,
      });
      expect(ignored.status, "ops/besu/network must be git-ignored").to.equal(0);
      // ...and any other folder of the work tree is refused before a key is written.
      const target = path.join("ops", "besu", `not-ignored-${process.pid}`);
      const refused = generate(sources, "--out", target);
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
      expect(problems.join("\n")).to.contain(
        "Permissions.operator is 0x70997970C51812dc3A010C7d01b50e0d17dc79C8, Hardhat development account #1: its private key is published with Hardhat",
      );
    });

    it("refusing the repository's own localBesu.json, the check says why and how to check a rehearsal file", () => {
      const run = tsx(path.join("ops", "scripts", "check-parameters.ts"), "deploy/parameters/localBesu.json");
      expect(run.status).to.equal(1);
      expect(run.stderr).to.contain(
        "✗ Permissions.regulator is 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65, Hardhat development account #4",
      );
      expect(run.stderr).to.contain(
        "deploy/parameters/localBesu.json names Hardhat's development accounts. That is right for the rehearsal on `hardhat node`",
      );
      expect(run.stderr).to.contain("check such a file with --dev");
    });

    it("with --dev, the check accepts development accounts with a warning each, for a development node only", () => {
      const run = tsx(path.join("ops", "scripts", "check-parameters.ts"), "--dev", "deploy/parameters/localBesu.json");
      expect(run.status, run.stderr).to.equal(0);
      expect(
        run.stderr.match(
          /^⚠ Permissions\.\w+ is 0x[0-9a-fA-F]{40}, Hardhat development account #\d: .*accepted by --dev, for a development node only$/gm,
        ),
      ).to.have.length(4);
      expect(run.stdout).to.contain(
        "deploy/parameters/localBesu.json is ready to deploy to a development node (`hardhat node`), never to a real network.",
      );
    });
  });
});
