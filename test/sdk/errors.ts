import { expect } from "chai";
import { AbiCoder, ZeroHash, id, makeError, toBeHex, zeroPadValue } from "ethers";

import {
  AccessDeniedError,
  ContractRevertedError,
  DataSafeError,
  InvalidInputError,
  PendingTransaction,
  SignatureRefusedError,
  SignerRequiredError,
  TransactionFailedError,
  UnknownRevertError,
  dataTypeTarget,
  decodeRevert,
  decodeRevertData,
  grantIdOf,
} from "../../sdk/index.js";
import { CITIZEN, DataType, ethers, random32 } from "../helpers/fixtures.js";
import { Purpose, loadSdkFixture, now, thrown } from "./helpers.js";

describe("sdk: typed errors", () => {
  it("test_recordAccess_exhaustedGrant_throwsAccessDeniedWithReason", async () => {
    const { clients, actors, assets } = await loadSdkFixture();
    const assetId = assets.citizenFund.assetId;
    await (
      await clients.citizen.consent.grant({
        subjectId: CITIZEN,
        consumers: [actors.bank.address],
        targets: [assetId],
        purpose: Purpose.Loan,
        expiresAt: (await now()) + 3600,
        maxReads: 1,
      })
    ).wait();
    const read = { asset: assets.citizenFund.key, purpose: Purpose.Loan };
    await (await clients.bank.accessLog.recordAccess(read)).wait();

    const error = await thrown(async () => (await clients.bank.accessLog.recordAccess(read)).wait());

    expect(error).to.be.instanceOf(AccessDeniedError);
    expect(error).to.be.instanceOf(ContractRevertedError);
    expect(error).to.be.instanceOf(DataSafeError);
    const denied = error as AccessDeniedError;
    const grantId = grantIdOf({
      subjectId: CITIZEN,
      consumer: actors.bank.address,
      scope: "Asset",
      target: assetId,
      purpose: Purpose.Loan,
    });
    expect(denied.errorName).to.equal("AccessDenied");
    expect(denied.args).to.deep.equal({ grantId, assetId, reason: "GrantExhausted" });
    expect(denied.reason).to.equal("GrantExhausted");
    expect(denied.signature).to.equal("AccessDenied(bytes32,bytes32,uint8)");
    expect(denied.action).to.equal("recordAccess");
    expect(denied.shortMessage).to.match(/^recordAccess reverted with AccessDenied\(/);
    expect(denied.data.slice(0, 10)).to.equal(id("AccessDenied(bytes32,bytes32,uint8)").slice(0, 10));
    expect(denied.cause).to.not.equal(undefined);
  });

  it("test_recordAccess_withoutGrant_reasonNoGrant", async () => {
    const { clients, assets } = await loadSdkFixture();
    const error = await thrown(async () =>
      clients.school.accessLog.recordAccess({ asset: assets.citizenHousehold.key, purpose: Purpose.Enrolment }),
    );
    expect((error as AccessDeniedError).reason).to.equal("NoGrant");
  });

  it("test_approve_byStranger_namesErrorAndAccount", async () => {
    const { clients, actors, assets } = await loadSdkFixture();
    const { request } = await (
      await clients.bank.consent.requestAccess({
        subjectId: CITIZEN,
        targets: [assets.citizenFund.assetId],
        purpose: Purpose.Loan,
        grantDuration: 3600,
      })
    ).wait();

    const error = await thrown(() => clients.relayer.consent.approve(request));

    expect(error).to.be.instanceOf(ContractRevertedError);
    const reverted = error as ContractRevertedError;
    expect(reverted.is("NotSubjectController")).to.equal(true);
    if (reverted.is("NotSubjectController")) {
      expect(reverted.args.subjectId).to.equal(CITIZEN);
      expect(reverted.args.account).to.equal(actors.stranger.address);
    }
  });

  it("test_issue_byConsumer_decodesEnumArgumentByName", async () => {
    const { clients, actors } = await loadSdkFixture();
    const error = (await thrown(() =>
      clients.bank.assets.issue({ subjectId: CITIZEN, dataType: DataType.IdCard, contentCommitment: random32() }),
    )) as ContractRevertedError<"MemberNotPermitted">;
    expect(error.errorName).to.equal("MemberNotPermitted");
    expect(error.args).to.deep.equal({ account: actors.bank.address, requiredKind: "Department" });
  });

  it("test_registerMember_withoutRole_governanceError", async () => {
    const { clients, actors } = await loadSdkFixture();
    const error = (await thrown(() =>
      clients.bank.members.register({
        account: actors.others[0].address,
        kind: "Consumer",
        name: "Rogue",
      }),
    )) as ContractRevertedError<"AccessManagedUnauthorized">;
    expect(error.errorName).to.equal("AccessManagedUnauthorized");
    expect(error.args.caller).to.equal(actors.bank.address);
  });

  it("test_catalog_unknownType_catalogErrorsDecodeToo", async () => {
    const { clients, actors } = await loadSdkFixture();
    const error = (await thrown(() =>
      clients.catalogAdmin.catalog.authoriseIssuer(99, actors.bank.address),
    )) as ContractRevertedError;
    expect(error.errorName).to.equal("DataTypeNotDefined");
    expect(error.args).to.deep.equal({ dataType: 99 });
  });

  it("test_approveBySig_replayed_signatureRefusedNonceUsed_wideIntegerAsBigint", async () => {
    const { clients, phone, phoneHolder, assets } = await loadSdkFixture();
    const ask = async () =>
      (
        await clients.bank.consent.requestAccess({
          subjectId: phoneHolder,
          targets: [assets.phoneFund.assetId],
          purpose: Purpose.Loan,
          grantDuration: 3600,
        })
      ).wait();
    const { request } = await ask();
    const authorization = await clients.relayer.consent.signApproval(phone, request);
    await (await clients.relayer.consent.approveBySig(request, authorization)).wait();
    const second = await ask();

    const error = (await thrown(() =>
      clients.relayer.consent.approveBySig(second.request, authorization),
    )) as ContractRevertedError<"NonceUsed">;
    expect(error).to.be.instanceOf(SignatureRefusedError);
    expect(error.errorName).to.equal("NonceUsed");
    expect(error.args).to.deep.equal({ subjectId: phoneHolder, nonce: authorization.nonce });
  });

  it("test_grantBySig_pastDeadline_signatureExpired", async () => {
    const { clients, phone, phoneHolder, actors, assets } = await loadSdkFixture();
    const terms = {
      subjectId: phoneHolder,
      consumers: [actors.bank.address],
      targets: [assets.phoneFund.assetId],
      purpose: Purpose.Loan,
      expiresAt: (await now()) + 3600,
    };
    const deadline = (await now()) - 1;
    const authorization = await clients.relayer.consent.signGrant(phone, terms, { deadline });
    const error = (await thrown(() =>
      clients.relayer.consent.grantBySig(terms, authorization),
    )) as ContractRevertedError;
    expect(error.errorName).to.equal("SignatureExpired");
    expect(error.args).to.deep.equal({ deadline: BigInt(deadline) });
  });

  it("test_approve_targetBeyondIssuerAndType_invalidDataTypeTarget", async () => {
    const { clients, actors } = await loadSdkFixture();
    const target = zeroPadValue(toBeHex((1n << 200n) | BigInt(dataTypeTarget(actors.publicSecurity.address, 8))), 32);
    expect(() => dataTypeTarget(actors.publicSecurity.address, 2 ** 40)).to.throw(InvalidInputError);
    const { request } = await (
      await clients.bank.consent.requestAccess({
        subjectId: CITIZEN,
        scope: "DataType",
        targets: [target],
        purpose: Purpose.Loan,
        grantDuration: 3600,
      })
    ).wait();
    const error = (await thrown(() => clients.citizen.consent.approve(request))) as ContractRevertedError;
    expect(error.errorName).to.equal("InvalidDataTypeTarget");
    expect(error.args).to.deep.equal({ target });
  });

  it("test_write_invalidInput_throwsBeforeSending", async () => {
    const { clients } = await loadSdkFixture();
    const error = await thrown(() =>
      clients.publicSecurity.assets.issue({ subjectId: "0x1234", dataType: 1, contentCommitment: ZeroHash }),
    );
    expect(error).to.be.instanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).to.equal("subjectId");
    const tooBig = await thrown(() =>
      clients.publicSecurity.assets.issue({ subjectId: CITIZEN, dataType: 2 ** 32, contentCommitment: random32() }),
    );
    expect((tooBig as InvalidInputError).field).to.equal("dataType");
  });

  it("test_write_withProviderOnly_signerRequired", async () => {
    const { safe } = await loadSdkFixture();
    const error = await thrown(() => safe.members.suspend(random32().slice(0, 42), 1));
    expect(error).to.be.instanceOf(SignerRequiredError);
  });

  it("test_wait_minedRevertWithoutData_decodedByReplayingTheCall", async () => {
    const { dataSafe, actors, assets } = await loadSdkFixture();
    // What a Besu node gives for a transaction mined as reverted: a receipt, no revert data.
    const minedIn = (await ethers.provider.getBlockNumber()) + 1;
    const response = {
      hash: ZeroHash,
      to: await dataSafe.getAddress(),
      from: actors.bank.address,
      data: dataSafe.interface.encodeFunctionData("recordAccess", [assets.citizenFund.key, 0, Purpose.Loan, 0]),
      value: 0n,
      provider: ethers.provider,
      wait: async () => {
        throw makeError("transaction execution reverted", "CALL_EXCEPTION", {
          data: null,
          receipt: { blockNumber: minedIn },
        } as never);
      },
    };
    const pending = new PendingTransaction(response as never, "recordAccess", () => ({}));

    const error = await thrown(() => pending.wait());

    expect(error).to.be.instanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).reason).to.equal("NoGrant");
  });

  it("test_decodeRevertData_builtinAndUnknown", () => {
    const coder = AbiCoder.defaultAbiCoder();
    const message = decodeRevertData(
      id("Error(string)").slice(0, 10) + coder.encode(["string"], ["boom"]).slice(2),
      "call",
    );
    expect(message?.errorName).to.equal("Error");
    expect(message?.args).to.deep.equal({ message: "boom" });
    const panic = decodeRevertData(
      id("Panic(uint256)").slice(0, 10) + coder.encode(["uint256"], [0x11]).slice(2),
      "call",
    );
    expect(panic?.args).to.deep.equal({ code: 0x11n });
    expect(decodeRevertData("0xdeadbeef", "call")).to.equal(undefined);
  });

  it("test_decodeRevert_classifiesWhatIsNotACustomError", () => {
    const unknown = decodeRevert({ code: "CALL_EXCEPTION", data: "0xdeadbeef" }, "call");
    expect(unknown).to.be.instanceOf(UnknownRevertError);
    expect((unknown as UnknownRevertError).data).to.equal("0xdeadbeef");
    const empty = decodeRevert(makeError("execution reverted", "CALL_EXCEPTION", { data: "0x" } as never), "call");
    expect(empty).to.be.instanceOf(UnknownRevertError);
    expect(empty.shortMessage).to.equal("call reverted without a reason");
    const network = decodeRevert(new Error("socket hang up"), "call");
    expect(network).to.be.instanceOf(TransactionFailedError);
    expect(network.details).to.equal("socket hang up");
  });
});
