import { expect } from "chai";

import {
  AccessCheck,
  CITIZEN,
  COMPANY,
  DataType,
  GrantScope,
  GrantStatus,
  MemberKind,
  deployWithParticipants,
  ethers,
  grantIdOf,
  networkHelpers,
  random32,
  subjectIdFor,
  typeTarget,
} from "../helpers/fixtures.js";
import { type GrantKey, type GrantTerms, issue } from "../helpers/consent.js";

const { time } = networkHelpers;
const DAY = 86_400;
const PURPOSE = 11;

async function withAssets() {
  const suite = await networkHelpers.loadFixture(deployWithParticipants);
  const { dataSafe, actors: a } = suite;
  const household = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.HouseholdRegister);
  const idCard = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.IdCard);
  const fund = await issue(dataSafe, a.housingFundCentre, CITIZEN, DataType.HousingFund);
  return { ...suite, household, idCard, fund };
}

describe("consent: direct grants", () => {
  it("grants every consumer every target, ids consumer-major, one GrantIssued each", async () => {
    const { dataSafe, actors: a, household, idCard, fund } = await withAssets();
    const expiresAt = BigInt((await time.latest()) + 30 * DAY);
    const terms: GrantTerms = {
      subjectId: CITIZEN,
      consumers: [a.bank.address, a.school.address],
      scope: GrantScope.Asset,
      targets: [household.assetId, idCard.assetId, fund.assetId],
      fields: 0,
      purpose: PURPOSE,
      expiresAt,
      maxReads: 5,
    };
    const expected = terms.consumers.flatMap((consumer) =>
      terms.targets.map((target) => ({
        consumer,
        target,
        id: grantIdOf({ subjectId: CITIZEN, consumer, scope: GrantScope.Asset, target, purpose: PURPOSE }),
      })),
    );
    expect(await dataSafe.connect(a.citizen).grant.staticCall(terms)).to.deep.equal(expected.map((e) => e.id));
    for (const e of expected) {
      expect(
        await dataSafe.grantIdOf({
          subjectId: CITIZEN,
          consumer: e.consumer,
          scope: GrantScope.Asset,
          target: e.target,
          purpose: PURPOSE,
        }),
      ).to.equal(e.id);
    }

    const at = (await time.latest()) + 5;
    await time.setNextBlockTimestamp(at);
    const tx = dataSafe.connect(a.citizen).grant(terms);
    const receipt = await (await tx).wait();
    const issued = receipt!.logs
      .map((log) => dataSafe.interface.parseLog(log))
      .filter((parsed) => parsed?.name === "GrantIssued")
      .map((parsed) => parsed!.args);
    expect(issued.length).to.equal(6);
    for (const [i, e] of expected.entries()) {
      expect([...issued[i]]).to.deep.equal([
        e.id,
        CITIZEN,
        e.consumer,
        BigInt(GrantScope.Asset),
        e.target,
        0n,
        BigInt(PURPOSE),
        expiresAt,
        5n,
        1n,
        "0x" + "00".repeat(32),
      ]);
      await expect(tx)
        .to.emit(dataSafe, "GrantIssued")
        .withArgs(
          e.id,
          CITIZEN,
          e.consumer,
          GrantScope.Asset,
          e.target,
          0,
          PURPOSE,
          expiresAt,
          5,
          1,
          "0x" + "00".repeat(32),
        );
      const stored = await dataSafe.getGrant(e.id);
      expect([
        stored.status,
        stored.grantedAt,
        stored.expiresAt,
        stored.maxReads,
        stored.reads,
        stored.version,
      ]).to.deep.equal([BigInt(GrantStatus.Active), BigInt(at), expiresAt, 5n, 0n, 1n]);
    }
  });

  it("grants a data type", async () => {
    const { dataSafe, actors: a } = await withAssets();
    const expiresAt = BigInt((await time.latest()) + DAY);
    const target = typeTarget(DataType.HousingFund);
    const id = grantIdOf({
      subjectId: CITIZEN,
      consumer: a.bank.address,
      scope: GrantScope.DataType,
      target,
      purpose: PURPOSE,
    });
    await expect(
      dataSafe.connect(a.citizen).grant({
        subjectId: CITIZEN,
        consumers: [a.bank.address],
        scope: GrantScope.DataType,
        targets: [target],
        fields: 0,
        purpose: PURPOSE,
        expiresAt,
        maxReads: 1,
      }),
    )
      .to.emit(dataSafe, "GrantIssued")
      .withArgs(
        id,
        CITIZEN,
        a.bank.address,
        GrantScope.DataType,
        target,
        0,
        PURPOSE,
        expiresAt,
        1,
        1,
        "0x" + "00".repeat(32),
      );
  });

  it("renewal bumps the version, resets the reads and sets the new terms", async () => {
    const { dataSafe, actors: a, household } = await withAssets();
    const key: GrantKey = {
      subjectId: CITIZEN,
      consumer: a.bank.address,
      scope: GrantScope.Asset,
      target: household.assetId,
      purpose: PURPOSE,
    };
    const id = grantIdOf(key);
    const terms = (expiresAt: bigint, maxReads: number): GrantTerms => ({
      subjectId: CITIZEN,
      consumers: [a.bank.address],
      scope: GrantScope.Asset,
      targets: [household.assetId],
      fields: 0,
      purpose: PURPOSE,
      expiresAt,
      maxReads,
    });
    const first = BigInt((await time.latest()) + DAY);
    await dataSafe.connect(a.citizen).grant(terms(first, 2));
    await dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, PURPOSE, 0);
    await dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, PURPOSE, 0);
    expect((await dataSafe.getGrant(id)).reads).to.equal(2n);

    const second = first + BigInt(10 * DAY);
    const at = (await time.latest()) + 60;
    await time.setNextBlockTimestamp(at);
    await expect(dataSafe.connect(a.citizen).grant(terms(second, 4)))
      .to.emit(dataSafe, "GrantIssued")
      .withArgs(
        id,
        CITIZEN,
        a.bank.address,
        GrantScope.Asset,
        household.assetId,
        0,
        PURPOSE,
        second,
        4,
        2,
        "0x" + "00".repeat(32),
      );
    const stored = await dataSafe.getGrant(id);
    expect(stored.version).to.equal(2n);
    expect(stored.reads).to.equal(0n);
    expect(stored.maxReads).to.equal(4n);
    expect(stored.expiresAt).to.equal(second);
    expect(stored.grantedAt).to.equal(BigInt(at));
    expect(stored.status).to.equal(GrantStatus.Active);
  });

  it("revokes: GrantRevoked carries the version; reads stop; a second revoke is refused", async () => {
    const { dataSafe, actors: a, household } = await withAssets();
    const key: GrantKey = {
      subjectId: CITIZEN,
      consumer: a.bank.address,
      scope: GrantScope.Asset,
      target: household.assetId,
      purpose: PURPOSE,
    };
    const id = grantIdOf(key);
    const grantTerms: GrantTerms = {
      subjectId: CITIZEN,
      consumers: [a.bank.address],
      scope: GrantScope.Asset,
      targets: [household.assetId],
      fields: 0,
      purpose: PURPOSE,
      expiresAt: BigInt((await time.latest()) + DAY),
      maxReads: 3,
    };
    await dataSafe.connect(a.citizen).grant(grantTerms);
    await dataSafe.connect(a.citizen).grant(grantTerms); // version 2
    await expect(dataSafe.connect(a.citizen).revoke(key))
      .to.emit(dataSafe, "GrantRevoked")
      .withArgs(id, CITIZEN, a.bank.address, 2, a.citizen.address);
    const stored = await dataSafe.getGrant(id);
    expect(stored.status).to.equal(GrantStatus.Revoked);
    expect(stored.version).to.equal(2n);
    await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, PURPOSE, 0))
      .to.be.revertedWithCustomError(dataSafe, "AccessDenied")
      .withArgs(id, household.assetId, AccessCheck.GrantRevoked);
    await expect(dataSafe.connect(a.citizen).revoke(key))
      .to.be.revertedWithCustomError(dataSafe, "GrantNotActive")
      .withArgs(id, GrantStatus.Revoked);
    // a grant revoked can be given again, as a new version
    await expect(dataSafe.connect(a.citizen).grant(grantTerms))
      .to.emit(dataSafe, "GrantIssued")
      .withArgs(
        id,
        CITIZEN,
        a.bank.address,
        GrantScope.Asset,
        household.assetId,
        0,
        PURPOSE,
        grantTerms.expiresAt,
        3,
        3,
        "0x" + "00".repeat(32),
      );
    expect((await dataSafe.getGrant(id)).status).to.equal(GrantStatus.Active);
  });

  it("refuses to revoke a grant never given", async () => {
    const { dataSafe, actors: a, household } = await withAssets();
    const key: GrantKey = {
      subjectId: CITIZEN,
      consumer: a.school.address,
      scope: GrantScope.Asset,
      target: household.assetId,
      purpose: 1,
    };
    await expect(dataSafe.connect(a.citizen).revoke(key))
      .to.be.revertedWithCustomError(dataSafe, "GrantNotActive")
      .withArgs(grantIdOf(key), GrantStatus.None);
  });

  it("refuses grant and revoke by anyone but the controller", async () => {
    const { dataSafe, actors: a, household } = await withAssets();
    const grantTerms: GrantTerms = {
      subjectId: CITIZEN,
      consumers: [a.bank.address],
      scope: GrantScope.Asset,
      targets: [household.assetId],
      fields: 0,
      purpose: PURPOSE,
      expiresAt: BigInt((await time.latest()) + DAY),
      maxReads: 3,
    };
    const key: GrantKey = {
      subjectId: CITIZEN,
      consumer: a.bank.address,
      scope: GrantScope.Asset,
      target: household.assetId,
      purpose: PURPOSE,
    };
    for (const who of [a.bank, a.company, a.stranger, a.identityAuthority, a.publicSecurity]) {
      await expect(dataSafe.connect(who).grant(grantTerms))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, who.address);
    }
    await dataSafe.connect(a.citizen).grant(grantTerms);
    for (const who of [a.bank, a.company, a.stranger, a.identityAuthority]) {
      await expect(dataSafe.connect(who).revoke(key))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, who.address);
    }
    expect((await dataSafe.getGrant(grantIdOf(key))).status).to.equal(GrantStatus.Active);
    const ghost = subjectIdFor("ghost");
    await expect(dataSafe.connect(a.stranger).grant({ ...grantTerms, subjectId: ghost }))
      .to.be.revertedWithCustomError(dataSafe, "SubjectNotRegistered")
      .withArgs(ghost);
  });

  it("refuses bad terms: counts, expiry (past, or beyond MAX_GRANT_DURATION), reads, targets, consumers", async () => {
    const { dataSafe, actors: a, household } = await withAssets();
    const companyAsset = await issue(dataSafe, a.publicSecurity, COMPANY, DataType.IdCard);
    const now = await time.latest();
    const base: GrantTerms = {
      subjectId: CITIZEN,
      consumers: [a.bank.address],
      scope: GrantScope.Asset,
      targets: [household.assetId],
      fields: 0,
      purpose: PURPOSE,
      expiresAt: BigInt(now + DAY),
      maxReads: 1,
    };
    const grantAs = (t: GrantTerms) => dataSafe.connect(a.citizen).grant(t);
    await expect(grantAs({ ...base, consumers: [] }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidGrantCount")
      .withArgs(0);
    await expect(grantAs({ ...base, targets: [] }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidGrantCount")
      .withArgs(0);
    await expect(grantAs({ ...base, targets: Array(33).fill(household.assetId) }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidGrantCount")
      .withArgs(33);
    // 6 consumers x 6 targets = 36 grants in one call
    await expect(
      grantAs({ ...base, consumers: Array(6).fill(a.bank.address), targets: Array(6).fill(household.assetId) }),
    )
      .to.be.revertedWithCustomError(dataSafe, "InvalidGrantCount")
      .withArgs(36);
    await expect(grantAs({ ...base, maxReads: 0 }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidGrantTerms")
      .withArgs(base.expiresAt, 0);
    await expect(grantAs({ ...base, expiresAt: BigInt(now) }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidGrantTerms")
      .withArgs(now, 1);
    await expect(grantAs({ ...base, targets: [household.assetId, companyAsset.assetId] }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidAssetTarget")
      .withArgs(CITIZEN, companyAsset.assetId);
    const unknown = random32();
    await expect(grantAs({ ...base, targets: [unknown] }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidAssetTarget")
      .withArgs(CITIZEN, unknown);
    const wide = ethers.toBeHex(BigInt(typeTarget(DataType.IdCard)) | (1n << 255n), 32);
    await expect(grantAs({ ...base, scope: GrantScope.DataType, targets: [wide] }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidDataTypeTarget")
      .withArgs(wide);
    await expect(
      grantAs({ ...base, scope: GrantScope.DataType, targets: [typeTarget(12345, a.publicSecurity.address)] }),
    )
      .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
      .withArgs(12345, a.publicSecurity.address);
    await expect(
      grantAs({ ...base, scope: GrantScope.DataType, targets: [typeTarget(DataType.IdCard, a.school.address)] }),
    )
      .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
      .withArgs(a.school.address, MemberKind.Department);
    // the longest grant: MAX_GRANT_DURATION from now, to the second
    const max = await dataSafe.MAX_GRANT_DURATION();
    const latest = BigInt(now) + max + 1n; // the grant is mined a second after `now`
    await expect(grantAs({ ...base, expiresAt: latest + 1n }))
      .to.be.revertedWithCustomError(dataSafe, "InvalidGrantTerms")
      .withArgs(latest + 1n, 1);
    await time.setNextBlockTimestamp(now + 1);
    await expect(grantAs({ ...base, expiresAt: latest })).to.emit(dataSafe, "GrantIssued");
    for (const consumer of [a.stranger.address, a.publicSecurity.address]) {
      await expect(grantAs({ ...base, consumers: [a.bank.address, consumer] }))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(consumer, MemberKind.Consumer);
    }
    await dataSafe.connect(a.regulator).suspendMember(a.school.address, 1);
    await expect(grantAs({ ...base, consumers: [a.school.address] }))
      .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
      .withArgs(a.school.address, MemberKind.Consumer);
  });
});
