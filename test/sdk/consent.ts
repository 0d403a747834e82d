import { expect } from "chai";
import { type BlockTag, Network, type Provider, type TransactionRequest, ZeroHash } from "ethers";

import {
  type AccessRequest,
  DomainMismatchError,
  accessIdOf,
  approveRequestTypedData,
  dataSafeDomain,
  dataTypeTarget,
  domainSeparatorOf,
  grantIdOf,
  recoverTypedDataSigner,
  requestIdOf,
  typeHashOf,
} from "../../sdk/index.js";
import { CITIZEN, DataType, ethers } from "../helpers/fixtures.js";
import { Outcome, Purpose, loadSdkFixture, now, thrown } from "./helpers.js";

describe("sdk: consent and the access log", () => {
  it("test_typedData_typehashesAndDomainMatchTheContract", async () => {
    const { safe, dataSafe } = await loadSdkFixture();
    expect(typeHashOf("ApproveAccessRequest")).to.equal(await dataSafe.APPROVE_REQUEST_TYPEHASH());
    expect(typeHashOf("RejectAccessRequest")).to.equal(await dataSafe.REJECT_REQUEST_TYPEHASH());
    expect(typeHashOf("Grant")).to.equal(await dataSafe.GRANT_TYPEHASH());
    expect(typeHashOf("Revoke")).to.equal(await dataSafe.REVOKE_TYPEHASH());
    expect(typeHashOf("RequestReturn")).to.equal(await dataSafe.REQUEST_RETURN_TYPEHASH());
    const domain = await safe.consent.checkDomain();
    expect(domainSeparatorOf(domain)).to.equal(await dataSafe.domainSeparator());
  });

  it("test_checkDomain_nodeOnAnotherChain_throwsDomainMismatch", async () => {
    const { safe } = await loadSdkFixture();
    // A node that claims another chain id: the domain the SDK would sign in is not the contract's.
    const elsewhere = {
      provider: null,
      call: (tx: TransactionRequest) => ethers.provider.call(tx),
      getBlock: (tag: BlockTag) => ethers.provider.getBlock(tag),
      getNetwork: async () => new Network("elsewhere", 999n),
    } as unknown as Provider;
    const error = await thrown(() => safe.connect(elsewhere).consent.checkDomain());
    expect(error).to.be.instanceOf(DomainMismatchError);
    expect((error as DomainMismatchError).expected).to.equal(domainSeparatorOf(await safe.consent.domain()));
    expect((error as DomainMismatchError).actual).to.equal(domainSeparatorOf(dataSafeDomain(999n, safe.address)));
  });

  it("test_requestAccess_approveBySig_fromAFundlessPhone_waitReturnsGrantIds", async () => {
    const { clients, phone, phoneHolder, actors, assets, safe } = await loadSdkFixture();
    const asked = await (
      await clients.bank.consent.requestAccess({
        subjectId: phoneHolder,
        scope: "DataType",
        targets: [
          dataTypeTarget(actors.housingFundCentre.address, DataType.HousingFund),
          dataTypeTarget(actors.publicSecurity.address, DataType.HouseholdRegister),
        ],
        purpose: Purpose.Loan,
        grantDuration: 86_400,
      })
    ).wait();
    const request: AccessRequest = asked.request;
    expect(asked.requestId).to.equal(requestIdOf(request));
    expect(request).to.include({
      subjectId: phoneHolder,
      consumer: actors.bank.address,
      scope: "DataType",
      maxReads: 1,
      grantDuration: 86_400,
    });
    expect(await safe.consent.requestStatus(asked.requestId)).to.equal("Open");

    const authorization = await clients.relayer.consent.signApproval(phone, request);
    const payload = approveRequestTypedData(await safe.consent.domain(), request, authorization);
    // the wallet is shown the request itself: who asks, for what, how long, how many reads
    expect(payload.message).to.deep.include({
      requestId: asked.requestId,
      subjectId: phoneHolder,
      consumer: actors.bank.address,
      scope: 1,
      targets: request.targets,
      fields: 0n,
      purpose: Purpose.Loan,
      grantDuration: 86_400,
      maxReads: 1,
      expiresAt: request.expiresAt,
      requestNonce: request.nonce,
    });
    expect(recoverTypedDataSigner(payload, authorization.signature)).to.equal(phone.address);
    expect(await safe.consent.isNonceUsed(phoneHolder, authorization.nonce)).to.equal(false);

    const approved = await (await clients.relayer.consent.approveBySig(request, authorization)).wait();

    const keys = request.targets.map((target) => ({
      subjectId: phoneHolder,
      consumer: actors.bank.address,
      scope: "DataType" as const,
      target,
      purpose: Purpose.Loan,
    }));
    expect(approved.requestId).to.equal(asked.requestId);
    expect(approved.grantIds).to.deep.equal(keys.map(grantIdOf));
    expect(approved.grants.map((g) => g.key)).to.deep.equal(keys);
    expect(
      approved.grants.every((g) => g.requestId === asked.requestId && g.version === 1 && g.maxReads === 1),
    ).to.equal(true);
    expect(await safe.consent.requestStatus(asked.requestId)).to.equal("Approved");
    expect(await safe.consent.isNonceUsed(phoneHolder, authorization.nonce)).to.equal(true);
    expect(await safe.subjects.nonceOf(phoneHolder)).to.equal(0); // signed acts leave the epoch
    expect(await ethers.provider.getBalance(phone.address)).to.equal(0n);

    // The data-type grant reads the holder's current asset of the type.
    const read = await (
      await clients.bank.accessLog.recordAccess({
        asset: assets.phoneFund.key,
        scope: "DataType",
        purpose: Purpose.Loan,
      })
    ).wait();
    expect(read.key).to.deep.equal(keys[0]);
  });

  it("test_recordAccess_waitReturnsAccessIdReadNumberAndFeedbackWorks", async () => {
    const { clients, actors, assets, safe } = await loadSdkFixture();
    const assetId = assets.citizenFund.assetId;
    const { grants } = await (
      await clients.citizen.consent.grant({
        subjectId: CITIZEN,
        consumers: [actors.bank.address],
        targets: [assetId],
        purpose: Purpose.Loan,
        expiresAt: (await now()) + 3600,
        maxReads: 2,
      })
    ).wait();
    const read = { asset: assets.citizenFund.key, purpose: Purpose.Loan };
    expect(await safe.accessLog.check({ ...read, consumer: actors.bank.address })).to.equal("Allowed");

    const first = await (await clients.bank.accessLog.recordAccess(read)).wait();
    const second = await (await clients.bank.accessLog.recordAccess(read)).wait();

    expect(first).to.include({
      grantId: grants[0].grantId,
      assetId,
      version: 1,
      readNumber: 1,
      maxReads: 2,
      fields: 0n,
    });
    expect(first.accessId).to.equal(accessIdOf(grants[0].grantId, 1, 1));
    expect(second.readNumber).to.equal(2);
    expect(await safe.accessLog.check({ ...read, consumer: actors.bank.address })).to.equal("GrantExhausted");
    expect((await safe.consent.getGrant(grants[0].grantId)).reads).to.equal(2);

    const reported = await (await clients.bank.accessLog.recordOutcome(first, Outcome.LoanApproved)).wait();
    expect(reported).to.include({ accessId: first.accessId, outcome: Outcome.LoanApproved });
    expect(await safe.accessLog.outcomeOf(first.accessId)).to.equal(Outcome.LoanApproved);
    expect(await safe.accessLog.outcomeOf(second.accessId)).to.equal(0);
    const again = await thrown(() => clients.bank.accessLog.recordOutcome(first, Outcome.LoanApproved, ZeroHash));
    expect(again).to.have.property("errorName", "OutcomeAlreadyRecorded");
  });

  it("test_grantBySig_thenRevokeBySig_readRefusedAsRevoked", async () => {
    const { clients, phone, phoneHolder, actors, assets, safe } = await loadSdkFixture();
    const terms = {
      subjectId: phoneHolder,
      consumers: [actors.school.address, actors.bank.address],
      targets: [assets.phoneHousehold.assetId],
      purpose: Purpose.Enrolment,
      expiresAt: (await now()) + 3600,
      maxReads: 3,
    };
    const granted = await (
      await clients.relayer.consent.grantBySig(terms, await clients.relayer.consent.signGrant(phone, terms))
    ).wait();
    expect(granted.grants.map((g) => g.key.consumer)).to.deep.equal([actors.school.address, actors.bank.address]);
    expect(granted.grants.every((g) => g.requestId === ZeroHash)).to.equal(true);

    const key = granted.grants[0].key;
    const revoked = await (
      await clients.relayer.consent.revokeBySig(key, await clients.relayer.consent.signRevocation(phone, key))
    ).wait();
    expect(revoked).to.deep.include({ grantId: granted.grantIds[0], version: 1 });
    expect((await safe.consent.grantOf(key)).status).to.equal("Revoked");
    expect((await safe.consent.getGrant(granted.grantIds[1])).status).to.equal("Active");

    const error = await thrown(() =>
      clients.school.accessLog.recordAccess({ asset: assets.phoneHousehold.key, purpose: Purpose.Enrolment }),
    );
    expect(error).to.have.property("reason", "GrantRevoked");
    expect(await ethers.provider.getBalance(phone.address)).to.equal(0n);
  });

  it("test_rejectBySig_and_cancel_setRequestStatus", async () => {
    const { clients, phone, phoneHolder, assets, safe } = await loadSdkFixture();
    const ask = async () =>
      (
        await clients.bank.consent.requestAccess({
          subjectId: phoneHolder,
          targets: [assets.phoneFund.assetId],
          purpose: Purpose.Loan,
          grantDuration: 60,
        })
      ).wait();
    const rejected = await ask();
    const signature = await clients.relayer.consent.signRejection(phone, rejected.request, 9);
    expect(
      (await (await clients.relayer.consent.rejectBySig(rejected.request, 9, signature)).wait()).requestId,
    ).to.equal(rejected.requestId);
    expect(await safe.consent.requestStatus(rejected.requestId)).to.equal("Rejected");

    const cancelled = await ask();
    await (await clients.bank.consent.cancel(cancelled.request)).wait();
    expect(await safe.consent.requestStatus(cancelled.requestId)).to.equal("Cancelled");
    const approval = await clients.relayer.consent.signApproval(phone, cancelled.request);
    const late = await thrown(() => clients.relayer.consent.approveBySig(cancelled.request, approval));
    expect(late).to.have.property("errorName", "RequestNotOpen");
    expect((late as { args: { status: string } }).args.status).to.equal("Cancelled");
  });

  it("test_suspendedConsumer_readRefusedConsumerNotActive", async () => {
    const { clients, actors, assets } = await loadSdkFixture();
    const assetId = assets.citizenFund.assetId;
    await (
      await clients.citizen.consent.grant({
        subjectId: CITIZEN,
        consumers: [actors.bank.address],
        targets: [assetId],
        purpose: Purpose.Loan,
        expiresAt: (await now()) + 3600,
      })
    ).wait();
    await (await clients.regulator.members.suspend(actors.bank.address, 2)).wait();
    const error = await thrown(() =>
      clients.bank.accessLog.recordAccess({ asset: assets.citizenFund.key, purpose: Purpose.Loan }),
    );
    expect(error).to.have.property("reason", "ConsumerNotActive");
  });
});
