import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

import type { DataSafe } from "../../typechain-types/index.js";
import {
  AccessCheck,
  CITIZEN,
  COMPANY,
  DataType,
  GrantScope,
  MemberKind,
  deployWithParticipants,
  ethers,
  grantIdOf,
  networkHelpers,
  random32,
  typeTarget,
} from "../helpers/fixtures.js";
import { accessIdOf, grantBankHouseholdAndFund, issue } from "../helpers/consent.js";

const { time } = networkHelpers;
const DAY = 86_400;
const LOAN = 7;
const ENROLMENT = 9;

/**
 * Asserts that `consumer`'s read is refused with `reason`, and that checkAccess (the view) gives
 * the same reason, before and after the refused attempt, and that nothing was consumed.
 */
async function expectDenied(
  dataSafe: DataSafe,
  consumer: HardhatEthersSigner,
  subjectId: string,
  scope: number,
  purpose: number,
  assetId: string,
  grantId: string,
  reason: number,
) {
  expect(await dataSafe.checkAccess(subjectId, consumer.address, scope, purpose, assetId)).to.equal(reason);
  const before = await dataSafe.getGrant(grantId);
  await expect(dataSafe.connect(consumer).recordAccess(subjectId, scope, purpose, assetId))
    .to.be.revertedWithCustomError(dataSafe, "AccessDenied")
    .withArgs(grantId, assetId, reason);
  expect(await dataSafe.getGrant(grantId)).to.deep.equal(before);
}

/** The suite with the citizen's household register, an asset grant and a type grant to the bank. */
async function withGrants() {
  const suite = await networkHelpers.loadFixture(deployWithParticipants);
  const { dataSafe, actors: a } = suite;
  const { household, fund, expiresAt, assetKey, typeKey } = await grantBankHouseholdAndFund(suite, {
    purpose: LOAN,
    days: 30,
    maxReads: 3,
  });
  return {
    ...suite,
    household,
    fund,
    expiresAt,
    assetKey,
    assetGrant: grantIdOf(assetKey),
    typeKey,
    typeGrant: grantIdOf(typeKey),
  };
}

