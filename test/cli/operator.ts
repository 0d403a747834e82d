import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import {
  DataCatalog__factory,
  DataSafeAccessManager__factory,
  DataSafe__factory,
} from "../../typechain-types/index.js";
import { freePort } from "../helpers/processes.js";
import { ACCOUNT, CliHarness, ROOT, increaseTime } from "./harness.js";

/*
 * The operator's commands end to end: `datasafe operator deploy` against a `hardhat node` process,
 * then verify, members, catalog and delayed governance, each run as a child process; the chain's
 * state and events are read back after each.
 */
describe("cli: keys and operator", function () {
  this.timeout(600_000);
  const h = new CliHarness("cli-operator");
  const keystore: Record<string, string> = {};
  let parameters: string;
  let addresses: { manager: string; catalog: string; dataSafe: string };

  before(async () => {
    await h.start(false);
    for (const role of ["operator", "memberAdmin", "catalogAdmin", "regulator"] as const) {
      keystore[role] = await h.keystoreOf(ACCOUNT[role]);
    }
    const base = JSON.parse(readFileSync(path.join(ROOT, "deploy", "parameters", "localBesu.json"), "utf8"));
    // The operator's calls wait an hour: scheduled, visible, cancellable.
    parameters = h.file(
      "parameters.json",
      JSON.stringify({ Permissions: { ...base.Permissions, operatorDelay: 3600 } }),
    );
  });
  after(() => h.close());

  it("keys new writes a keystore only its password opens; keys address reads it; a wrong password exits 2", async () => {
    const out = h.file("new.json");
    const created = await h.run(["keys", "new", "--out", out, "--scrypt-n", "1024", "--json"]);
    expect(created.code).to.equal(0, created.stderr);
    const wallet = await Wallet.fromEncryptedJson(readFileSync(out, "utf8"), "cli-test-password");
    expect(wallet.address).to.equal(created.json.address);
    const shown = await h.run(["keys", "address", "--keystore", out, "--check", "--json"]);
    expect(shown.json).to.include({ address: wallet.address, checked: true });
    const wrong = await h.run(["keys", "address", "--keystore", out, "--check", "--json"], {
      DATASAFE_KEYSTORE_PASSWORD: "not-the-password",
    });
    expect(wrong.code).to.equal(2);
    expect(wrong.error.location.field).to.equal("password");
    const again = await h.run(["keys", "new", "--out", out, "--json"]);
    expect(again.code).to.equal(2);
    expect(again.error.location.field).to.equal("--out");
    const passwordFile = h.file("password.txt", "from-a-file-123\n");
    const fromFile = h.file("from-file.json");
    const made = await h.run(
      ["keys", "new", "--out", fromFile, "--scrypt-n", "1024", "--password-file", passwordFile, "--json"],
      { DATASAFE_KEYSTORE_PASSWORD: undefined },
    );
    expect(made.code).to.equal(0, made.stderr);
    expect((await Wallet.fromEncryptedJson(readFileSync(fromFile, "utf8"), "from-a-file-123")).address).to.equal(
      made.json.address,
    );
    const none = await h.run(["keys", "new", "--out", h.file("none.json")], { DATASAFE_KEYSTORE_PASSWORD: undefined });
    expect(none.code).to.equal(2);
    expect(none.stderr).to.match(/DATASAFE_KEYSTORE_PASSWORD/);
  });

  it("operator deploy runs Ignition with the parameter file; verify passes, and fails (exit 3) naming a delay that differs", async () => {
    const id = `cli-operator-${process.pid}-${Date.now()}`;
    const deployed = await h.run([
      "--rpc",
      h.url,
      "operator",
      "deploy",
      "--parameters",
      parameters,
      "--deployment-id",
      id,
      "--json",
    ]);
    expect(deployed.code).to.equal(0, deployed.stderr);
    h.deploymentDir = deployed.json.deploymentDir;
    expect(h.deploymentDir).to.equal(path.join(ROOT, "deploy", "deployments", id));
    addresses = deployed.json.addresses;
    for (const [name, account] of Object.entries(addresses)) {
      expect(await h.provider.getCode(account), name).to.not.equal("0x");
    }
    const verified = await h.run([...h.chain, "operator", "verify", "--parameters", parameters, "--json"]);
    expect(verified.code).to.equal(0, verified.stderr);
    expect(verified.json.ok).to.equal(true);
    expect(verified.json.checks.length).to.be.greaterThan(25);
    expect(verified.json.checks.filter((c: { check: string }) => c.check.startsWith("code "))).to.have.length(4);

    const otherFile = h.file(
      "other.json",
      readFileSync(path.join(ROOT, "deploy", "parameters", "localBesu.json"), "utf8"),
    );
    const mismatch = await h.run([...h.chain, "operator", "verify", "--parameters", otherFile, "--json"]);
    expect(mismatch.code).to.equal(3);
    const failed = mismatch.json.checks.filter((c: { ok: boolean }) => !c.ok);
    expect(failed).to.deep.equal([{ check: "role OPERATOR execution delay", expected: 0, actual: 3600, ok: false }]);
    expect(mismatch.error.message).to.match(/1 of \d+ checks failed: role OPERATOR execution delay/);
  });

  it("member add, update, suspend, reinstate change the directory and emit their events; refusals exit 3, bad input exits 2 sending nothing", async () => {
    const bank = Wallet.createRandom().address;
    const core = DataSafe__factory.connect(addresses.dataSafe, h.provider);
    const added = await h.run([
      ...h.chain,
      "--keystore",
      keystore.memberAdmin,
      "operator",
      "member",
      "add",
      "--account",
      bank,
      "--kind",
      "Consumer",
      "--name",
      "Bank of Jinan",
      "--json",
    ]);
    expect(added.code).to.equal(0, added.stderr);
    const receipt = await h.provider.getTransactionReceipt(added.json.transaction);
    const event = receipt!.logs.map((log) => core.interface.parseLog(log)).find((e) => e?.name === "MemberRegistered");
    expect(event?.args.account).to.equal(bank);
    expect(event?.args.name).to.equal("Bank of Jinan");
    expect((await core.getMember(bank)).status).to.equal(1n);

    const twice = await h.run([
      ...h.chain,
      "--keystore",
      keystore.memberAdmin,
      "operator",
      "member",
      "add",
      "--account",
      bank,
      "--kind",
      "Consumer",
      "--name",
      "again",
      "--json",
    ]);
    expect(twice.code).to.equal(3);
    expect(twice.error.kind).to.equal("Refused");
    expect(twice.error.revert.errorName).to.equal("MemberAlreadyRegistered");

    const notAdmin = await h.run([
      ...h.chain,
      "--keystore",
      keystore.catalogAdmin,
      "operator",
      "member",
      "update",
      "--account",
      bank,
      "--name",
      "x",
      "--json",
    ]);
    expect(notAdmin.code).to.equal(3);
    expect(notAdmin.error.revert.errorName).to.equal("AccessManagedUnauthorized");

    const memberAdmin = h.account(ACCOUNT.memberAdmin).address;
    const nonce = await h.provider.getTransactionCount(memberAdmin);
    const badAddress = await h.run([
      ...h.chain,
      "--keystore",
      keystore.memberAdmin,
      "operator",
      "member",
      "add",
      "--account",
      "0x1234",
      "--kind",
      "Consumer",
      "--name",
      "x",
      "--json",
    ]);
    expect(badAddress.code).to.equal(2);
    expect(badAddress.error.location.field).to.equal("--account");
    const badKind = await h.run([
      ...h.chain,
      "--keystore",
      keystore.memberAdmin,
      "operator",
      "member",
      "add",
      "--account",
      bank,
      "--kind",
      "Bank",
      "--name",
      "x",
      "--json",
    ]);
    expect(badKind.code).to.equal(2);
    expect(badKind.error.location.field).to.equal("--kind");
    expect(await h.provider.getTransactionCount(memberAdmin)).to.equal(nonce);

    const updated = await h.run([
      ...h.chain,
      "--keystore",
      keystore.memberAdmin,
      "operator",
      "member",
      "update",
      "--account",
      bank,
      "--name",
      "Bank of Jinan Co.",
      "--metadata-uri",
      "https://bank.example/member",
      "--json",
    ]);
    expect(updated.code).to.equal(0, updated.stderr);
    expect((await core.getMember(bank)).name).to.equal("Bank of Jinan Co.");

    const suspended = await h.run([
      ...h.chain,
      "--keystore",
      keystore.regulator,
      "operator",
      "member",
      "suspend",
      "--account",
      bank,
      "--reason",
      "2",
      "--json",
    ]);
    expect(suspended.code).to.equal(0, suspended.stderr);
    expect((await core.getMember(bank)).status).to.equal(2n);
    const shown = await h.run([...h.chain, "operator", "member", "show", bank, "--json"]);
    expect(shown.json).to.include({ account: bank, kind: "Consumer", status: "Suspended", name: "Bank of Jinan Co." });
    const reinstated = await h.run([
      ...h.chain,
      "--keystore",
      keystore.regulator,
      "operator",
      "member",
      "reinstate",
      "--account",
      bank,
      "--json",
    ]);
    expect(reinstated.code).to.equal(0, reinstated.stderr);
    expect((await core.getMember(bank)).status).to.equal(1n);
  });

  it("catalog import defines types and authorises issuers, skips what is on chain, and names the field of a bad file", async () => {
    const department = Wallet.createRandom().address;
    const added = await h.run([
      ...h.chain,
      "--keystore",
      keystore.memberAdmin,
      "operator",
      "member",
      "add",
      "--account",
      department,
      "--kind",
      "Department",
      "--name",
      "Public Security Bureau",
    ]);
    expect(added.code).to.equal(0, added.stderr);
    const file = h.file(
      "catalog.yaml",
      [
        "dataTypes:",
        "  - id: 1",
        "    name: household-register",
        "    schemaURI: https://schemas.example/household-register.json",
        "    schema: { fields: [householdNumber, district] }",
        `    issuers: ["${department}"]`,
        "  - id: 2",
        "    name: id-card",
        "    schemaURI: https://schemas.example/id-card.json",
        `    schemaHash: "0x${"ab".repeat(32)}"`,
        "",
      ].join("\n"),
    );
    const imported = await h.run([
      ...h.chain,
      "--keystore",
      keystore.catalogAdmin,
      "operator",
      "catalog",
      "import",
      file,
      "--json",
    ]);
    expect(imported.code).to.equal(0, imported.stderr);
    expect(imported.json).to.deep.equal([
      { dataType: 1, action: "defined" },
      { dataType: 1, action: "authorised", issuer: department },
      { dataType: 2, action: "defined" },
    ]);
    const catalog = DataCatalog__factory.connect(addresses.catalog, h.provider);
    expect((await catalog.getDataType(2)).schemaHash).to.equal(`0x${"ab".repeat(32)}`);
    expect(await catalog.isAuthorisedIssuer(1, department)).to.equal(true);
    const again = await h.run([
      ...h.chain,
      "--keystore",
      keystore.catalogAdmin,
      "operator",
      "catalog",
      "import",
      file,
      "--json",
    ]);
    expect(again.json.map((r: { action: string }) => r.action)).to.deep.equal([
      "already defined",
      "already authorised",
      "already defined",
    ]);

    const bad = h.file(
      "bad.json",
      JSON.stringify({ dataTypes: [{ id: 3, name: "x", schemaURI: "u", schema: {}, issuers: ["0xnope"] }] }),
    );
    const refused = await h.run([
      ...h.chain,
      "--keystore",
      keystore.catalogAdmin,
      "operator",
      "catalog",
      "import",
      bad,
      "--json",
    ]);
    expect(refused.code).to.equal(2);
    expect(refused.error.location.field).to.equal("dataTypes[0].issuers[0]");
    expect((await catalog.getDataType(3)).status).to.equal(0n);
  });

  it("governance schedules a delayed call, lists it, refuses it early (exit 3), executes it after the delay and cancels another", async () => {
    const manager = DataSafeAccessManager__factory.connect(addresses.manager, h.provider);
    const core = DataSafe__factory.connect(addresses.dataSafe, h.provider);
    const asOperator = [...h.chain, "--keystore", keystore.operator];
    const direct = await h.run([
      ...asOperator,
      "operator",
      "governance",
      "schedule",
      "--target",
      "nowhere",
      "--function",
      "setRecoveryDelay",
      "--json",
    ]);
    expect(direct.code).to.equal(2);
    expect(direct.error.location.field).to.equal("--target");

    const scheduled = await h.run([
      ...asOperator,
      "operator",
      "governance",
      "schedule",
      "--target",
      "core",
      "--function",
      "setRecoveryDelay",
      "--args",
      "[7200]",
      "--json",
    ]);
    expect(scheduled.code).to.equal(0, scheduled.stderr);
    const { operationId } = scheduled.json;
    const [event] = await manager.queryFilter(manager.filters.OperationScheduled(operationId));
    expect(event.args.caller).to.equal(h.account(ACCOUNT.operator).address);
    expect(event.args.target).to.equal(addresses.dataSafe);
    expect(event.args.data).to.equal(core.interface.encodeFunctionData("setRecoveryDelay", [7200]));

    const listed = await h.run([...h.chain, "operator", "governance", "list", "--json"]);
    expect(listed.json.find((op: { operationId: string }) => op.operationId === operationId).state).to.equal("pending");
    const early = await h.run([...asOperator, "operator", "governance", "execute", operationId, "--json"]);
    expect(early.code).to.equal(3);
    expect(early.error.message).to.match(/AccessManagerNotReady/);

    await increaseTime(h.provider, 3601);
    const executed = await h.run([...asOperator, "operator", "governance", "execute", operationId, "--json"]);
    expect(executed.code).to.equal(0, executed.stderr);
    expect(await core.recoveryDelay()).to.equal(7200n);
    const [done] = await manager.queryFilter(manager.filters.OperationExecuted(operationId));
    expect(done.args.nonce).to.equal(BigInt(scheduled.json.nonce));

    const second = await h.run([
      ...asOperator,
      "operator",
      "governance",
      "schedule",
      "--target",
      "core",
      "--function",
      "setRecoveryDelay",
      "--args",
      "[9000]",
      "--json",
    ]);
    const cancelled = await h.run([
      ...asOperator,
      "operator",
      "governance",
      "cancel",
      second.json.operationId,
      "--json",
    ]);
    expect(cancelled.code).to.equal(0, cancelled.stderr);
    const after = await h.run([...h.chain, "operator", "governance", "list", "--json"]);
    expect(after.json.map((op: { state: string }) => op.state)).to.deep.equal(["executed", "cancelled"]);
    expect(await core.recoveryDelay()).to.equal(7200n);
  });

  it("operator besu generate writes the network files with the generator's options, and exits 2 when the generator refuses", async () => {
    const members = h.file("besu-members.json", JSON.stringify({ deployer: h.account(0).address, organisations: [] }));
    const params = path.join(ROOT, "deploy", "parameters", "localBesu.json");
    const out = path.join(h.dir, "besu-network");
    const refused = await h.run([
      "operator",
      "besu",
      "generate",
      "--parameters",
      params,
      "--members",
      members,
      "--out",
      out,
    ]);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.match(/Hardhat development account #0, whose private key is public/);
    const generated = await h.run([
      "operator",
      "besu",
      "generate",
      "--parameters",
      params,
      "--members",
      members,
      "--out",
      out,
      "--dev",
    ]);
    expect(generated.code).to.equal(0, generated.stderr);
    const genesis = JSON.parse(readFileSync(path.join(out, "genesis.json"), "utf8"));
    expect(genesis.config.chainId).to.equal(1337);
  });

  it("a config file is validated naming the field; an unreachable node exits 4", async () => {
    const bad = h.file("bad-config.yaml", "rpcUrl: ftp://example\n");
    const invalid = await h.run([
      "--config",
      bad,
      "operator",
      "member",
      "show",
      Wallet.createRandom().address,
      "--json",
    ]);
    expect(invalid.code).to.equal(2);
    expect(invalid.error.location).to.include({ field: "config.rpcUrl" });
    const unknown = h.file("unknown.json", JSON.stringify({ rpcUrl: h.url, rpcURL: "x" }));
    const typo = await h.run([
      "--config",
      unknown,
      "operator",
      "member",
      "show",
      Wallet.createRandom().address,
      "--json",
    ]);
    expect(typo.code).to.equal(2);
    expect(typo.error.message).to.match(/rpcURL/);
    const good = h.file("good.json", JSON.stringify({ rpcUrl: h.url, chainId: 1337, deployment: h.deploymentDir }));
    const shown = await h.run([
      "--config",
      good,
      "operator",
      "member",
      "show",
      h.account(ACCOUNT.operator).address,
      "--json",
    ]);
    expect(shown.code).to.equal(0, shown.stderr);
    expect(shown.json.status).to.equal("None");
    const wrongChain = h.file("chain.json", JSON.stringify({ rpcUrl: h.url, chainId: 1, deployment: h.deploymentDir }));
    const mismatch = await h.run([
      "--config",
      wrongChain,
      "operator",
      "member",
      "show",
      h.account(1).address,
      "--json",
    ]);
    expect(mismatch.code).to.equal(2);
    expect(mismatch.error.location.field).to.equal("config.chainId");
    const down = await h.run([
      "--rpc",
      `http://127.0.0.1:${await freePort()}`,
      "verifier",
      "verify",
      `0x${"11".repeat(32)}`,
      "--json",
    ]);
    expect(down.code).to.equal(4);
    expect(down.error.kind).to.equal("Failure");
  });
});
