import { expect } from "chai";

import {
  ContractRevertedError,
  InvalidInputError,
  assetIdOf,
  commitRecord,
  deriveSubjectId,
  discloseFields,
  hashTypedData,
  newSalt,
  recoverTypedDataSigner,
  requestReturnTypedData,
  schemaHashOf,
  subjectTagOf,
  typeHashOf,
} from "../../sdk/index.js";
import { CITIZEN, COMPANY, DataType, ethers, random32 } from "../helpers/fixtures.js";
import { fundRecord, householdRecord, loadSdkFixture, thrown } from "./helpers.js";

describe("sdk: members, catalog, subjects and assets", () => {
  it("test_members_register_waitReturnsAccountAndStateReads", async () => {
    const { clients, safe, actors } = await loadSdkFixture();
    const account = actors.others[0].address;
    const registered = await (
      await clients.memberAdmin.members.register({
        account,
        kind: "Consumer",
        name: "Employer",
        metadataURI: "urn:x",
      })
    ).wait();
    expect(registered.account).to.equal(account);
    expect(registered.receipt.status).to.equal(1);
    const member = await safe.members.get(account);
    expect(member).to.include({
      account,
      kind: "Consumer",
      status: "Active",
      name: "Employer",
      metadataURI: "urn:x",
    });
    await (await clients.regulator.members.suspend(account, 7)).wait();
    expect((await safe.members.get(account)).status).to.equal("Suspended");
    expect(await safe.members.isActive(account, "Consumer")).to.equal(false);
    await (await clients.regulator.members.reinstate(account)).wait();
    expect(await safe.members.isActive(account, "Consumer")).to.equal(true);
  });

  it("test_catalog_define_hashesSchemaDocument", async () => {
    const { clients, safe, actors } = await loadSdkFixture();
    const schema = { fields: [{ name: "cardNumber" }], name: "residence-permit" };
    const defined = await (
      await clients.catalogAdmin.catalog.define({ dataType: 3, name: "residence-permit", schema, schemaURI: "urn:s" })
    ).wait();
    expect(defined).to.include({
      dataType: 3,
      schemaHash: schemaHashOf({ name: "residence-permit", fields: [{ name: "cardNumber" }] }),
    });
    await (await clients.catalogAdmin.catalog.authoriseIssuer(3, actors.publicSecurity.address)).wait();
    expect(await safe.catalog.get(3)).to.include({
      dataType: 3,
      status: "Active",
      name: "residence-permit",
      schemaURI: "urn:s",
    });
    expect(await safe.catalog.issuersOf(3)).to.deep.equal([actors.publicSecurity.address]);
    expect(await safe.assets.canIssue(3, actors.publicSecurity.address)).to.equal(true);
  });

  it("test_subjects_registerMany_waitReturnsIds", async () => {
    const { clients, safe, actors } = await loadSdkFixture();
    const pepper = newSalt();
    const ids = ["A-1", "B-2"].map((identifier) => deriveSubjectId(pepper, "resident-id", identifier));
    const { subjectIds } = await (
      await clients.authority.subjects.registerMany(
        ids.map((subjectId, i) => ({ subjectId, controller: actors.others[i].address })),
      )
    ).wait();
    expect(subjectIds).to.deep.equal(ids);
    expect(await safe.subjects.get(ids[1])).to.include({
      subjectId: ids[1],
      controller: actors.others[1].address,
      nonce: 0,
    });
  });

  it("test_subjects_recovery_onlyStarterControllerOrGovernanceCancels_handOverEndsIt", async () => {
    const { clients, safe, actors } = await loadSdkFixture();
    const [recoveryKey, otherAuthority, handedTo] = actors.others;
    await (
      await clients.memberAdmin.members.register({
        account: otherAuthority.address,
        kind: "IdentityAuthority",
        name: "IA 2",
      })
    ).wait();
    await (await clients.authority.subjects.initiateRecovery(CITIZEN, recoveryKey.address)).wait();
    const refused = (await thrown(() =>
      safe.connect(otherAuthority).subjects.cancelRecovery(CITIZEN),
    )) as ContractRevertedError<"NotRecoveryAuthority">;
    expect(refused.errorName).to.equal("NotRecoveryAuthority");
    expect(refused.args).to.deep.equal({ subjectId: CITIZEN, account: otherAuthority.address });
    const overwrite = (await thrown(() =>
      safe.connect(otherAuthority).subjects.initiateRecovery(CITIZEN, handedTo.address),
    )) as ContractRevertedError<"RecoveryAlreadyPending">;
    expect(overwrite.args).to.deep.equal({ subjectId: CITIZEN, authority: actors.identityAuthority.address });
    await (await clients.regulator.subjects.cancelRecoveryByGovernance(CITIZEN)).wait();
    expect(await safe.subjects.pendingRecovery(CITIZEN)).to.equal(undefined);
    await (await clients.authority.subjects.initiateRecovery(CITIZEN, recoveryKey.address)).wait();
    await (await clients.citizen.subjects.transferControl(CITIZEN, handedTo.address)).wait();
    expect(await safe.subjects.pendingRecovery(CITIZEN)).to.equal(undefined);
  });

  it("test_issue_waitReturnsAssetIdOfItsKey", async () => {
    const { clients, safe, actors } = await loadSdkFixture();
    const { commitment } = commitRecord({ cardNumber: "TEST-ID-1" });
    const issued = await (
      await clients.publicSecurity.assets.issue({
        subjectId: CITIZEN,
        dataType: DataType.IdCard,
        contentCommitment: commitment,
      })
    ).wait();
    const key = {
      issuer: actors.publicSecurity.address,
      subjectId: CITIZEN,
      dataType: DataType.IdCard,
      contentCommitment: commitment,
    };
    expect(issued.key).to.deep.equal(key);
    expect(issued.assetId).to.equal(assetIdOf(key));
    const asset = await safe.assets.get(issued.assetId);
    expect(asset).to.include({ assetId: issued.assetId, status: "Valid", dataType: DataType.IdCard, validUntil: 0 });
    expect(asset.subjectTag).to.equal(subjectTagOf(CITIZEN));
  });

  it("test_issueBatch_waitReturnsIdsInOrder", async () => {
    const { clients, safe } = await loadSdkFixture();
    const inputs = [CITIZEN, COMPANY, CITIZEN].map((subjectId) => ({
      subjectId,
      dataType: DataType.IdCard,
      contentCommitment: random32(),
    }));
    const { assets } = await (await clients.publicSecurity.assets.issueBatch(inputs)).wait();
    expect(assets.map((a) => a.key.subjectId)).to.deep.equal([CITIZEN, COMPANY, CITIZEN]);
    expect(assets.map((a) => a.key.contentCommitment)).to.deep.equal(inputs.map((i) => i.contentCommitment));
    expect(await safe.assets.areIssued([...assets.map((a) => a.assetId), random32()])).to.deep.equal([
      true,
      true,
      true,
      false,
    ]);
  });

  it("test_returnRequest_requestThenFulfil_waitReturnsRequestAndAssetIds", async () => {
    const { clients, safe, actors } = await loadSdkFixture();
    const { requestId } = await (
      await clients.company.assets.requestReturn({
        subjectId: COMPANY,
        dataType: DataType.HousingFund,
        department: actors.housingFundCentre.address,
      })
    ).wait();
    expect(await safe.assets.getReturnRequest(requestId)).to.include({
      requestId,
      subjectId: COMPANY,
      status: "Open",
      dataType: DataType.HousingFund,
    });
    const fulfilled = await (
      await clients.housingFund.assets.fulfilReturnRequest(requestId, {
        subjectId: COMPANY,
        dataType: DataType.HousingFund,
        contentCommitment: random32(),
      })
    ).wait();
    expect(fulfilled.requestId).to.equal(requestId);
    expect(fulfilled.assetId).to.equal(assetIdOf(fulfilled.key));
    expect((await safe.assets.getReturnRequest(requestId)).status).to.equal("Fulfilled");
  });

  it("test_requestReturnBySig_fromAFundlessPhone_relayedByAnother_waitReturnsRequestId", async () => {
    const { clients, safe, dataSafe, actors, phone, phoneHolder } = await loadSdkFixture();
    expect(typeHashOf("RequestReturn")).to.equal(await dataSafe.REQUEST_RETURN_TYPEHASH());
    expect(await ethers.provider.getBalance(phone.address)).to.equal(0n);
    const input = { subjectId: phoneHolder, dataType: DataType.IdCard, department: actors.publicSecurity.address };

    const authorization = await clients.relayer.consent.signReturnRequest(phone, input);
    expect(authorization.nonce).to.equal(0n);
    const payload = requestReturnTypedData(await safe.consent.domain(), input, authorization);
    expect(payload.primaryType).to.equal("RequestReturn");
    expect(recoverTypedDataSigner(payload, authorization.signature)).to.equal(phone.address);
    expect(hashTypedData(payload)).to.match(/^0x[0-9a-f]{64}$/);

    const pending = await clients.relayer.assets.requestReturnBySig(input, authorization);
    const { requestId, receipt } = await pending.wait();
    expect(receipt.from).to.equal(actors.stranger.address);
    expect(await safe.assets.getReturnRequest(requestId)).to.include({
      requestId,
      subjectId: phoneHolder,
      department: actors.publicSecurity.address,
      dataType: DataType.IdCard,
      status: "Open",
    });
    expect(await safe.consent.isNonceUsed(phoneHolder, authorization.nonce)).to.equal(true);
    expect(await ethers.provider.getBalance(phone.address)).to.equal(0n);

    // The department answers it like any return request.
    const fulfilled = await (
      await clients.publicSecurity.assets.fulfilReturnRequest(requestId, {
        subjectId: phoneHolder,
        dataType: DataType.IdCard,
        contentCommitment: random32(),
      })
    ).wait();
    expect(fulfilled.requestId).to.equal(requestId);
    expect((await safe.assets.getReturnRequest(requestId)).status).to.equal("Fulfilled");

    // Replayed, the signature is refused with a typed revert.
    const replay = await thrown(() => clients.relayer.assets.requestReturnBySig(input, authorization));
    expect(replay).to.be.instanceOf(ContractRevertedError);
    expect(replay).to.have.property("errorName", "NonceUsed");
    expect(replay).to.have.property("action", "requestReturnBySig");
  });

  it("test_requestReturnBySig_refusals_typedErrorsAndInputChecks", async () => {
    const { clients, actors, phone, phoneHolder } = await loadSdkFixture();
    const input = {
      subjectId: phoneHolder,
      dataType: DataType.HousingFund,
      department: actors.housingFundCentre.address,
    };

    // Signed by a key that is not the holder's controller.
    const byCitizen = await clients.relayer.consent.signReturnRequest(actors.citizen, input);
    const wrongKey = await thrown(() => clients.relayer.assets.requestReturnBySig(input, byCitizen));
    expect(wrongKey).to.have.property("errorName", "InvalidSignature");

    // Signed for one department, relayed for another.
    const signed = await clients.relayer.consent.signReturnRequest(phone, input);
    const tampered = await thrown(() =>
      clients.relayer.assets.requestReturnBySig({ ...input, department: actors.publicSecurity.address }, signed),
    );
    expect(tampered).to.have.property("errorName", "InvalidSignature");

    // A suspended department cannot be asked, by signature as by transaction.
    await (await clients.regulator.members.suspend(actors.housingFundCentre.address, 1)).wait();
    const suspended = await thrown(() => clients.relayer.assets.requestReturnBySig(input, signed));
    expect(suspended).to.have.property("errorName", "MemberNotPermitted");

    // An active department not authorised for the type.
    const notIssuer = { ...input, department: actors.publicSecurity.address };
    const unauthorised = await thrown(async () =>
      clients.relayer.assets.requestReturnBySig(
        notIssuer,
        await clients.relayer.consent.signReturnRequest(phone, notIssuer),
      ),
    );
    expect(unauthorised).to.have.property("errorName", "IssuerNotAuthorised");

    // Malformed input is refused before anything is signed or sent.
    const badInput = { ...input, department: "0x1234" };
    expect(await thrown(() => clients.relayer.consent.signReturnRequest(phone, badInput))).to.be.instanceOf(
      InvalidInputError,
    );
    expect(await thrown(() => clients.relayer.assets.requestReturnBySig(badInput, signed))).to.be.instanceOf(
      InvalidInputError,
    );
    expect(
      await thrown(() => clients.relayer.assets.requestReturnBySig({ ...input, dataType: 2 ** 32 }, signed)),
    ).to.be.instanceOf(InvalidInputError);
  });

  it("test_supersede_and_revoke_verifierSeesStatus", async () => {
    const { clients, safe, actors, assets, salts } = await loadSdkFixture();
    const issuer = actors.housingFundCentre.address;
    const verified = await safe.assets.verifyRecord({
      issuer,
      subjectId: CITIZEN,
      dataType: DataType.HousingFund,
      record: fundRecord,
      salt: salts.fund,
    });
    expect(verified).to.deep.equal({ assetId: assets.citizenFund.assetId, valid: true, status: "Valid" });

    const next = commitRecord({ ...fundRecord, balance: 87600 });
    const superseded = await (
      await clients.housingFund.assets.supersede(assets.citizenFund.key, {
        subjectId: CITIZEN,
        dataType: DataType.HousingFund,
        contentCommitment: next.commitment,
      })
    ).wait();
    expect(superseded.previousAssetId).to.equal(assets.citizenFund.assetId);
    expect(
      await safe.assets.verifyRecord({
        issuer,
        subjectId: CITIZEN,
        dataType: DataType.HousingFund,
        record: fundRecord,
        salt: salts.fund,
      }),
    ).to.include({
      valid: false,
      status: "Superseded",
    });

    const { assetId } = await (await clients.housingFund.assets.revoke(superseded.key, 1)).wait();
    expect(assetId).to.equal(superseded.assetId);
    expect(await safe.assets.verify(superseded.key)).to.include({ valid: false, status: "Revoked" });
    const tampered = await safe.assets.verifyRecord({
      issuer,
      subjectId: CITIZEN,
      dataType: DataType.HousingFund,
      record: { ...fundRecord, balance: 1 },
      salt: salts.fund,
    });
    expect(tampered).to.include({ valid: false, status: "None" });
  });

  it("test_verifyDisclosure_oneFieldProvenAgainstTheChain", async () => {
    const { safe, actors, salts } = await loadSdkFixture();
    const input = { issuer: actors.publicSecurity.address, subjectId: CITIZEN, dataType: DataType.HouseholdRegister };
    const disclosure = discloseFields(householdRecord, salts.household, ["registrationType"]);
    expect(await safe.assets.verifyDisclosure({ ...input, disclosure })).to.include({
      valid: true,
      fieldsProven: true,
      status: "Valid",
    });
    const lie = { ...disclosure, fields: [{ ...disclosure.fields[0], value: "non-local" }] };
    expect(await safe.assets.verifyDisclosure({ ...input, disclosure: lie })).to.include({
      valid: false,
      fieldsProven: false,
    });
    const otherHolder = await safe.assets.verifyDisclosure({ ...input, subjectId: COMPANY, disclosure });
    expect(otherHolder).to.include({ valid: false, fieldsProven: true, status: "None" });
  });
});
