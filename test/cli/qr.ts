/*
 * The QR flow on the embedded network: the counter's request written as a PNG by the CLI's QR
 * module, read back by a real decoder (jsQR over pngjs), parsed, checked against the chain and
 * signed by the holder's phone wallet; the approval travelling back as a QR and relayed. A counter
 * screen that shows anything other than the chain's request is refused with a typed error and
 * nothing is signed. And the QR versions of the largest realistic URIs, kept at or below 15 at M.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import { MAX_QR_VERSION, qrVersionOf, readQrPng, writeQrPng } from "../../cli/qr.js";
import { asCliError } from "../../cli/consent-args.js";
import { classify, EXIT } from "../../cli/errors.js";
import { DATA_TYPES, schemaOf } from "../../scripts/catalog.js";
import {
  type ApproveUri,
  InvalidInputError,
  RequestNotApprovableError,
  UriFormatError,
  UriMismatchError,
  approvalUri,
  approveUri,
  checkApproveUri,
  dataTypeTarget,
  fieldMask,
  parseApprovalUri,
  parseApproveUri,
  parseUri,
  parseVerifyUri,
  relayApprovalUri,
  signApproveUri,
  verifyUri,
} from "../../sdk/index.js";
import { DataType } from "../helpers/fixtures.js";
import { loadSdkFixture, thrown } from "../sdk/helpers.js";

const household = DATA_TYPES.find((t) => t.id === DataType.HouseholdRegister)!;
const householdFields = household.fields.map((f) => f.name);
const schemas = (dataType: number) => (dataType === household.id ? schemaOf(household) : undefined);
/** A long consumer name, as a branch of a Chinese bank registers itself: 26 characters, 78 bytes of UTF-8. */
const LONG_CHINESE_NAME = "中国工商银行股份有限公司济南历下支行个人信贷业务中心";

