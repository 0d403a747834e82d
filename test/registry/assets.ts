import { expect } from "chai";

import {
  AssetStatus,
  CITIZEN,
  COMPANY,
  DataType,
  MemberKind,
  assetIdOf,
  deployWithParticipants,
  networkHelpers,
  newAsset,
  random32,
  subjectIdFor,
} from "../helpers/fixtures.js";
import {
  ZeroAddress,
  ZeroHash,
  blockTimeOf,
  deployWithAsset,
  eventNamesOf,
  eventsOf,
  issue,
  keyOf,
  storedAsset,
  subjectTagOf,
} from "../helpers/registry.js";

const { loadFixture, time } = networkHelpers;

describe("AssetRegistry: issuing", () => {
  describe("issueAsset", () => {
    it("emits AssetIssued with every field and returns the id of the asset key", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const validUntil = (await time.latest()) + 365 * 24 * 3600;
      const asset = newAsset(CITIZEN, DataType.IdCard, validUntil);
      const id = assetIdOf(actors.publicSecurity.address, asset);
      expect(await dataSafe.assetIdOf(keyOf(actors.publicSecurity.address, asset))).to.equal(id);
      expect(await dataSafe.connect(actors.publicSecurity).issueAsset.staticCall(asset)).to.equal(id);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
        .to.emit(dataSafe, "AssetIssued")
        .withArgs(
          id,
          CITIZEN,
          actors.publicSecurity.address,
          DataType.IdCard,
          asset.contentCommitment,
          asset.payloadPointer,
          validUntil,
        );
    });

    it("stores status Valid, type, issue time, valid-until and the holder tag", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const validUntil = (await time.latest()) + 1000;
      const asset = newAsset(CITIZEN, DataType.IdCard, validUntil);
      const id = assetIdOf(actors.publicSecurity.address, asset);
      const at = await blockTimeOf(dataSafe.connect(actors.publicSecurity).issueAsset(asset));
      expect(await storedAsset(dataSafe, id)).to.deep.equal({
        status: AssetStatus.Valid,
        dataType: DataType.IdCard,
        issuedAt: at,
        validUntil,
        subjectTag: subjectTagOf(CITIZEN),
      });
      expect(await dataSafe.subjectTagOf(CITIZEN)).to.equal(subjectTagOf(CITIZEN));
      expect(subjectTagOf(CITIZEN)).to.not.equal(subjectTagOf(COMPANY));
    });

    it("makes the asset valid, and verifiable from its key", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
      expect(await dataSafe.verifyAsset(keyOf(actors.publicSecurity.address, asset))).to.equal(true);
      expect(await dataSafe.areIssued([assetId])).to.deep.equal([true]);
    });

    it("verifyAsset is false for a key with any field changed", async () => {
      const { dataSafe, actors, asset } = await loadFixture(deployWithAsset);
      const key = keyOf(actors.publicSecurity.address, asset);
      expect(await dataSafe.verifyAsset({ ...key, issuer: actors.housingFundCentre.address })).to.equal(false);
      expect(await dataSafe.verifyAsset({ ...key, subjectId: COMPANY })).to.equal(false);
      expect(await dataSafe.verifyAsset({ ...key, dataType: DataType.IdCard })).to.equal(false);
      expect(await dataSafe.verifyAsset({ ...key, contentCommitment: random32() })).to.equal(false);
    });

    it("reverts AssetAlreadyIssued(id) for the same content again, whatever the pointer and validity", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const before = await storedAsset(dataSafe, assetId);
      const again = { ...asset, payloadPointer: random32(), validUntil: (await time.latest()) + 100 };
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(again))
        .to.be.revertedWithCustomError(dataSafe, "AssetAlreadyIssued")
        .withArgs(assetId);
      expect(await storedAsset(dataSafe, assetId)).to.deep.equal(before);
    });

    it("gives the same content a different id under another type or issuer", async () => {
      const { dataSafe, catalog, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const asIdCard = { ...asset, dataType: DataType.IdCard };
      const idCardId = await issue(dataSafe, actors.publicSecurity, asIdCard);
      await catalog
        .connect(actors.catalogAdmin)
        .authoriseIssuer(DataType.HouseholdRegister, actors.housingFundCentre.address);
      const otherIssuerId = await issue(dataSafe, actors.housingFundCentre, asset);
      expect(new Set([assetId, idCardId, otherIssuerId]).size).to.equal(3);
      expect(await dataSafe.areIssued([assetId, idCardId, otherIssuerId])).to.deep.equal([true, true, true]);
    });

    it("reverts InvalidNewAsset for a zero subject id", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const asset = newAsset(ZeroHash, DataType.IdCard);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
        .to.be.revertedWithCustomError(dataSafe, "InvalidNewAsset")
        .withArgs(ZeroHash, DataType.IdCard, 0);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, asset)])).to.deep.equal([false]);
    });

    it("reverts InvalidNewAsset for a zero content commitment", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const asset = { ...newAsset(CITIZEN, DataType.IdCard), contentCommitment: ZeroHash };
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
        .to.be.revertedWithCustomError(dataSafe, "InvalidNewAsset")
        .withArgs(CITIZEN, DataType.IdCard, 0);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, asset)])).to.deep.equal([false]);
    });

    it("reverts InvalidNewAsset for a valid-until in the past", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const now = await time.latest();
      const asset = newAsset(CITIZEN, DataType.IdCard, now - 1);
      await time.setNextBlockTimestamp(now + 1);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
        .to.be.revertedWithCustomError(dataSafe, "InvalidNewAsset")
        .withArgs(CITIZEN, DataType.IdCard, now - 1);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, asset)])).to.deep.equal([false]);
    });

    it("accepts a valid-until equal to the block time", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const at = (await time.latest()) + 10;
      const asset = newAsset(CITIZEN, DataType.IdCard, at);
      await time.setNextBlockTimestamp(at);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset)).to.emit(dataSafe, "AssetIssued");
    });

    it("reverts IssuerNotAuthorised for a department not authorised for the type", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const asset = newAsset(CITIZEN, DataType.HousingFund);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HousingFund, actors.publicSecurity.address);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, asset)])).to.deep.equal([false]);
    });

    it("reverts IssuerNotAuthorised for an undefined type and for type 0", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      for (const dataType of [0, 99]) {
        await expect(dataSafe.connect(actors.publicSecurity).issueAsset(newAsset(CITIZEN, dataType)))
          .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
          .withArgs(dataType, actors.publicSecurity.address);
      }
    });

    it("reverts MemberNotPermitted(caller, Department) for a non-member and for a consumer", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      for (const who of [actors.stranger, actors.bank, actors.identityAuthority]) {
        await expect(dataSafe.connect(who).issueAsset(newAsset(CITIZEN, DataType.HouseholdRegister)))
          .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
          .withArgs(who.address, MemberKind.Department);
      }
    });

    it("reverts MemberNotPermitted for a non-department even if the catalog authorises it", async () => {
      const { dataSafe, catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.HouseholdRegister, actors.bank.address);
      await expect(dataSafe.connect(actors.bank).issueAsset(newAsset(CITIZEN, DataType.HouseholdRegister)))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.bank.address, MemberKind.Department);
    });

    it("reverts MemberNotPermitted for a suspended department, which may issue again once reinstated", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const asset = newAsset(CITIZEN, DataType.HouseholdRegister);
      await dataSafe.connect(actors.regulator).suspendMember(actors.publicSecurity.address, 9);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.publicSecurity.address, MemberKind.Department);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, asset)])).to.deep.equal([false]);
      await dataSafe.connect(actors.regulator).reinstateMember(actors.publicSecurity.address);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset)).to.emit(dataSafe, "AssetIssued");
    });

    it("issues to a subject id that is not registered yet (the data waits for its holder)", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const unregistered = subjectIdFor("not-yet-registered");
      const asset = newAsset(unregistered, DataType.HouseholdRegister);
      const id = assetIdOf(actors.publicSecurity.address, asset);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
        .to.emit(dataSafe, "AssetIssued")
        .withArgs(
          id,
          unregistered,
          actors.publicSecurity.address,
          asset.dataType,
          asset.contentCommitment,
          asset.payloadPointer,
          0,
        );
      expect(await dataSafe.controllerOf(unregistered)).to.equal(ZeroAddress);
      expect(await dataSafe.isValid(id)).to.equal(true);
      expect((await storedAsset(dataSafe, id)).subjectTag).to.equal(subjectTagOf(unregistered));
    });
  });

  describe("issueAssets", () => {
    it("issues a batch of mixed types, returning the ids in order, one AssetIssued each in order", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const batch = [
        newAsset(CITIZEN, DataType.HouseholdRegister),
        newAsset(CITIZEN, DataType.IdCard, (await time.latest()) + 1000),
        newAsset(COMPANY, DataType.HouseholdRegister),
      ];
      const ids = batch.map((a) => assetIdOf(actors.publicSecurity.address, a));
      expect(await dataSafe.connect(actors.publicSecurity).issueAssets.staticCall(batch)).to.deep.equal(ids);
      const tx = dataSafe.connect(actors.publicSecurity).issueAssets(batch);
      expect(await eventsOf(tx, dataSafe, "AssetIssued")).to.deep.equal(
        batch.map((a, i) => [
          ids[i],
          a.subjectId,
          actors.publicSecurity.address,
          BigInt(a.dataType),
          a.contentCommitment,
          a.payloadPointer,
          BigInt(a.validUntil),
        ]),
      );
      const at = await time.latest();
      for (const [i, a] of batch.entries()) {
        expect(await storedAsset(dataSafe, ids[i])).to.deep.equal({
          status: AssetStatus.Valid,
          dataType: a.dataType,
          issuedAt: at,
          validUntil: a.validUntil,
          subjectTag: subjectTagOf(a.subjectId),
        });
      }
      expect(await dataSafe.areIssued(ids)).to.deep.equal([true, true, true]);
    });

    it("issues a batch of one", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const asset = newAsset(CITIZEN, DataType.HousingFund);
      const tx = dataSafe.connect(actors.housingFundCentre).issueAssets([asset]);
      expect(await eventNamesOf(tx, dataSafe)).to.deep.equal(["AssetIssued"]);
      expect(await dataSafe.isValid(assetIdOf(actors.housingFundCentre.address, asset))).to.equal(true);
    });

    it("a re-run reverts whole on the first existing asset; a filtered re-run of what is missing succeeds", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const records = [0, 1, 2, 3].map((i) => newAsset(subjectIdFor(`import-${i}`), DataType.HouseholdRegister));
      const ids = records.map((a) => assetIdOf(actors.publicSecurity.address, a));
      // A first run got the first two on chain before it stopped.
      await dataSafe.connect(actors.publicSecurity).issueAssets(records.slice(0, 2));
      const beforeFirst = await storedAsset(dataSafe, ids[0]);

      // Re-running the whole import reverts whole and changes nothing.
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets(records))
        .to.be.revertedWithCustomError(dataSafe, "AssetAlreadyIssued")
        .withArgs(ids[0]);
      const issued = await dataSafe.areIssued(ids);
      expect(issued).to.deep.equal([true, true, false, false]);
      expect(await storedAsset(dataSafe, ids[0])).to.deep.equal(beforeFirst);

      // The idempotent pattern: ask which exist, send only the rest.
      const missing = records.filter((_, i) => !issued[i]);
      const tx = dataSafe.connect(actors.publicSecurity).issueAssets(missing);
      expect((await eventsOf(tx, dataSafe, "AssetIssued")).map((e) => e[0])).to.deep.equal(ids.slice(2));
      expect(await dataSafe.areIssued(ids)).to.deep.equal([true, true, true, true]);
    });

    it("reverts whole when a later item exists already (nothing before it is kept)", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const fresh = newAsset(COMPANY, DataType.HouseholdRegister);
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets([fresh, asset]))
        .to.be.revertedWithCustomError(dataSafe, "AssetAlreadyIssued")
        .withArgs(assetId);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, fresh)])).to.deep.equal([false]);
    });

    it("reverts AssetAlreadyIssued for the same item twice in one batch", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const asset = newAsset(CITIZEN, DataType.IdCard);
      const id = assetIdOf(actors.publicSecurity.address, asset);
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets([asset, asset]))
        .to.be.revertedWithCustomError(dataSafe, "AssetAlreadyIssued")
        .withArgs(id);
      expect(await dataSafe.areIssued([id])).to.deep.equal([false]);
    });

    it("reverts EmptyBatch for an empty batch", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets([])).to.be.revertedWithCustomError(
        dataSafe,
        "EmptyBatch",
      );
    });

    it("reverts whole with InvalidNewAsset for an invalid item", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const good = newAsset(CITIZEN, DataType.IdCard);
      const bad = { ...newAsset(COMPANY, DataType.IdCard), contentCommitment: ZeroHash };
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets([good, bad]))
        .to.be.revertedWithCustomError(dataSafe, "InvalidNewAsset")
        .withArgs(COMPANY, DataType.IdCard, 0);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, good)])).to.deep.equal([false]);
    });

    it("reverts whole with IssuerNotAuthorised when one item's type is not the issuer's", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const good = newAsset(CITIZEN, DataType.IdCard);
      const foreign = newAsset(CITIZEN, DataType.HousingFund);
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets([good, foreign]))
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HousingFund, actors.publicSecurity.address);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, good)])).to.deep.equal([false]);
    });

    it("reverts MemberNotPermitted for a non-department or a suspended department", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.stranger).issueAssets([newAsset(CITIZEN, DataType.IdCard)]))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.stranger.address, MemberKind.Department);
      await dataSafe.connect(actors.regulator).suspendMember(actors.publicSecurity.address, 1);
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets([newAsset(CITIZEN, DataType.IdCard)]))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.publicSecurity.address, MemberKind.Department);
    });

    // Type 0 is never defined, but the batch only checks an item's issuer when its type differs
    // from the last checked one, which starts at 0: a batch of type-0 items is never checked.
    it("reverts MemberNotPermitted for a non-member whose batch is of data type 0", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const forged = newAsset(CITIZEN, 0);
      await expect(dataSafe.connect(actors.stranger).issueAssets([forged]))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.stranger.address, MemberKind.Department);
      expect(await dataSafe.isValid(assetIdOf(actors.stranger.address, forged))).to.equal(false);
    });

    it("reverts IssuerNotAuthorised for a department whose batch is of data type 0", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const forged = newAsset(CITIZEN, 0);
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets([forged]))
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(0, actors.publicSecurity.address);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, forged)])).to.deep.equal([false]);
    });

    it("lets no one make a valid asset of data type 0 (no type 0 is ever defined)", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const forged = newAsset(CITIZEN, 0);
      await dataSafe
        .connect(actors.stranger)
        .issueAssets([forged])
        .catch(() => undefined);
      expect(await dataSafe.verifyAsset(keyOf(actors.stranger.address, forged))).to.equal(false);
    });
  });

  describe("areIssued", () => {
    it("answers per id, whatever the status, and false for unknown ids", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      await dataSafe.connect(actors.publicSecurity).revokeAsset(keyOf(actors.publicSecurity.address, asset), 1);
      expect(await dataSafe.areIssued([assetId, random32(), ZeroHash])).to.deep.equal([true, false, false]);
      expect(await dataSafe.areIssued([])).to.deep.equal([]);
    });
  });

  describe("expiry", () => {
    it("isValid is true until valid-until inclusive and false after; the status stays Valid", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const validUntil = (await time.latest()) + 1000;
      const asset = newAsset(CITIZEN, DataType.IdCard, validUntil);
      const id = await issue(dataSafe, actors.publicSecurity, asset);
      const key = keyOf(actors.publicSecurity.address, asset);
      await time.increaseTo(validUntil - 1);
      expect(await dataSafe.isValid(id)).to.equal(true);
      await time.increaseTo(validUntil);
      expect(await dataSafe.isValid(id)).to.equal(true);
      expect(await dataSafe.verifyAsset(key)).to.equal(true);
      await time.increaseTo(validUntil + 1);
      expect(await dataSafe.isValid(id)).to.equal(false);
      expect(await dataSafe.verifyAsset(key)).to.equal(false);
      expect((await storedAsset(dataSafe, id)).status).to.equal(AssetStatus.Valid);
      expect(await dataSafe.areIssued([id])).to.deep.equal([true]);
    });

    it("an asset without valid-until never expires", async () => {
      const { dataSafe, assetId } = await loadFixture(deployWithAsset);
      await time.increase(100 * 365 * 24 * 3600);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });
  });

  describe("canIssue", () => {
    it("is true only for an active department authorised for the type", async () => {
      const { dataSafe, catalog, actors } = await loadFixture(deployWithParticipants);
      const ps = actors.publicSecurity.address;
      expect(await dataSafe.canIssue(DataType.HouseholdRegister, ps)).to.equal(true);
      expect(await dataSafe.canIssue(DataType.HousingFund, ps)).to.equal(false);
      expect(await dataSafe.canIssue(99, ps)).to.equal(false);
      expect(await dataSafe.canIssue(0, ps)).to.equal(false);
      expect(await dataSafe.canIssue(DataType.HouseholdRegister, actors.stranger.address)).to.equal(false);
      await catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.HouseholdRegister, actors.bank.address);
      expect(await dataSafe.canIssue(DataType.HouseholdRegister, actors.bank.address)).to.equal(false);
    });

    it("follows suspension, reinstatement, deauthorisation and deprecation", async () => {
      const { dataSafe, catalog, actors } = await loadFixture(deployWithParticipants);
      const ps = actors.publicSecurity.address;
      await dataSafe.connect(actors.regulator).suspendMember(ps, 1);
      expect(await dataSafe.canIssue(DataType.HouseholdRegister, ps)).to.equal(false);
      await dataSafe.connect(actors.regulator).reinstateMember(ps);
      expect(await dataSafe.canIssue(DataType.HouseholdRegister, ps)).to.equal(true);
      await catalog.connect(actors.catalogAdmin).deauthoriseIssuer(DataType.HouseholdRegister, ps);
      expect(await dataSafe.canIssue(DataType.HouseholdRegister, ps)).to.equal(false);
      expect(await dataSafe.canIssue(DataType.IdCard, ps)).to.equal(true);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.IdCard);
      expect(await dataSafe.canIssue(DataType.IdCard, ps)).to.equal(false);
    });
  });
});