describe("consent: access log", () => {
  describe("recordAccess", () => {
    it("records a read under an asset grant: event, access id, read count", async () => {
      const { dataSafe, actors: a, household, assetGrant } = await withGrants();
      expect(await dataSafe.checkAccess(CITIZEN, a.bank.address, GrantScope.Asset, LOAN, household.assetId)).to.equal(
        AccessCheck.Allowed,
      );
      for (const readNumber of [1, 2, 3]) {
        const accessId = accessIdOf(assetGrant, 1, readNumber);
        expect(
          await dataSafe.connect(a.bank).recordAccess.staticCall(CITIZEN, GrantScope.Asset, LOAN, household.assetId),
        ).to.equal(accessId);
        await expect(dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.Asset, LOAN, household.assetId))
          .to.emit(dataSafe, "AccessRecorded")
          .withArgs(assetGrant, CITIZEN, a.bank.address, accessId, household.assetId, LOAN, readNumber, 3, 1);
        expect((await dataSafe.getGrant(assetGrant)).reads).to.equal(BigInt(readNumber));
      }
      // every read of the three used: the fourth is refused, with the same reason the view gives
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        household.assetId,
        assetGrant,
        AccessCheck.GrantExhausted,
      );
    });

    it("burns after reading: maxReads 1 allows one read, the second is GrantExhausted", async () => {
      const { dataSafe, actors: a, household } = await withGrants();
      await dataSafe.connect(a.citizen).grant({
        subjectId: CITIZEN,
        consumers: [a.school.address],
        scope: GrantScope.Asset,
        targets: [household.assetId],
        purpose: ENROLMENT,
        expiresAt: BigInt((await time.latest()) + DAY),
        maxReads: 1,
      });
      const grantId = grantIdOf({
        subjectId: CITIZEN,
        consumer: a.school.address,
        scope: GrantScope.Asset,
        target: household.assetId,
        purpose: ENROLMENT,
      });
      await expect(dataSafe.connect(a.school).recordAccess(CITIZEN, GrantScope.Asset, ENROLMENT, household.assetId))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(grantId, CITIZEN, a.school.address, accessIdOf(grantId, 1, 1), household.assetId, ENROLMENT, 1, 1, 1);
      await expectDenied(
        dataSafe,
        a.school,
        CITIZEN,
        GrantScope.Asset,
        ENROLMENT,
        household.assetId,
        grantId,
        AccessCheck.GrantExhausted,
      );
      expect((await dataSafe.getGrant(grantId)).reads).to.equal(1n);
    });

    it("type grant: reads the holder's current asset of the type, follows a supersede, refuses the old version", async () => {
      const { dataSafe, actors: a, fund, typeGrant } = await withGrants();
      await expect(dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.DataType, LOAN, fund.assetId))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(typeGrant, CITIZEN, a.bank.address, accessIdOf(typeGrant, 1, 1), fund.assetId, LOAN, 1, 3, 1);

      const next = { ...fund.asset, contentCommitment: random32(), payloadPointer: random32() };
      const newId = await dataSafe.connect(a.housingFundCentre).supersedeAsset.staticCall(fund.key, next);
      await dataSafe.connect(a.housingFundCentre).supersedeAsset(fund.key, next);

      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        fund.assetId,
        typeGrant,
        AccessCheck.AssetNotValid,
      );
      expect(await dataSafe.checkAccess(CITIZEN, a.bank.address, GrantScope.DataType, LOAN, newId)).to.equal(
        AccessCheck.Allowed,
      );
      await expect(dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.DataType, LOAN, newId))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(typeGrant, CITIZEN, a.bank.address, accessIdOf(typeGrant, 1, 2), newId, LOAN, 2, 3, 1);
    });

    it("asset grant: does not follow a supersede (the new version is another asset)", async () => {
      const { dataSafe, actors: a, household, assetGrant } = await withGrants();
      const next = { ...household.asset, contentCommitment: random32() };
      const newId = await dataSafe.connect(a.publicSecurity).supersedeAsset.staticCall(household.key, next);
      await dataSafe.connect(a.publicSecurity).supersedeAsset(household.key, next);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        household.assetId,
        assetGrant,
        AccessCheck.AssetNotValid,
      );
      const newGrant = grantIdOf({
        subjectId: CITIZEN,
        consumer: a.bank.address,
        scope: GrantScope.Asset,
        target: newId,
        purpose: LOAN,
      });
      await expectDenied(dataSafe, a.bank, CITIZEN, GrantScope.Asset, LOAN, newId, newGrant, AccessCheck.NoGrant);
    });

    it("refuses after expiry (GrantExpired), reading up to the expiry second", async () => {
      const { dataSafe, actors: a, household, assetGrant, expiresAt } = await withGrants();
      const snapshot = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(expiresAt);
      await expect(dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.Asset, LOAN, household.assetId)).to.emit(
        dataSafe,
        "AccessRecorded",
      );
      await snapshot.restore();
      await time.increaseTo(expiresAt + 1n);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        household.assetId,
        assetGrant,
        AccessCheck.GrantExpired,
      );
    });

    it("refuses a revoked grant (GrantRevoked), both scopes", async () => {
      const { dataSafe, actors: a, household, fund, assetKey, assetGrant, typeKey, typeGrant } = await withGrants();
      await dataSafe.connect(a.citizen).revoke(assetKey);
      await dataSafe.connect(a.citizen).revoke(typeKey);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        household.assetId,
        assetGrant,
        AccessCheck.GrantRevoked,
      );
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        fund.assetId,
        typeGrant,
        AccessCheck.GrantRevoked,
      );
    });

    it("refuses without a grant, for another purpose, another consumer, another scope (NoGrant)", async () => {
      const { dataSafe, actors: a, household, fund } = await withGrants();
      const idCard = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.IdCard);
      const gid = (consumer: string, scope: number, target: string, purpose: number) =>
        grantIdOf({ subjectId: CITIZEN, consumer, scope, target, purpose });
      // an asset never granted
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        idCard.assetId,
        gid(a.bank.address, GrantScope.Asset, idCard.assetId, LOAN),
        AccessCheck.NoGrant,
      );
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        idCard.assetId,
        gid(a.bank.address, GrantScope.DataType, typeTarget(DataType.IdCard), LOAN),
        AccessCheck.NoGrant,
      );
      // wrong purpose
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        ENROLMENT,
        household.assetId,
        gid(a.bank.address, GrantScope.Asset, household.assetId, ENROLMENT),
        AccessCheck.NoGrant,
      );
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        ENROLMENT,
        fund.assetId,
        gid(a.bank.address, GrantScope.DataType, typeTarget(DataType.HousingFund), ENROLMENT),
        AccessCheck.NoGrant,
      );
      // another consumer than the one granted
      await expectDenied(
        dataSafe,
        a.school,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        household.assetId,
        gid(a.school.address, GrantScope.Asset, household.assetId, LOAN),
        AccessCheck.NoGrant,
      );
      await expectDenied(
        dataSafe,
        a.school,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        fund.assetId,
        gid(a.school.address, GrantScope.DataType, typeTarget(DataType.HousingFund), LOAN),
        AccessCheck.NoGrant,
      );
      // the household asset is granted by asset, not by type
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        household.assetId,
        gid(a.bank.address, GrantScope.DataType, typeTarget(DataType.HouseholdRegister), LOAN),
        AccessCheck.NoGrant,
      );
    });

    it("refuses someone else's asset under a type grant, and under an asset grant's holder (AssetNotOwned)", async () => {
      const { dataSafe, actors: a, typeGrant, assetGrant } = await withGrants();
      const companyFund = await issue(dataSafe, a.housingFundCentre, COMPANY, DataType.HousingFund);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        companyFund.assetId,
        typeGrant,
        AccessCheck.AssetNotOwned,
      );
      const companyHousehold = await issue(dataSafe, a.publicSecurity, COMPANY, DataType.HouseholdRegister);
      const wrongGrant = grantIdOf({
        subjectId: CITIZEN,
        consumer: a.bank.address,
        scope: GrantScope.Asset,
        target: companyHousehold.assetId,
        purpose: LOAN,
      });
      expect(wrongGrant).to.not.equal(assetGrant);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        companyHousehold.assetId,
        wrongGrant,
        AccessCheck.AssetNotOwned,
      );
    });

    it("refuses a revoked, an unknown and an expired asset (AssetNotValid)", async () => {
      const { dataSafe, actors: a, household, assetGrant, typeGrant } = await withGrants();
      const expiring = await issue(
        dataSafe,
        a.housingFundCentre,
        CITIZEN,
        DataType.HousingFund,
        (await time.latest()) + 100,
      );
      expect(await dataSafe.checkAccess(CITIZEN, a.bank.address, GrantScope.DataType, LOAN, expiring.assetId)).to.equal(
        AccessCheck.Allowed,
      );
      await dataSafe.connect(a.publicSecurity).revokeAsset(household.key, 5);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        household.assetId,
        assetGrant,
        AccessCheck.AssetNotValid,
      );
      const unknown = random32();
      const unknownGrant = grantIdOf({
        subjectId: CITIZEN,
        consumer: a.bank.address,
        scope: GrantScope.DataType,
        target: ethers.ZeroHash,
        purpose: LOAN,
      });
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        unknown,
        unknownGrant,
        AccessCheck.AssetNotValid,
      );
      await time.increase(200);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        expiring.assetId,
        typeGrant,
        AccessCheck.AssetNotValid,
      );
    });

    it("refuses a suspended consumer (ConsumerNotActive) and reads again once reinstated", async () => {
      const { dataSafe, actors: a, household, assetGrant, fund, typeGrant } = await withGrants();
      await dataSafe.connect(a.regulator).suspendMember(a.bank.address, 3);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        household.assetId,
        assetGrant,
        AccessCheck.ConsumerNotActive,
      );
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.DataType,
        LOAN,
        fund.assetId,
        typeGrant,
        AccessCheck.ConsumerNotActive,
      );
      await dataSafe.connect(a.regulator).reinstateMember(a.bank.address);
      expect(await dataSafe.checkAccess(CITIZEN, a.bank.address, GrantScope.Asset, LOAN, household.assetId)).to.equal(
        AccessCheck.Allowed,
      );
      await expect(dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.Asset, LOAN, household.assetId))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(assetGrant, CITIZEN, a.bank.address, accessIdOf(assetGrant, 1, 1), household.assetId, LOAN, 1, 3, 1);
    });

    it("refuses non-consumers (ConsumerNotActive): a department, a stranger", async () => {
      const { dataSafe, actors: a, household } = await withGrants();
      for (const who of [a.publicSecurity, a.stranger, a.citizen]) {
        const gid = grantIdOf({
          subjectId: CITIZEN,
          consumer: who.address,
          scope: GrantScope.Asset,
          target: household.assetId,
          purpose: LOAN,
        });
        await expectDenied(
          dataSafe,
          who,
          CITIZEN,
          GrantScope.Asset,
          LOAN,
          household.assetId,
          gid,
          AccessCheck.ConsumerNotActive,
        );
      }
    });

    it("a renewal restores an exhausted grant as a new version, with its own read numbers", async () => {
      const { dataSafe, actors: a, household, assetGrant, expiresAt } = await withGrants();
      for (let i = 0; i < 3; i++)
        await dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.Asset, LOAN, household.assetId);
      expect(await dataSafe.checkAccess(CITIZEN, a.bank.address, GrantScope.Asset, LOAN, household.assetId)).to.equal(
        AccessCheck.GrantExhausted,
      );
      await dataSafe.connect(a.citizen).grant({
        subjectId: CITIZEN,
        consumers: [a.bank.address],
        scope: GrantScope.Asset,
        targets: [household.assetId],
        purpose: LOAN,
        expiresAt,
        maxReads: 1,
      });
      await expect(dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.Asset, LOAN, household.assetId))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(assetGrant, CITIZEN, a.bank.address, accessIdOf(assetGrant, 2, 1), household.assetId, LOAN, 1, 1, 2);
      await expectDenied(
        dataSafe,
        a.bank,
        CITIZEN,
        GrantScope.Asset,
        LOAN,
        household.assetId,
        assetGrant,
        AccessCheck.GrantExhausted,
      );
    });
  });

  describe("recordOutcome", () => {
    async function withRead() {
      const ctx = await withGrants();
      const { dataSafe, actors: a, household } = ctx;
      await dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.Asset, LOAN, household.assetId);
      return ctx;
    }

    it("records an outcome once", async () => {
      const { dataSafe, actors: a, assetKey, assetGrant } = await withRead();
      const accessId = accessIdOf(assetGrant, 1, 1);
      const reference = random32();
      expect(await dataSafe.outcomeOf(accessId)).to.equal(0n);
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 1, 1, 2, reference))
        .to.emit(dataSafe, "AccessOutcomeRecorded")
        .withArgs(accessId, assetGrant, a.bank.address, 2, reference);
      expect(await dataSafe.outcomeOf(accessId)).to.equal(2n);
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 1, 1, 3, random32()))
        .to.be.revertedWithCustomError(dataSafe, "OutcomeAlreadyRecorded")
        .withArgs(accessId);
      expect(await dataSafe.outcomeOf(accessId)).to.equal(2n);
    });

    it("refuses an unknown read number, version, or another consumer (UnknownAccess)", async () => {
      const { dataSafe, actors: a, assetKey, assetGrant } = await withRead();
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 1, 2, 1, random32()))
        .to.be.revertedWithCustomError(dataSafe, "UnknownAccess")
        .withArgs(assetGrant, 1, 2);
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 1, 0, 1, random32()))
        .to.be.revertedWithCustomError(dataSafe, "UnknownAccess")
        .withArgs(assetGrant, 1, 0);
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 2, 1, 1, random32()))
        .to.be.revertedWithCustomError(dataSafe, "UnknownAccess")
        .withArgs(assetGrant, 2, 1);
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 0, 1, 1, random32()))
        .to.be.revertedWithCustomError(dataSafe, "UnknownAccess")
        .withArgs(assetGrant, 0, 1);
      // the school is a consumer, but not this grant's
      await expect(dataSafe.connect(a.school).recordOutcome(assetKey, 1, 1, 1, random32()))
        .to.be.revertedWithCustomError(dataSafe, "UnknownAccess")
        .withArgs(assetGrant, 1, 1);
      // nor has it a grant of its own
      const schoolKey = { ...assetKey, consumer: a.school.address };
      await expect(dataSafe.connect(a.school).recordOutcome(schoolKey, 1, 1, 1, random32()))
        .to.be.revertedWithCustomError(dataSafe, "UnknownAccess")
        .withArgs(grantIdOf(schoolKey), 1, 1);
      // the type grant was never read
      const typeKey = { ...assetKey, scope: GrantScope.DataType, target: typeTarget(DataType.HousingFund) };
      await expect(dataSafe.connect(a.bank).recordOutcome(typeKey, 1, 1, 1, random32()))
        .to.be.revertedWithCustomError(dataSafe, "UnknownAccess")
        .withArgs(grantIdOf(typeKey), 1, 1);
      expect(await dataSafe.outcomeOf(accessIdOf(assetGrant, 1, 1))).to.equal(0n);
    });

    it("refuses outcome 0 (InvalidOutcome)", async () => {
      const { dataSafe, actors: a, assetKey, assetGrant } = await withRead();
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 1, 1, 0, random32())).to.be.revertedWithCustomError(
        dataSafe,
        "InvalidOutcome",
      );
      expect(await dataSafe.outcomeOf(accessIdOf(assetGrant, 1, 1))).to.equal(0n);
    });

    it("refuses a caller that is not an active consumer", async () => {
      const { dataSafe, actors: a, assetKey } = await withRead();
      await expect(dataSafe.connect(a.stranger).recordOutcome(assetKey, 1, 1, 1, random32()))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(a.stranger.address, MemberKind.Consumer);
    });

    it("records outcomes of a revoked grant's reads, but not of a renewed grant's earlier version", async () => {
      const { dataSafe, actors: a, assetKey, assetGrant, household, expiresAt } = await withRead();
      await dataSafe.connect(a.bank).recordAccess(CITIZEN, GrantScope.Asset, LOAN, household.assetId);
      await dataSafe.connect(a.citizen).revoke(assetKey);
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 1, 1, 1, ethers.ZeroHash))
        .to.emit(dataSafe, "AccessOutcomeRecorded")
        .withArgs(accessIdOf(assetGrant, 1, 1), assetGrant, a.bank.address, 1, ethers.ZeroHash);
      await dataSafe.connect(a.citizen).grant({
        subjectId: CITIZEN,
        consumers: [a.bank.address],
        scope: GrantScope.Asset,
        targets: [household.assetId],
        purpose: LOAN,
        expiresAt,
        maxReads: 1,
      });
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 1, 2, 1, ethers.ZeroHash))
        .to.be.revertedWithCustomError(dataSafe, "UnknownAccess")
        .withArgs(assetGrant, 1, 2);
    });
  });
});