describe("cli: QR codes of datasafe URIs", function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "datasafe-qr-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The bank asks the phone holder for two fields of its household register and its housing-fund record. */
  async function requested(consumerName?: string) {
    const f = await loadSdkFixture();
    // The household register's schema is the seed catalog's document, so the phone can check field names.
    await (
      await f.clients.catalogAdmin.catalog.updateSchema(household.id, {
        schemaURI: "urn:datasafe:schema:household-register:1",
        schema: schemaOf(household),
      })
    ).wait();
    if (consumerName !== undefined) {
      await (await f.clients.memberAdmin.members.update({ account: f.actors.bank.address, name: consumerName })).wait();
    }
    const fields = fieldMask(householdFields, ["householdNumber", "district"]);
    const { requestId, request } = await (
      await f.clients.bank.consent.requestAccess({
        subjectId: f.phoneHolder,
        scope: "DataType",
        targets: [dataTypeTarget(f.actors.publicSecurity.address, DataType.HouseholdRegister)],
        fields,
        purpose: 1,
        grantDuration: 30 * 86_400,
        maxReads: 3,
      })
    ).wait();
    const shown: ApproveUri["shown"] = {
      consumerName: consumerName ?? "City Commercial Bank",
      purpose: 1,
      dataTypes: [DataType.HouseholdRegister],
      fields,
      fieldNames: ["householdNumber", "district"],
      grantDuration: 30 * 86_400,
      maxReads: 3,
    };
    const uri = approveUri({ chainId: 31337n, dataSafe: f.safe.address, requestId, shown });
    return { ...f, requestId, request, shown, uri, phoneClient: f.safe.connect(f.phone) };
  }

  it("test_approveQr_pngDecodedSignedRelayed_grantCarriesTheRequest", async () => {
    const f = await requested(LONG_CHINESE_NAME);
    const png = path.join(dir, "request.png");
    const version = await writeQrPng(png, f.uri);
    const scanned = await readQrPng(png);
    expect(scanned.text).to.equal(f.uri);
    expect(scanned.version).to.equal(version);
    expect(version).to.be.at.most(MAX_QR_VERSION);

    const checked = await checkApproveUri(f.safe, scanned.text, { schemas });
    expect(checked.request).to.deep.equal(f.request);
    expect(checked.shown.consumerName).to.equal(LONG_CHINESE_NAME);
    expect(checked.targets).to.deep.equal([
      {
        target: dataTypeTarget(f.actors.publicSecurity.address, DataType.HouseholdRegister),
        dataType: DataType.HouseholdRegister,
        dataTypeName: "household-register",
        issuer: f.actors.publicSecurity.address,
        issuerName: "Public Security Bureau",
      },
    ]);

    // The phone signs (no funds, no provider) and shows the approval as a QR code; the bank relays it.
    const { authorization, uri: approval } = await signApproveUri(f.safe, f.phone, checked);
    const approvalPng = path.join(dir, "approval.png");
    expect(await writeQrPng(approvalPng, approval)).to.be.at.most(MAX_QR_VERSION);
    const back = parseApprovalUri((await readQrPng(approvalPng)).text);
    expect(back.authorization).to.deep.equal(authorization);
    expect(back.requestId).to.equal(f.requestId);

    const { grants, requestId, receipt } = await (await relayApprovalUri(f.clients.bank, approval)).wait();
    expect(requestId).to.equal(f.requestId);
    expect(grants).to.have.length(1);
    expect(grants[0]).to.deep.include({
      key: {
        subjectId: f.phoneHolder,
        consumer: f.actors.bank.address,
        scope: "DataType",
        target: dataTypeTarget(f.actors.publicSecurity.address, DataType.HouseholdRegister),
        purpose: 1,
      },
      fields: f.request.fields,
      maxReads: 3,
      version: 1,
      requestId: f.requestId,
    });
    const block = await f.safe.runner.provider!.getBlock(receipt.blockNumber);
    expect(grants[0].expiresAt).to.equal(block!.timestamp + 30 * 86_400);
    expect(await f.safe.consent.requestStatus(f.requestId)).to.equal("Approved");
    expect(await f.safe.consent.getGrant(grants[0].grantId)).to.deep.include({
      status: "Active",
      reads: 0,
      maxReads: 3,
    });
    // A decided request is not signed again.
    const again = await thrown(() => checkApproveUri(f.safe, f.uri, { schemas }));
    expect(again).to.be.instanceOf(RequestNotApprovableError);
    expect((again as RequestNotApprovableError).status).to.equal("Approved");
  });

  for (const [part, tamper] of [
    ["purpose", (s: ApproveUri["shown"]) => ({ ...s, purpose: 2 })],
    ["consumerName", (s: ApproveUri["shown"]) => ({ ...s, consumerName: "City Bank of Trust" })],
    ["dataTypes", (s: ApproveUri["shown"]) => ({ ...s, dataTypes: [DataType.IdCard] })],
    ["fields", (s: ApproveUri["shown"]) => ({ ...s, fields: 1n, fieldNames: ["householdNumber"] })],
    ["fieldNames", (s: ApproveUri["shown"]) => ({ ...s, fieldNames: ["householdNumber", "relationToHead"] })],
    ["grantDuration", (s: ApproveUri["shown"]) => ({ ...s, grantDuration: 86_400 })],
    ["maxReads", (s: ApproveUri["shown"]) => ({ ...s, maxReads: 1 })],
  ] as const) {
    it(`test_approveQr_tampered_${part}_refusedAndNothingSigned`, async () => {
      const f = await requested();
      const png = path.join(dir, `tampered-${part}.png`);
      await writeQrPng(
        png,
        approveUri({ chainId: 31337n, dataSafe: f.safe.address, requestId: f.requestId, shown: tamper(f.shown) }),
      );
      const scanned = (await readQrPng(png)).text;
      let signed = false;
      const phone = {
        signTypedData: async (...args: Parameters<Wallet["signTypedData"]>) => {
          signed = true;
          return f.phone.signTypedData(...args);
        },
      };
      const error = await thrown(() => signApproveUri(f.safe, phone, scanned, { schemas }));
      expect(error).to.be.instanceOf(UriMismatchError);
      expect((error as UriMismatchError).part).to.equal(part);
      expect(signed).to.equal(false);
      expect(await f.safe.consent.requestStatus(f.requestId)).to.equal("Open");
      // The CLI reports it as a refusal (exit 3) naming the part.
      const classified = classify(asCliError(error, "--qr"));
      expect(classified.exitCode).to.equal(EXIT.refused);
      expect(classified.location.field).to.equal(part);
    });
  }

  it("test_approveQr_otherChainOrContract_refused", async () => {
    const f = await requested();
    const otherChain = { ...parseApproveUri(f.uri), chainId: 1n };
    expect(((await thrown(() => checkApproveUri(f.safe, otherChain, { schemas }))) as UriMismatchError).part).to.equal(
      "chainId",
    );
    const otherContract = { ...parseApproveUri(f.uri), dataSafe: f.actors.stranger.address };
    expect(
      ((await thrown(() => checkApproveUri(f.safe, otherContract, { schemas }))) as UriMismatchError).part,
    ).to.equal("dataSafe");
    const unknown = { ...parseApproveUri(f.uri), requestId: `0x${"11".repeat(32)}` };
    expect(((await thrown(() => checkApproveUri(f.safe, unknown))) as RequestNotApprovableError).status).to.equal(
      "None",
    );
  });

  it("test_approveQr_fieldNamesWithoutSchema_orWrongSigner_refusedBeforeSigning", async () => {
    const f = await requested();
    const noSchema = await thrown(() => checkApproveUri(f.safe, f.uri));
    expect(noSchema).to.be.instanceOf(InvalidInputError);
    expect((noSchema as InvalidInputError).field).to.equal("options.schemas");
    const wrongSchema = await thrown(() =>
      checkApproveUri(f.safe, f.uri, { schemas: () => ({ ...schemaOf(household), title: "forged" }) }),
    );
    expect((wrongSchema as InvalidInputError).field).to.equal("options.schemas");
    const notController = await thrown(() => signApproveUri(f.safe, Wallet.createRandom(), f.uri, { schemas }));
    expect((notController as InvalidInputError).field).to.equal("signer");
  });

  it("test_uri_largestRealisticContent_qrVersionAtMost15", () => {
    const dataSafe = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const id = `0x${"ab".repeat(32)}`;
    // Six data types, the whole record, a long Chinese name: the largest request a counter shows.
    const wide = approveUri({
      chainId: 2_147_483_647n,
      dataSafe,
      requestId: id,
      shown: {
        consumerName: LONG_CHINESE_NAME,
        purpose: 65_535,
        dataTypes: [1, 2, 5, 6, 8, 11],
        fields: 0n,
        fieldNames: [],
        grantDuration: 365 * 86_400,
        maxReads: 4_294_967_295,
      },
    });
    // One type, every field named (the household register's five, the longest names of the seed).
    const fields = approveUri({
      chainId: 2_147_483_647n,
      dataSafe,
      requestId: id,
      shown: {
        consumerName: LONG_CHINESE_NAME,
        purpose: 65_535,
        dataTypes: [1],
        fields: 0x1fn,
        fieldNames: householdFields,
        grantDuration: 365 * 86_400,
        maxReads: 4_294_967_295,
      },
    });
    const approval = approvalUri({
      chainId: 2_147_483_647n,
      dataSafe,
      requestId: id,
      authorization: { nonce: (1n << 256n) - 1n, deadline: 2n ** 40n - 1n, signature: `0x${"cd".repeat(65)}` },
    });
    const verify = verifyUri({
      chainId: 2_147_483_647n,
      dataSafe,
      key: { issuer: dataSafe, subjectId: id, dataType: 4_294_967_295, contentCommitment: id },
    });
    const versions = Object.fromEntries(
      Object.entries({ wide, fields, approval, verify }).map(([name, uri]) => [
        name,
        { bytes: Buffer.byteLength(uri), version: qrVersionOf(uri) },
      ]),
    );
    console.log(`      QR versions at M: ${JSON.stringify(versions)}`);
    for (const { version } of Object.values(versions)) expect(version).to.be.at.most(MAX_QR_VERSION);
    expect(parseUri(wide)).to.deep.include({ kind: "approve" });
    expect(parseVerifyUri(verify).key).to.deep.equal({
      issuer: dataSafe,
      subjectId: id,
      dataType: 4_294_967_295,
      contentCommitment: id,
    });
  });

  it("test_uri_malformed_typedErrorNamesThePart", () => {
    const good = approveUri({
      chainId: 1337n,
      dataSafe: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      requestId: `0x${"ab".repeat(32)}`,
      shown: {
        consumerName: "Bank & Co, 济南",
        purpose: 1,
        dataTypes: [1, 8],
        fields: 0n,
        fieldNames: [],
        grantDuration: 86_400,
        maxReads: 1,
      },
    });
    expect(parseApproveUri(good).shown.consumerName).to.equal("Bank & Co, 济南");
    const cases: [string, string][] = [
      [good.replace("datasafe:", "dataseif:"), "scheme"],
      [good.replace("datasafe:1/", "datasafe:2/"), "version"],
      [good.replace("/approve?", "/approvex?"), "kind"],
      [`${good}&x=1`, "x"],
      [`${good}&p=2`, "p"],
      [good.replace(/&m=1$/, ""), "m"],
      [good.replace(/r=[^&]+/, "r=AAAA"), "r"],
      [good.replace(/r=[^&]+/, "r=not*base64"), "r"],
      [good.replace(/ds=[^&]+/, "ds=q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s"), "ds"],
      [good.replace("t=1,8", "t=8,1"), "t"],
      [good.replace("t=1,8", "t=0"), "t[0]"],
      [good.replace("p=1", "p=65536"), "p"],
      [good.replace("p=1", "p=01"), "p"],
      [good.replace("d=86400", "d=0"), "d"],
      [good.replace(/c=[^&]+/, "c=%E4%B8"), "c"],
      [good.replace(/c=[^&]+/, "c=%20"), "c"],
      [`${good}&f=3`, "fn"],
      [`${good}&f=3&fn=a`, "fn"],
      [`${good}&f=0&fn=a`, "f"],
    ];
    for (const [uri, part] of cases) {
      let error: unknown;
      try {
        parseUri(uri);
      } catch (e) {
        error = e;
      }
      expect(error, uri).to.be.instanceOf(UriFormatError);
      expect((error as UriFormatError).part, uri).to.equal(part);
      expect(classify(asCliError(error, "--uri")).exitCode).to.equal(EXIT.badInput);
    }
  });
});
