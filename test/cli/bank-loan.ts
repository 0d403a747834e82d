/*
 * The bank-loan story with `datasafe` commands only, each a child process against a `hardhat node`
 * process (the besuLike network, free gas like a Besu network) with the suite deployed by Ignition:
 * the operator onboards the members and the catalog, an identity authority registers the holder,
 * the housing-fund centre issues the record, the bank's counter shows a request as a QR PNG, the
 * holder's phone scans the PNG, checks it against the chain and signs (paying nothing), the bank
 * scans the approval back and relays it, reads, reports the outcome; the holder sees who read its
 * data and the auditor the trail. Around it: a tampered QR refused, bad input named, and the
 * holder's other commands (grant, revoke, key, recovery, hand-over).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { HDNodeWallet, Wallet, hexlify, keccak256, randomBytes, toUtf8Bytes } from "ethers";

import { encryptKey } from "../../cli/keystore.js";
import { DATA_TYPES, schemaOf, schemaURIOf } from "../../scripts/catalog.js";
import {
  DataSafeClient,
  approveUri,
  commitRecord,
  dataTypeTarget,
  fieldMask,
  parseApproveUri,
} from "../../sdk/index.js";
import { type HardhatNode, ProcessSet, ROOT, deploySuite, startHardhatNode } from "../helpers/processes.js";

const MNEMONIC = "test test test test test test test test test test test junk";
const keyOf = (i: number) => HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey;
const PASSWORD = "test-password-not-secret";
const housingFund = DATA_TYPES.find((t) => t.id === 8)!;
const BANK_NAME = "济南农村商业银行股份有限公司历下支行";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe("cli: the bank-loan story with datasafe commands", function () {
  this.timeout(300_000);
  const processes = new ProcessSet("cli-bank-loan");
  const deploymentId = `cli-bank-loan-${process.pid}`;
  let node: HardhatNode;
  let dir: string;
  let safe: DataSafeClient;
  const keystores: Record<string, string> = {};
  const accounts: Record<string, string> = {};
  const subjectId = keccak256(toUtf8Bytes(`cli-bank-loan-holder-${hexlify(randomBytes(8))}`));

  /** Runs `datasafe args` as a child process with the node, the deployment and free gas. */
  function datasafe(args: string[], as?: string): Promise<Run> {
    const global = ["--rpc", node.url, "--deployment", path.join(ROOT, "deploy", "deployments", deploymentId)];
    const signing = as === undefined ? [] : ["--keystore", keystores[as]];
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [path.join(ROOT, "cli", "bin", "datasafe.mjs"), ...args, ...global, ...signing, "--gas-price", "0"],
        { cwd: dir, env: { ...process.env, DATASAFE_KEYSTORE_PASSWORD: PASSWORD }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
      child.once("error", reject);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) });
      });
    });
  }

  /** Runs a command that must succeed; returns its JSON output. */
  async function ok(args: string[], as?: string) {
    const run = await datasafe([...args, "--json"], as);
    expect(run.code, `datasafe ${args.join(" ")}\n${run.stderr}`).to.equal(0);
    return run.json();
  }

  before(async function () {
    // A cold `ignition deploy` compiles the production profile first: minutes on a loaded machine.
    this.timeout(900_000);
    dir = mkdtempSync(path.join(tmpdir(), "datasafe-cli-bank-loan-"));
    node = await startHardhatNode((name, args, env) => processes.start("npx", args, processes.logFile(name), env));
    const deployment = await deploySuite(
      (name, args, env) => processes.start("npx", args, processes.logFile(name), env),
      node.url,
      deploymentId,
    );
    // The localBesu parameters' roles are default accounts 1-4; the others act as members; the phone is new.
    const roles = { memberAdmin: 2, catalogAdmin: 3, regulator: 4, authority: 5, department: 6, bank: 7 };
    for (const [name, index] of Object.entries(roles)) {
      const wallet = new Wallet(keyOf(index));
      accounts[name] = wallet.address;
      keystores[name] = path.join(dir, `${name}.json`);
      writeFileSync(keystores[name], await encryptKey(wallet.privateKey, wallet.address, PASSWORD, 1024));
    }
    const phone = Wallet.createRandom();
    accounts.phone = phone.address;
    keystores.phone = path.join(dir, "phone.json");
    writeFileSync(keystores.phone, await encryptKey(phone.privateKey, phone.address, PASSWORD, 1024));
    safe = await DataSafeClient.fromDeployment(deployment.deploymentDir, node.provider);
  });

  after(async () => {
    await node?.stop();
    await processes.stopAll();
    rmSync(path.join(ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("test_bankLoan_requestByQrPng_approvedByScanning_readAndOutcome_inUsageAndTrail", async () => {
    // The operator onboards the members and the catalog.
    for (const [name, kind, display] of [
      ["authority", "IdentityAuthority", "Jinan Identity Authority"],
      ["department", "Department", "住房公积金管理中心"],
      ["bank", "Consumer", BANK_NAME],
    ] as const) {
      await ok(
        ["operator", "member", "add", "--account", accounts[name], "--kind", kind, "--name", display],
        "memberAdmin",
      );
    }
    const catalogFile = path.join(dir, "catalog.json");
    writeFileSync(
      catalogFile,
      JSON.stringify({
        dataTypes: [
          {
            id: housingFund.id,
            name: housingFund.name,
            schemaURI: schemaURIOf(housingFund),
            schema: schemaOf(housingFund),
            issuers: [accounts.department],
          },
        ],
      }),
    );
    await ok(["operator", "catalog", "import", catalogFile], "catalogAdmin");

    // The identity authority registers the holder; the housing-fund centre returns its record.
    await ok(["holder", "register", "--subject", subjectId, "--controller", accounts.phone], "authority");
    const { commitment } = commitRecord({ accountNumber: "TEST-HF-9", balance: 86_400, paidUntil: "2026-11" });
    const rows = path.join(dir, "fund.csv");
    writeFileSync(
      rows,
      `subjectId,dataType,contentCommitment,payloadPointer,validUntil,issuer\n${subjectId},8,${commitment},,,\n`,
    );
    expect(await ok(["department", "issue", "--from", rows, "--no-progress"], "department")).to.deep.include({
      issued: 1,
      total: 1,
    });
    const assets = await ok(["holder", "assets", "--subject", subjectId]);
    expect(assets).to.have.length(1);
    expect(assets[0]).to.deep.include({ status: "Valid", valid: true, dataTypeName: housingFund.name });

    // The bank's counter: a request for two fields, shown as a QR code in a PNG.
    const requestPng = path.join(dir, "request.png");
    const requested = await ok(
      [
        "consumer",
        "request",
        "--subject",
        subjectId,
        "--data-type",
        "8",
        "--purpose",
        "1",
        "--duration",
        "30d",
        "--max-reads",
        "2",
        "--fields",
        "accountNumber,balance",
        "--png",
        requestPng,
      ],
      "bank",
    );
    expect(requested.qrVersion).to.be.within(1, 15);
    const shown = parseApproveUri(requested.uri).shown;
    expect(shown).to.deep.include({ consumerName: BANK_NAME, purpose: 1, dataTypes: [8], maxReads: 2 });
    expect(shown.fieldNames).to.deep.equal(["accountNumber", "balance"]);

    // A counter screen that lies about the purpose is refused (exit 3), naming it; nothing is signed.
    const forged = approveUri({ ...parseApproveUri(requested.uri), shown: { ...shown, purpose: 3 } });
    const refused = await datasafe(["holder", "approve", "--uri", forged, "--json"], "phone");
    expect(refused.code, refused.stderr).to.equal(3);
    expect(JSON.parse(refused.stderr).error).to.deep.include({ kind: "Refused", name: "RefusedError" });
    expect(JSON.parse(refused.stderr).error.location.field).to.equal("purpose");
    // A URI of another version is bad input (exit 2).
    const badVersion = await datasafe(["holder", "approve", "--uri", requested.uri.replace(":1/", ":2/")], "phone");
    expect(badVersion.code).to.equal(2);
    expect(badVersion.stderr).to.match(/version/);
    expect(await safe.consent.requestStatus(requested.requestId)).to.equal("Open");

    // The holder's phone scans the PNG, checks it against the chain, shows it and signs; it has no funds.
    const approvalPng = path.join(dir, "approval.png");
    const approveRun = await datasafe(["holder", "approve", "--qr", requestPng, "--png", approvalPng], "phone");
    expect(approveRun.code, approveRun.stderr).to.equal(0);
    // What the person reads before signing, every line from the chain.
    expect(approveRun.stderr).to.include(`${BANK_NAME} (${accounts.bank}) asks for:`);
    expect(approveRun.stderr).to.include("personal-housing-fund (type 8) issued by 住房公积金管理中心");
    expect(approveRun.stderr).to.include("fields:   accountNumber, balance");
    expect(approveRun.stderr).to.include("for:      30 day(s) from approval, 2 read(s) per record");
    expect(approveRun.stdout).to.match(/Signed\. Show this to the counter .*: datasafe:1\/approval\?/);
    expect(await node.provider.getBalance(accounts.phone)).to.equal(0n);

    // The bank scans the approval back and relays it: one grant, with the request's content.
    const relayed = await ok(["consumer", "relay", "--qr", approvalPng], "bank");
    expect(relayed.grants).to.have.length(1);
    expect(relayed.grants[0]).to.deep.include({
      key: {
        subjectId,
        consumer: accounts.bank,
        scope: "DataType",
        target: dataTypeTarget(accounts.department, 8),
        purpose: 1,
      },
      fields: fieldMask(
        housingFund.fields.map((f) => f.name),
        ["accountNumber", "balance"],
      ).toString(),
      maxReads: 2,
      requestId: requested.requestId,
    });
    expect(await safe.consent.requestStatus(requested.requestId)).to.equal("Approved");

    // The bank reads (one field) and reports the outcome.
    const read = await ok(
      ["consumer", "read", "--subject", subjectId, "--data-type", "8", "--purpose", "1", "--fields", "balance"],
      "bank",
    );
    expect(read).to.deep.include({ readNumber: 1, maxReads: 2, grantId: relayed.grants[0].grantId });
    const outcome = await ok(
      ["consumer", "outcome", "--subject", subjectId, "--access", read.accessId, "--outcome", "1"],
      "bank",
    );
    expect(outcome).to.deep.include({ accessId: read.accessId, outcome: 1 });
    expect(await safe.accessLog.outcomeOf(read.accessId)).to.equal(1);

    // The holder sees who read its data; the bank its own reads; the auditor the trail.
    const usage = await ok(["holder", "usage", "--subject", subjectId]);
    expect(usage).to.have.length(1);
    expect(usage[0]).to.deep.include({
      accessId: read.accessId,
      consumerName: BANK_NAME,
      dataTypeName: housingFund.name,
      purpose: 1,
      readNumber: 1,
      maxReads: 2,
      outcome: 1,
      requestId: requested.requestId,
    });
    const reads = await ok(["consumer", "reads", "--subject", subjectId], "bank");
    expect(reads.map((r: { accessId: string }) => r.accessId)).to.deep.equal([read.accessId]);
    const trail = await ok(["auditor", "trail", "--holder", subjectId]);
    expect(JSON.stringify(trail)).to.include(read.accessId);
    const requests = await ok(["holder", "requests", "--subject", subjectId]);
    expect(requests.map((r: { status: string }) => r.status)).to.deep.equal(["Approved"]);
  });

  it("test_holderCommands_grantRevokeKeyRecoveryHandover_changeChainState", async () => {
    // Runs after the story: the holder, its record and the bank exist.
    const granted = await ok(
      [
        "holder",
        "grant",
        "--subject",
        subjectId,
        "--consumer",
        accounts.bank,
        "--data-type",
        "8",
        "--purpose",
        "3",
        "--duration",
        "1d",
      ],
      "phone",
    );
    const grantId = granted.grantIds[0];
    expect((await safe.consent.getGrant(grantId)).status).to.equal("Active");
    expect(await ok(["holder", "revoke", "--subject", subjectId, "--grant", grantId], "phone")).to.deep.include({
      grantId,
    });
    expect((await safe.consent.getGrant(grantId)).status).to.equal("Revoked");

    const publicKey = hexlify(randomBytes(32));
    await ok(
      ["holder", "key", "set", "--subject", subjectId, "--suite", "X25519Hpke", "--public-key", publicKey],
      "phone",
    );
    expect(await ok(["holder", "key", "show", "--subject", subjectId])).to.deep.include({
      suite: "X25519Hpke",
      publicKey,
    });

    // A lost phone: the identity authority starts a recovery, the holder cancels it, then hands over itself.
    const newPhone = Wallet.createRandom().address;
    const started = await ok(
      ["holder", "recovery", "start", "--subject", subjectId, "--new-controller", newPhone],
      "authority",
    );
    expect(started.executableAt).to.be.a("number");
    expect(await ok(["holder", "recovery", "status", "--subject", subjectId])).to.deep.include({
      newController: newPhone,
    });
    await ok(["holder", "recovery", "cancel", "--subject", subjectId], "phone");
    expect(await safe.subjects.pendingRecovery(subjectId)).to.equal(undefined);
    await ok(["holder", "handover", "--subject", subjectId, "--to", newPhone], "phone");
    expect((await safe.subjects.get(subjectId)).controller).to.equal(newPhone);
    // The old phone has lost all power: its approval of an open request is refused before signing.
    const late = await ok(
      ["consumer", "request", "--subject", subjectId, "--data-type", "8", "--purpose", "1", "--duration", "1d"],
      "bank",
    );
    const refused = await datasafe(["holder", "approve", "--uri", late.uri, "--json"], "phone");
    expect(refused.code).to.equal(2);
    expect(JSON.parse(refused.stderr).error.location.field).to.equal("signer");

    // Bad input is named and sends nothing.
    const bad = await datasafe(
      ["consumer", "request", "--subject", "0x12", "--data-type", "8", "--purpose", "1", "--duration", "1d"],
      "bank",
    );
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("--subject");
    const badDuration = await datasafe(
      ["consumer", "request", "--subject", subjectId, "--data-type", "8", "--purpose", "1", "--duration", "soon"],
      "bank",
    );
    expect(badDuration.code).to.equal(2);
    expect(badDuration.stderr).to.include("--duration");
  });
});
