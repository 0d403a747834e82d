import { expect } from "chai";

import { type AccessRequest, commitRecord, dataTypeTarget } from "../../sdk/index.js";
import { CITIZEN, DataType, networkHelpers } from "../helpers/fixtures.js";
import { Outcome, Purpose, loadSdkFixture, now } from "./helpers.js";

describe("sdk: the trail from events", () => {
  it("test_usageOf_listsWhoReadWhatWhenWhyReadNofMAndOutcome", async () => {
    const { clients, phone, phoneHolder, actors, assets, safe } = await loadSdkFixture();
    // The bank asks and the phone approves (1 read of each type); the school gets a direct grant of 2 reads.
    const { request, requestId } = await (
      await clients.bank.consent.requestAccess({
        subjectId: phoneHolder,
        scope: "DataType",
        targets: [dataTypeTarget(actors.housingFundCentre.address, DataType.HousingFund)],
        purpose: Purpose.Loan,
        grantDuration: 86_400,
      })
    ).wait();
    await (
      await clients.relayer.consent.approveBySig(request, await clients.relayer.consent.signApproval(phone, request))
    ).wait();
    const bankRead = await (
      await clients.bank.accessLog.recordAccess({
        asset: assets.phoneFund.key,
        scope: "DataType",
        purpose: Purpose.Loan,
      })
    ).wait();
    const loanFile = commitRecord({ loan: "TEST-LOAN-1" }).commitment;
    await (await clients.bank.accessLog.recordOutcome(bankRead, Outcome.LoanApproved, loanFile)).wait();
    const terms = {
      subjectId: phoneHolder,
      consumers: [actors.school.address],
      targets: [assets.phoneHousehold.assetId],
      purpose: Purpose.Enrolment,
      expiresAt: (await now()) + 3600,
      maxReads: 2,
    };
    await (
      await clients.relayer.consent.grantBySig(terms, await clients.relayer.consent.signGrant(phone, terms))
    ).wait();
    await networkHelpers.time.increase(60);
    const schoolRead = await (
      await clients.school.accessLog.recordAccess({ asset: assets.phoneHousehold.key, purpose: Purpose.Enrolment })
    ).wait();
    // Another holder's read stays out of this holder's record.
    await (
      await clients.citizen.consent.grant({
        subjectId: CITIZEN,
        consumers: [actors.bank.address],
        targets: [assets.citizenFund.assetId],
        purpose: Purpose.Loan,
        expiresAt: (await now()) + 3600,
      })
    ).wait();
    await (await clients.bank.accessLog.recordAccess({ asset: assets.citizenFund.key, purpose: Purpose.Loan })).wait();

    const usage = await safe.events.usageOf(phoneHolder);

    expect(usage).to.have.length(2);
    const [first, second] = usage;
    expect(first).to.include({
      accessId: bankRead.accessId,
      consumer: actors.bank.address,
      consumerName: "City Commercial Bank",
      assetId: assets.phoneFund.assetId,
      dataType: DataType.HousingFund,
      dataTypeName: "personal-housing-fund",
      issuer: actors.housingFundCentre.address,
      issuerName: "Housing Provident Fund Centre",
      purpose: Purpose.Loan,
      readNumber: 1,
      maxReads: 1,
      grantId: bankRead.grantId,
      grantVersion: 1,
      requestId,
      outcome: Outcome.LoanApproved,
      outcomeReference: loanFile,
      transactionHash: bankRead.receipt.hash,
    });
    expect(second).to.include({
      accessId: schoolRead.accessId,
      consumerName: "No. 1 Middle School",
      dataTypeName: "household-register",
      issuerName: "Public Security Bureau",
      purpose: Purpose.Enrolment,
      readNumber: 1,
      maxReads: 2,
      requestId: undefined,
      outcome: undefined,
    });
    const readBlock = await schoolRead.receipt.getBlock();
    expect(second.readAt).to.equal(readBlock.timestamp);
    expect(second.readAt).to.be.greaterThan(first.readAt);

    const trail = await safe.events.accessTrail({ consumer: actors.bank.address });
    expect(trail.map((u) => u.consumerName)).to.deep.equal(["City Commercial Bank", "City Commercial Bank"]);
    expect(await safe.events.accessTrail({})).to.have.length(3);

    const grants = await safe.events.grantsOf(phoneHolder);
    expect(grants.map((g) => [g.consumerName, g.reads, g.maxReads, g.status])).to.deep.equal([
      ["City Commercial Bank", 1, 1, "Exhausted"],
      ["No. 1 Middle School", 1, 2, "Active"],
    ]);
  });

  it("test_requestsOf_rebuildsRequestsWithTheirStatus", async () => {
    const { clients, phone, phoneHolder, assets, safe } = await loadSdkFixture();
    const ask = async (expiresIn: number) =>
      (
        await clients.bank.consent.requestAccess({
          subjectId: phoneHolder,
          targets: [assets.phoneFund.assetId],
          purpose: Purpose.Loan,
          grantDuration: 3600,
          expiresAt: (await now()) + expiresIn,
        })
      ).wait();
    const approved = await ask(3600);
    const rejected = await ask(3600);
    const cancelled = await ask(3600);
    const open = await ask(7200);
    const expiring = await ask(60);
    await (
      await clients.relayer.consent.approveBySig(
        approved.request,
        await clients.relayer.consent.signApproval(phone, approved.request),
      )
    ).wait();
    await (
      await clients.relayer.consent.rejectBySig(
        rejected.request,
        1,
        await clients.relayer.consent.signRejection(phone, rejected.request, 1),
      )
    ).wait();
    await (await clients.bank.consent.cancel(cancelled.request)).wait();
    await networkHelpers.time.increase(120);

    const requests = await safe.events.requestsOf(phoneHolder);

    expect(requests.map((r) => [r.requestId, r.status])).to.deep.equal([
      [approved.requestId, "Approved"],
      [rejected.requestId, "Rejected"],
      [cancelled.requestId, "Cancelled"],
      [open.requestId, "Open"],
      [expiring.requestId, "Expired"],
    ]);
    // The request rebuilt from the event is the one the holder signs over.
    const rebuilt: AccessRequest = requests[3].request;
    expect(rebuilt).to.deep.equal(open.request);
    expect(requests[3].consumerName).to.equal("City Commercial Bank");
    await (
      await clients.relayer.consent.approveBySig(rebuilt, await clients.relayer.consent.signApproval(phone, rebuilt))
    ).wait();
    expect(await safe.consent.requestStatus(open.requestId)).to.equal("Approved");
  });

  it("test_assetsOf_showsTheSafeWithRevokedAndSuperseded", async () => {
    const { clients, assets, safe } = await loadSdkFixture();
    const next = await (
      await clients.housingFund.assets.supersede(assets.citizenFund.key, {
        subjectId: CITIZEN,
        dataType: DataType.HousingFund,
        contentCommitment: commitRecord({ v: 2 }).commitment,
      })
    ).wait();
    await (await clients.publicSecurity.assets.revoke(assets.citizenHousehold.key, 3)).wait();

    const held = await safe.events.assetsOf(CITIZEN);

    expect(held.map((a) => [a.assetId, a.dataTypeName, a.issuerName, a.status, a.valid])).to.deep.equal([
      [assets.citizenHousehold.assetId, "household-register", "Public Security Bureau", "Revoked", false],
      [assets.citizenFund.assetId, "personal-housing-fund", "Housing Provident Fund Centre", "Superseded", false],
      [next.assetId, "personal-housing-fund", "Housing Provident Fund Centre", "Valid", true],
    ]);
    expect(held[0].revocationReason).to.equal(3);
    expect(held[1].supersededBy).to.equal(next.assetId);
    expect(held[2].key).to.deep.equal(next.key);
  });

  it("test_usageOf_noReads_emptyList", async () => {
    const { safe, phoneHolder } = await loadSdkFixture();
    expect(await safe.events.usageOf(phoneHolder)).to.deep.equal([]);
    expect(await safe.events.requestsOf(phoneHolder)).to.deep.equal([]);
  });
});
