import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";

import type { DataSafe } from "../../typechain-types/index.js";
import {
  AccessCheck,
  CITIZEN,
  COMPANY,
  DataType,
  GrantScope,
  MemberKind,
  assetIdOf,
  deployWithParticipants,
  ethers,
  grantIdOf,
  networkHelpers,
  random32,
  typeTarget,
} from "../helpers/fixtures.js";
import {
  type AssetKey,
  accessIdOf,
  authorize,
  grantBankHouseholdAndFund,
  grantMessage,
  issue,
  makeRequest,
} from "../helpers/consent.js";

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
  asset: AssetKey,
  scope: number,
  purpose: number,
  grantId: string,
  reason: number,
  fields: bigint | number = 0,
) {
  expect(await dataSafe.checkAccess(asset, consumer.address, scope, purpose, fields)).to.equal(reason);
  const before = await dataSafe.getGrant(grantId);
  await expect(dataSafe.connect(consumer).recordAccess(asset, scope, purpose, fields))
    .to.be.revertedWithCustomError(dataSafe, "AccessDenied")
    .withArgs(grantId, assetIdOf(asset.issuer, asset), reason);
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
      expect(await dataSafe.checkAccess(household.key, a.bank.address, GrantScope.Asset, LOAN, 0)).to.equal(
        AccessCheck.Allowed,
      );
      for (const readNumber of [1, 2, 3]) {
        const accessId = accessIdOf(assetGrant, 1, readNumber);
        expect(
          await dataSafe.connect(a.bank).recordAccess.staticCall(household.key, GrantScope.Asset, LOAN, 0),
        ).to.equal(accessId);
        await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0))
          .to.emit(dataSafe, "AccessRecorded")
          .withArgs(assetGrant, CITIZEN, a.bank.address, accessId, household.assetId, LOAN, 0, readNumber, 3, 1);
        expect((await dataSafe.getGrant(assetGrant)).reads).to.equal(BigInt(readNumber));
      }
      // every read of the three used: the fourth is refused, with the same reason the view gives
      await expectDenied(
        dataSafe,
        a.bank,
        household.key,
        GrantScope.Asset,
        LOAN,
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
        fields: 0,
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
      await expect(dataSafe.connect(a.school).recordAccess(household.key, GrantScope.Asset, ENROLMENT, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(
          grantId,
          CITIZEN,
          a.school.address,
          accessIdOf(grantId, 1, 1),
          household.assetId,
          ENROLMENT,
          0,
          1,
          1,
          1,
        );
      await expectDenied(
        dataSafe,
        a.school,
        household.key,
        GrantScope.Asset,
        ENROLMENT,
        grantId,
        AccessCheck.GrantExhausted,
      );
      expect((await dataSafe.getGrant(grantId)).reads).to.equal(1n);
    });

    it("type grant: reads the holder's current asset of the type, follows a supersede, refuses the old version", async () => {
      const { dataSafe, actors: a, fund, typeGrant } = await withGrants();
      await expect(dataSafe.connect(a.bank).recordAccess(fund.key, GrantScope.DataType, LOAN, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(typeGrant, CITIZEN, a.bank.address, accessIdOf(typeGrant, 1, 1), fund.assetId, LOAN, 0, 1, 3, 1);

      const next = { ...fund.asset, contentCommitment: random32(), payloadPointer: random32() };
      const newId = await dataSafe.connect(a.housingFundCentre).supersedeAsset.staticCall(fund.key, next);
      await dataSafe.connect(a.housingFundCentre).supersedeAsset(fund.key, next);
      const newKey = { ...fund.key, contentCommitment: next.contentCommitment };

      await expectDenied(dataSafe, a.bank, fund.key, GrantScope.DataType, LOAN, typeGrant, AccessCheck.AssetNotValid);
      expect(await dataSafe.checkAccess(newKey, a.bank.address, GrantScope.DataType, LOAN, 0)).to.equal(
        AccessCheck.Allowed,
      );
      await expect(dataSafe.connect(a.bank).recordAccess(newKey, GrantScope.DataType, LOAN, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(typeGrant, CITIZEN, a.bank.address, accessIdOf(typeGrant, 1, 2), newId, LOAN, 0, 2, 3, 1);
    });

    it("asset grant: does not follow a supersede (the new version is another asset)", async () => {
      const { dataSafe, actors: a, household, assetGrant } = await withGrants();
      const next = { ...household.asset, contentCommitment: random32() };
      const newId = await dataSafe.connect(a.publicSecurity).supersedeAsset.staticCall(household.key, next);
      await dataSafe.connect(a.publicSecurity).supersedeAsset(household.key, next);
      const newKey = { ...household.key, contentCommitment: next.contentCommitment };
      await expectDenied(
        dataSafe,
        a.bank,
        household.key,
        GrantScope.Asset,
        LOAN,
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
      await expectDenied(dataSafe, a.bank, newKey, GrantScope.Asset, LOAN, newGrant, AccessCheck.NoGrant);
    });

    it("refuses after expiry (GrantExpired), reading up to the expiry second", async () => {
      const { dataSafe, actors: a, household, assetGrant, expiresAt } = await withGrants();
      const snapshot = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(expiresAt);
      await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0)).to.emit(
        dataSafe,
        "AccessRecorded",
      );
      await snapshot.restore();
      await time.increaseTo(expiresAt + 1n);
      await expectDenied(dataSafe, a.bank, household.key, GrantScope.Asset, LOAN, assetGrant, AccessCheck.GrantExpired);
    });

    it("refuses a revoked grant (GrantRevoked), both scopes", async () => {
      const { dataSafe, actors: a, household, fund, assetKey, assetGrant, typeKey, typeGrant } = await withGrants();
      await dataSafe.connect(a.citizen).revoke(assetKey);
      await dataSafe.connect(a.citizen).revoke(typeKey);
      await expectDenied(dataSafe, a.bank, household.key, GrantScope.Asset, LOAN, assetGrant, AccessCheck.GrantRevoked);
      await expectDenied(dataSafe, a.bank, fund.key, GrantScope.DataType, LOAN, typeGrant, AccessCheck.GrantRevoked);
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
        idCard.key,
        GrantScope.Asset,
        LOAN,
        gid(a.bank.address, GrantScope.Asset, idCard.assetId, LOAN),
        AccessCheck.NoGrant,
      );
      await expectDenied(
        dataSafe,
        a.bank,
        idCard.key,
        GrantScope.DataType,
        LOAN,
        gid(a.bank.address, GrantScope.DataType, typeTarget(DataType.IdCard), LOAN),
        AccessCheck.NoGrant,
      );
      // wrong purpose
      await expectDenied(
        dataSafe,
        a.bank,
        household.key,
        GrantScope.Asset,
        ENROLMENT,
        gid(a.bank.address, GrantScope.Asset, household.assetId, ENROLMENT),
        AccessCheck.NoGrant,
      );
      await expectDenied(
        dataSafe,
        a.bank,
        fund.key,
        GrantScope.DataType,
        ENROLMENT,
        gid(a.bank.address, GrantScope.DataType, typeTarget(DataType.HousingFund), ENROLMENT),
        AccessCheck.NoGrant,
      );
      // another consumer than the one granted
      await expectDenied(
        dataSafe,
        a.school,
        household.key,
        GrantScope.Asset,
        LOAN,
        gid(a.school.address, GrantScope.Asset, household.assetId, LOAN),
        AccessCheck.NoGrant,
      );
      await expectDenied(
        dataSafe,
        a.school,
        fund.key,
        GrantScope.DataType,
        LOAN,
        gid(a.school.address, GrantScope.DataType, typeTarget(DataType.HousingFund), LOAN),
        AccessCheck.NoGrant,
      );
      // the household asset is granted by asset, not by type
      await expectDenied(
        dataSafe,
        a.bank,
        household.key,
        GrantScope.DataType,
        LOAN,
        gid(a.bank.address, GrantScope.DataType, typeTarget(DataType.HouseholdRegister), LOAN),
        AccessCheck.NoGrant,
      );
    });

    it("a read's key names its holder: another holder's asset meets that holder's grants (NoGrant); a key with the holder changed names no asset", async () => {
      const { dataSafe, actors: a, household } = await withGrants();
      const companyFund = await issue(dataSafe, a.housingFundCentre, COMPANY, DataType.HousingFund);
      const companyGrant = grantIdOf({
        subjectId: COMPANY,
        consumer: a.bank.address,
        scope: GrantScope.DataType,
        target: typeTarget(DataType.HousingFund),
        purpose: LOAN,
      });
      await expectDenied(
        dataSafe,
        a.bank,
        companyFund.key,
        GrantScope.DataType,
        LOAN,
        companyGrant,
        AccessCheck.NoGrant,
      );
      // the citizen's household register claimed for the company: no asset has that id
      const forged = { ...household.key, subjectId: COMPANY };
      const forgedGrant = grantIdOf({
        subjectId: COMPANY,
        consumer: a.bank.address,
        scope: GrantScope.Asset,
        target: assetIdOf(forged.issuer, forged),
        purpose: LOAN,
      });
      await expectDenied(dataSafe, a.bank, forged, GrantScope.Asset, LOAN, forgedGrant, AccessCheck.AssetNotValid);
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
      expect(await dataSafe.checkAccess(expiring.key, a.bank.address, GrantScope.DataType, LOAN, 0)).to.equal(
        AccessCheck.Allowed,
      );
      await dataSafe.connect(a.publicSecurity).revokeAsset(household.key, 5);
      await expectDenied(
        dataSafe,
        a.bank,
        household.key,
        GrantScope.Asset,
        LOAN,
        assetGrant,
        AccessCheck.AssetNotValid,
      );
      const unknownKey = { ...household.key, contentCommitment: random32() };
      const unknownGrant = grantIdOf({
        subjectId: CITIZEN,
        consumer: a.bank.address,
        scope: GrantScope.DataType,
        target: typeTarget(DataType.HouseholdRegister),
        purpose: LOAN,
      });
      await expectDenied(
        dataSafe,
        a.bank,
        unknownKey,
        GrantScope.DataType,
        LOAN,
        unknownGrant,
        AccessCheck.AssetNotValid,
      );
      await time.increase(200);
      await expectDenied(
        dataSafe,
        a.bank,
        expiring.key,
        GrantScope.DataType,
        LOAN,
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
        household.key,
        GrantScope.Asset,
        LOAN,
        assetGrant,
        AccessCheck.ConsumerNotActive,
      );
      await expectDenied(
        dataSafe,
        a.bank,
        fund.key,
        GrantScope.DataType,
        LOAN,
        typeGrant,
        AccessCheck.ConsumerNotActive,
      );
      await dataSafe.connect(a.regulator).reinstateMember(a.bank.address);
      expect(await dataSafe.checkAccess(household.key, a.bank.address, GrantScope.Asset, LOAN, 0)).to.equal(
        AccessCheck.Allowed,
      );
      await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(
          assetGrant,
          CITIZEN,
          a.bank.address,
          accessIdOf(assetGrant, 1, 1),
          household.assetId,
          LOAN,
          0,
          1,
          3,
          1,
        );
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
        await expectDenied(dataSafe, who, household.key, GrantScope.Asset, LOAN, gid, AccessCheck.ConsumerNotActive);
      }
    });

    it("a renewal restores an exhausted grant as a new version, with its own read numbers", async () => {
      const { dataSafe, actors: a, household, assetGrant, expiresAt } = await withGrants();
      for (let i = 0; i < 3; i++) await dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0);
      expect(await dataSafe.checkAccess(household.key, a.bank.address, GrantScope.Asset, LOAN, 0)).to.equal(
        AccessCheck.GrantExhausted,
      );
      await dataSafe.connect(a.citizen).grant({
        subjectId: CITIZEN,
        consumers: [a.bank.address],
        scope: GrantScope.Asset,
        targets: [household.assetId],
        fields: 0,
        purpose: LOAN,
        expiresAt,
        maxReads: 1,
      });
      await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(
          assetGrant,
          CITIZEN,
          a.bank.address,
          accessIdOf(assetGrant, 2, 1),
          household.assetId,
          LOAN,
          0,
          1,
          1,
          2,
        );
      await expectDenied(
        dataSafe,
        a.bank,
        household.key,
        GrantScope.Asset,
        LOAN,
        assetGrant,
        AccessCheck.GrantExhausted,
      );
    });
  });

  describe("field-level consent", () => {
    // household-register fields in schema order: householdNumber, relationToHead, registrationType,
    // district, registeredOn (scripts/catalog.ts); bit i is the i-th
    const DISTRICT = 1n << 3n;
    const REGISTRATION_TYPE = 1n << 2n;
    const HOUSEHOLD_NUMBER = 1n;

    async function withDistrictGrant() {
      const ctx = await withGrants();
      const { dataSafe, actors: a, household } = ctx;
      const key = {
        subjectId: CITIZEN,
        consumer: a.school.address,
        scope: GrantScope.Asset,
        target: household.assetId,
        purpose: ENROLMENT,
      };
      const expiresAt = BigInt((await time.latest()) + DAY);
      const terms = {
        subjectId: CITIZEN,
        consumers: [a.school.address],
        scope: GrantScope.Asset,
        targets: [household.assetId],
        fields: DISTRICT | REGISTRATION_TYPE,
        purpose: ENROLMENT,
        expiresAt,
        maxReads: 5,
      };
      const tx = dataSafe.connect(a.citizen).grant(terms);
      return { ...ctx, key, grantId: grantIdOf(key), terms, expiresAt, tx };
    }

    it("a grant stores and announces its field subset", async () => {
      const { dataSafe, actors: a, household, grantId, expiresAt, tx } = await withDistrictGrant();
      await expect(tx)
        .to.emit(dataSafe, "GrantIssued")
        .withArgs(
          grantId,
          CITIZEN,
          a.school.address,
          GrantScope.Asset,
          household.assetId,
          DISTRICT | REGISTRATION_TYPE,
          ENROLMENT,
          expiresAt,
          5,
          1,
          ethers.ZeroHash,
        );
      expect((await dataSafe.getGrant(grantId)).fields).to.equal(DISTRICT | REGISTRATION_TYPE);
    });

    it("reads of granted fields are recorded with the fields read; the event tells the gateway what to release", async () => {
      const { dataSafe, actors: a, household, grantId, tx } = await withDistrictGrant();
      await tx;
      for (const [readNumber, fields] of [DISTRICT, REGISTRATION_TYPE, DISTRICT | REGISTRATION_TYPE].entries()) {
        expect(
          await dataSafe.checkAccess(household.key, a.school.address, GrantScope.Asset, ENROLMENT, fields),
        ).to.equal(AccessCheck.Allowed);
        await expect(dataSafe.connect(a.school).recordAccess(household.key, GrantScope.Asset, ENROLMENT, fields))
          .to.emit(dataSafe, "AccessRecorded")
          .withArgs(
            grantId,
            CITIZEN,
            a.school.address,
            accessIdOf(grantId, 1, readNumber + 1),
            household.assetId,
            ENROLMENT,
            fields,
            readNumber + 1,
            5,
            1,
          );
      }
      expect((await dataSafe.getGrant(grantId)).reads).to.equal(3n);
    });

    it("refuses a field outside the grant, and the whole record, without consuming a read (FieldsNotGranted)", async () => {
      const { dataSafe, actors: a, household, grantId, tx } = await withDistrictGrant();
      await tx;
      for (const fields of [HOUSEHOLD_NUMBER, DISTRICT | HOUSEHOLD_NUMBER, 0n, 1n << 63n]) {
        await expectDenied(
          dataSafe,
          a.school,
          household.key,
          GrantScope.Asset,
          ENROLMENT,
          grantId,
          AccessCheck.FieldsNotGranted,
          fields,
        );
      }
      expect((await dataSafe.getGrant(grantId)).reads).to.equal(0n);
    });

    it("a whole-record grant (fields 0) covers the whole record and any subset", async () => {
      const { dataSafe, actors: a, household, assetGrant } = await withGrants();
      await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(
          assetGrant,
          CITIZEN,
          a.bank.address,
          accessIdOf(assetGrant, 1, 1),
          household.assetId,
          LOAN,
          0,
          1,
          3,
          1,
        );
      await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, DISTRICT))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(
          assetGrant,
          CITIZEN,
          a.bank.address,
          accessIdOf(assetGrant, 1, 2),
          household.assetId,
          LOAN,
          DISTRICT,
          2,
          3,
          1,
        );
    });

    it("a request names fields; its approval grants exactly them", async () => {
      const { dataSafe, actors: a, household } = await withGrants();
      const { requestId, request } = await makeRequest(dataSafe, a.school, {
        subjectId: CITIZEN,
        scope: GrantScope.Asset,
        targets: [household.assetId],
        fields: DISTRICT,
        purpose: ENROLMENT,
        grantDuration: DAY,
        maxReads: 1,
        expiresAt: (await time.latest()) + DAY,
      });
      expect(request.fields).to.equal(DISTRICT);
      const grantId = grantIdOf({
        subjectId: CITIZEN,
        consumer: a.school.address,
        scope: GrantScope.Asset,
        target: household.assetId,
        purpose: ENROLMENT,
      });
      await expect(dataSafe.connect(a.citizen).approveRequest(request))
        .to.emit(dataSafe, "GrantIssued")
        .withArgs(
          grantId,
          CITIZEN,
          a.school.address,
          GrantScope.Asset,
          household.assetId,
          DISTRICT,
          ENROLMENT,
          anyValue,
          1,
          1,
          requestId,
        );
      expect((await dataSafe.getGrant(grantId)).fields).to.equal(DISTRICT);
      await expectDenied(
        dataSafe,
        a.school,
        household.key,
        GrantScope.Asset,
        ENROLMENT,
        grantId,
        AccessCheck.FieldsNotGranted,
        REGISTRATION_TYPE,
      );
      await expect(
        dataSafe.connect(a.school).recordAccess(household.key, GrantScope.Asset, ENROLMENT, DISTRICT),
      ).to.emit(dataSafe, "AccessRecorded");
    });

    it("a renewal replaces the field subset", async () => {
      const { dataSafe, actors: a, household, grantId, terms, tx } = await withDistrictGrant();
      await tx;
      await dataSafe.connect(a.citizen).grant({ ...terms, fields: HOUSEHOLD_NUMBER });
      expect((await dataSafe.getGrant(grantId)).fields).to.equal(HOUSEHOLD_NUMBER);
      await expectDenied(
        dataSafe,
        a.school,
        household.key,
        GrantScope.Asset,
        ENROLMENT,
        grantId,
        AccessCheck.FieldsNotGranted,
        DISTRICT,
      );
    });
  });

  describe("what a data-type grant covers: its department's current asset of the type", () => {
    it("a second department issuing the same type after the grant is not covered; the named one's updates are", async () => {
      const { dataSafe, catalog, actors: a } = await withGrants();
      const household = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.HouseholdRegister);
      const key = {
        subjectId: CITIZEN,
        consumer: a.school.address,
        scope: GrantScope.DataType,
        target: typeTarget(DataType.HouseholdRegister, a.publicSecurity.address),
        purpose: ENROLMENT,
      };
      await dataSafe.connect(a.citizen).grant({
        subjectId: CITIZEN,
        consumers: [a.school.address],
        scope: GrantScope.DataType,
        targets: [key.target],
        fields: 0,
        purpose: ENROLMENT,
        expiresAt: BigInt((await time.latest()) + 30 * DAY),
        maxReads: 5,
      });
      const grantId = grantIdOf(key);

      // after the grant, a second department is authorised for the type and returns the citizen a record
      await catalog.connect(a.catalogAdmin).authoriseIssuer(DataType.HouseholdRegister, a.housingFundCentre.address);
      const second = await issue(dataSafe, a.housingFundCentre, CITIZEN, DataType.HouseholdRegister);
      const secondGrant = grantIdOf({
        ...key,
        target: typeTarget(DataType.HouseholdRegister, a.housingFundCentre.address),
      });
      await expectDenied(
        dataSafe,
        a.school,
        second.key,
        GrantScope.DataType,
        ENROLMENT,
        secondGrant,
        AccessCheck.NoGrant,
      );

      // the named department's record is covered, and so is its next version, but not the one it replaced
      await expect(dataSafe.connect(a.school).recordAccess(household.key, GrantScope.DataType, ENROLMENT, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(
          grantId,
          CITIZEN,
          a.school.address,
          accessIdOf(grantId, 1, 1),
          household.assetId,
          ENROLMENT,
          0,
          1,
          5,
          1,
        );
      const next = { ...household.asset, contentCommitment: random32() };
      const nextId = await dataSafe.connect(a.publicSecurity).supersedeAsset.staticCall(household.key, next);
      await dataSafe.connect(a.publicSecurity).supersedeAsset(household.key, next);
      const nextKey = { ...household.key, contentCommitment: next.contentCommitment };
      await expect(dataSafe.connect(a.school).recordAccess(nextKey, GrantScope.DataType, ENROLMENT, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(grantId, CITIZEN, a.school.address, accessIdOf(grantId, 1, 2), nextId, ENROLMENT, 0, 2, 5, 1);
      await expectDenied(
        dataSafe,
        a.school,
        household.key,
        GrantScope.DataType,
        ENROLMENT,
        grantId,
        AccessCheck.AssetNotValid,
      );
      // another type from the same department is another target
      const idCard = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.IdCard);
      await expectDenied(
        dataSafe,
        a.school,
        idCard.key,
        GrantScope.DataType,
        ENROLMENT,
        grantIdOf({ ...key, target: typeTarget(DataType.IdCard, a.publicSecurity.address) }),
        AccessCheck.NoGrant,
      );
      expect((await dataSafe.getGrant(grantId)).reads).to.equal(2n);
    });

    it("the department is part of what the holder signs: a grant signed for one department is refused for another", async () => {
      const { dataSafe, catalog, actors: a } = await withGrants();
      await catalog.connect(a.catalogAdmin).authoriseIssuer(DataType.HouseholdRegister, a.housingFundCentre.address);
      const terms = {
        subjectId: CITIZEN,
        consumers: [a.school.address],
        scope: GrantScope.DataType,
        targets: [typeTarget(DataType.HouseholdRegister, a.publicSecurity.address)],
        fields: 0,
        purpose: ENROLMENT,
        expiresAt: BigInt((await time.latest()) + DAY),
        maxReads: 1,
      };
      const auth = await authorize(dataSafe, a.citizen, CITIZEN, "Grant", grantMessage(terms));
      const otherDepartment = {
        ...terms,
        targets: [typeTarget(DataType.HouseholdRegister, a.housingFundCentre.address)],
      };
      await expect(dataSafe.connect(a.stranger).grantBySig(otherDepartment, auth))
        .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
        .withArgs(CITIZEN, a.citizen.address);
      await expect(dataSafe.connect(a.stranger).grantBySig(terms, auth)).to.emit(dataSafe, "GrantIssued");
    });
  });

  describe("the issuer's status", () => {
    it("a suspended issuer's assets are neither vouched for nor readable until it is reinstated (IssuerSuspended)", async () => {
      const { dataSafe, actors: a, household, assetGrant, fund, typeGrant } = await withGrants();
      expect(await dataSafe.verifyAsset(household.key)).to.equal(true);
      await dataSafe.connect(a.regulator).suspendMember(a.publicSecurity.address, 4);

      expect(await dataSafe.verifyAsset(household.key)).to.equal(false);
      expect(await dataSafe.isValid(household.assetId)).to.equal(true); // the record itself is unchanged
      await expectDenied(
        dataSafe,
        a.bank,
        household.key,
        GrantScope.Asset,
        LOAN,
        assetGrant,
        AccessCheck.IssuerSuspended,
      );
      // another department's assets still flow
      await expect(dataSafe.connect(a.bank).recordAccess(fund.key, GrantScope.DataType, LOAN, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(typeGrant, CITIZEN, a.bank.address, accessIdOf(typeGrant, 1, 1), fund.assetId, LOAN, 0, 1, 3, 1);

      await dataSafe.connect(a.regulator).reinstateMember(a.publicSecurity.address);
      expect(await dataSafe.verifyAsset(household.key)).to.equal(true);
      await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0)).to.emit(
        dataSafe,
        "AccessRecorded",
      );
    });

    it("an issuer deauthorised for the type still vouches for what it issued; it issues no more", async () => {
      const { dataSafe, catalog, actors: a, fund, typeGrant } = await withGrants();
      await catalog.connect(a.catalogAdmin).deauthoriseIssuer(DataType.HousingFund, a.housingFundCentre.address);
      expect(await dataSafe.canIssue(DataType.HousingFund, a.housingFundCentre.address)).to.equal(false);
      expect(await dataSafe.verifyAsset(fund.key)).to.equal(true);
      expect(await dataSafe.checkAccess(fund.key, a.bank.address, GrantScope.DataType, LOAN, 0)).to.equal(
        AccessCheck.Allowed,
      );
      await expect(dataSafe.connect(a.bank).recordAccess(fund.key, GrantScope.DataType, LOAN, 0))
        .to.emit(dataSafe, "AccessRecorded")
        .withArgs(typeGrant, CITIZEN, a.bank.address, accessIdOf(typeGrant, 1, 1), fund.assetId, LOAN, 0, 1, 3, 1);
    });

    it("the consumer's suspension is named before the issuer's", async () => {
      const { dataSafe, actors: a, household, assetGrant } = await withGrants();
      await dataSafe.connect(a.regulator).suspendMember(a.publicSecurity.address, 4);
      await dataSafe.connect(a.regulator).suspendMember(a.bank.address, 4);
      await expectDenied(
        dataSafe,
        a.bank,
        household.key,
        GrantScope.Asset,
        LOAN,
        assetGrant,
        AccessCheck.ConsumerNotActive,
      );
    });
  });

  describe("recordOutcome", () => {
    async function withRead() {
      const ctx = await withGrants();
      const { dataSafe, actors: a, household } = ctx;
      await dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0);
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
      await dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0);
      await dataSafe.connect(a.citizen).revoke(assetKey);
      await expect(dataSafe.connect(a.bank).recordOutcome(assetKey, 1, 1, 1, ethers.ZeroHash))
        .to.emit(dataSafe, "AccessOutcomeRecorded")
        .withArgs(accessIdOf(assetGrant, 1, 1), assetGrant, a.bank.address, 1, ethers.ZeroHash);
      await dataSafe.connect(a.citizen).grant({
        subjectId: CITIZEN,
        consumers: [a.bank.address],
        scope: GrantScope.Asset,
        targets: [household.assetId],
        fields: 0,
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
