import { expect } from "chai";

import {
  ContractRevertedError,
  InvalidInputError,
  SignatureRefusedError,
  dataTypeTarget,
  nonceOf,
  nonceParts,
  nonceWordOf,
  parseDataTypeTarget,
  revokeTypedData,
  recoverTypedDataSigner,
} from "../../sdk/index.js";
import { CITIZEN, DataType, ethers } from "../helpers/fixtures.js";
import { Purpose, loadSdkFixture, now, thrown } from "./helpers.js";

describe("sdk: unordered nonces and what a holder signs", () => {
  it("test_nonceHelpers_composeAndSplit", () => {
    const nonce = nonceOf(3, 0x1234n);
    expect(nonce).to.equal((3n << 208n) | 0x1234n);
    expect(nonceParts(nonce)).to.deep.equal({ epoch: 3, index: 0x1234n, wordPos: nonce >> 8n, bit: 0x34 });
    expect(nonceWordOf(3, 0x12)).to.equal(nonce >> 8n);
    expect(() => nonceOf(2 ** 48, 0)).to.throw(InvalidInputError);
    expect(() => nonceOf(0, 1n << 208n)).to.throw(InvalidInputError);
    expect(() => nonceParts(-1n)).to.throw(InvalidInputError);
  });

  it("test_dataTypeTarget_namesTheIssuer_andParsesBack", async () => {
    const { actors } = await loadSdkFixture();
    const target = dataTypeTarget(actors.housingFundCentre.address, DataType.HousingFund);
    expect(BigInt(target)).to.equal((BigInt(actors.housingFundCentre.address) << 32n) | 8n);
    expect(parseDataTypeTarget(target)).to.deep.equal({ issuer: actors.housingFundCentre.address, dataType: 8 });
    expect(() => parseDataTypeTarget(ethers.toBeHex(1n << 200n, 32))).to.throw(InvalidInputError);
    expect(() => dataTypeTarget(actors.housingFundCentre.address, 0)).to.throw(InvalidInputError);
  });

  it("test_signedAtTwoCounters_relayedInEitherOrder_eachOnce", async () => {
    const { clients, phone, phoneHolder, actors, assets, safe } = await loadSdkFixture();
    const { request, requestId } = await (
      await clients.bank.consent.requestAccess({
        subjectId: phoneHolder,
        targets: [assets.phoneFund.assetId],
        purpose: Purpose.Loan,
        grantDuration: 86_400,
      })
    ).wait();
    const terms = {
      subjectId: phoneHolder,
      consumers: [actors.school.address],
      targets: [assets.phoneHousehold.assetId],
      purpose: Purpose.Enrolment,
      expiresAt: (await now()) + 3600,
    };
    // the phone signs both before either is relayed: the client hands out distinct unused nonces
    const approval = await clients.relayer.consent.signApproval(phone, request);
    const grant = await clients.relayer.consent.signGrant(phone, terms);
    expect(grant.nonce).to.not.equal(approval.nonce);
    for (const nonce of [approval.nonce, grant.nonce]) {
      expect(nonceParts(nonce).epoch).to.equal(0);
      expect(await safe.consent.isNonceUsed(phoneHolder, nonce)).to.equal(false);
    }

    const granted = await (await clients.relayer.consent.grantBySig(terms, grant)).wait();
    expect(granted.grants[0].key.consumer).to.equal(actors.school.address);
    const approved = await (await clients.relayer.consent.approveBySig(request, approval)).wait();
    expect(approved.requestId).to.equal(requestId);
    for (const [nonce, replay] of [
      [grant.nonce, () => clients.relayer.consent.grantBySig(terms, grant)],
      [approval.nonce, () => clients.relayer.consent.approveBySig(request, approval)],
    ] as const) {
      const error = await thrown(replay);
      expect(error).to.be.instanceOf(SignatureRefusedError);
      expect((error as ContractRevertedError<"NonceUsed">).args).to.deep.equal({ subjectId: phoneHolder, nonce });
      expect(await safe.consent.isNonceUsed(phoneHolder, nonce)).to.equal(true);
    }
    // a fresh client skips what the chain holds used
    const next = await safe.connect(ethers.provider).consent.nextNonce(phoneHolder);
    expect([approval.nonce, grant.nonce]).to.not.include(next);
    expect(await safe.consent.isNonceUsed(phoneHolder, next)).to.equal(false);
  });

  it("test_cancelNonce_andWord_outstandingSignaturesRefused", async () => {
    const { clients, actors, assets, safe, dataSafe } = await loadSdkFixture();
    const expiresAt = (await now()) + 3600;
    const terms = (purpose: number) => ({
      subjectId: CITIZEN,
      consumers: [actors.bank.address],
      targets: [assets.citizenFund.assetId],
      purpose,
      expiresAt,
    });
    const first = await clients.citizen.consent.signGrant(actors.citizen, terms(1));
    const far = await clients.citizen.consent.signGrant(actors.citizen, terms(2), { nonce: nonceOf(0, 5n << 8n) });
    const neighbour = await clients.citizen.consent.signGrant(actors.citizen, terms(3), {
      nonce: nonceOf(0, (5n << 8n) | 1n),
    });

    const cancelled = await (await clients.citizen.consent.cancelNonce(CITIZEN, first.nonce)).wait();
    expect(cancelled).to.include({ wordPos: 0n, mask: 1n << first.nonce });
    const refused = await thrown(() => clients.relayer.consent.grantBySig(terms(1), first));
    expect(refused).to.be.instanceOf(SignatureRefusedError);
    expect(refused).to.have.property("errorName", "NonceUsed");

    const word = nonceParts(far.nonce).wordPos;
    const wiped = await (await clients.citizen.consent.cancelNonceWord(CITIZEN, word)).wait();
    expect(wiped).to.include({ wordPos: word, mask: (1n << 256n) - 1n });
    expect(await dataSafe.nonceBitmap(CITIZEN, word)).to.equal((1n << 256n) - 1n);
    for (const [auth, purpose] of [
      [far, 2],
      [neighbour, 3],
    ] as const) {
      const error = await thrown(() => clients.relayer.consent.grantBySig(terms(purpose), auth));
      expect(error).to.have.property("errorName", "NonceUsed");
    }
    const stranger = await thrown(() => clients.bank.consent.cancelNonce(CITIZEN, 7n));
    expect(stranger).to.have.property("errorName", "NotSubjectController");
    expect(await safe.consent.isNonceUsed(CITIZEN, 7n)).to.equal(false);
  });

  it("test_invalidateNonce_killsOutstanding_nextNonceMovesToTheNewEpoch", async () => {
    const { clients, actors, assets, safe } = await loadSdkFixture();
    const terms = {
      subjectId: CITIZEN,
      consumers: [actors.bank.address],
      targets: [assets.citizenFund.assetId],
      purpose: Purpose.Loan,
      expiresAt: (await now()) + 3600,
    };
    const outstanding = await clients.citizen.consent.signGrant(actors.citizen, terms);
    await (await clients.citizen.subjects.invalidateNonce(CITIZEN)).wait();
    const error = await thrown(() => clients.relayer.consent.grantBySig(terms, outstanding));
    expect(error).to.be.instanceOf(SignatureRefusedError);
    expect((error as ContractRevertedError<"NonceEpochMismatch">).args).to.deep.equal({
      subjectId: CITIZEN,
      nonce: outstanding.nonce,
      epoch: 1,
    });
    const fresh = await clients.citizen.consent.signGrant(actors.citizen, terms);
    expect(nonceParts(fresh.nonce)).to.include({ epoch: 1, index: 0n });
    await (await clients.relayer.consent.grantBySig(terms, fresh)).wait();
    expect(await safe.consent.isNonceUsed(CITIZEN, outstanding.nonce)).to.equal(true);
  });

  it("test_signRevocation_bindsTheVersion_aRenewalSurvivesAStaleRevocation", async () => {
    const { clients, phone, phoneHolder, actors, assets, safe } = await loadSdkFixture();
    const terms = {
      subjectId: phoneHolder,
      consumers: [actors.bank.address],
      targets: [assets.phoneFund.assetId],
      purpose: Purpose.Loan,
      expiresAt: (await now()) + 3600,
    };
    const [first] = (
      await (
        await clients.relayer.consent.grantBySig(terms, await clients.relayer.consent.signGrant(phone, terms))
      ).wait()
    ).grants;
    const revocation = await clients.relayer.consent.signRevocation(phone, first.key);
    expect(revocation.version).to.equal(1);
    const payload = revokeTypedData(await safe.consent.domain(), first.key, 1, revocation);
    expect(payload.message).to.include({ version: 1 });
    expect(recoverTypedDataSigner(payload, revocation.signature)).to.equal(phone.address);

    // the holder renews the grant before the revocation is relayed
    await (
      await clients.relayer.consent.grantBySig(terms, await clients.relayer.consent.signGrant(phone, terms))
    ).wait();
    const stale = await thrown(() => clients.relayer.consent.revokeBySig(first.key, revocation));
    expect(stale).to.be.instanceOf(ContractRevertedError);
    expect((stale as ContractRevertedError<"GrantVersionMismatch">).args).to.deep.equal({
      grantId: first.grantId,
      signedVersion: 1,
      currentVersion: 2,
    });
    expect((await safe.consent.getGrant(first.grantId)).status).to.equal("Active");

    const current = await clients.relayer.consent.signRevocation(phone, first.key);
    expect(current.version).to.equal(2);
    const revoked = await (await clients.relayer.consent.revokeBySig(first.key, current)).wait();
    expect(revoked).to.deep.include({ grantId: first.grantId, version: 2 });
  });
});
