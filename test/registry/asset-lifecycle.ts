import { expect } from "chai";

import {
  AssetStatus,
  CITIZEN,
  COMPANY,
  DataType,
  assetIdOf,
  networkHelpers,
  newAsset,
  random32,
} from "../helpers/fixtures.js";
import { blockTimeOf, deployWithAsset, eventNamesOf, keyOf, storedAsset, subjectTagOf } from "../helpers/registry.js";

const { loadFixture, time } = networkHelpers;

describe("AssetRegistry: revoking and superseding", () => {
  describe("revokeAsset", () => {
    it("lets the issuer revoke: AssetRevoked(id, issuer, reason), status Revoked, no longer valid", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const before = await storedAsset(dataSafe, assetId);
      const key = keyOf(actors.publicSecurity.address, asset);
      await expect(dataSafe.connect(actors.publicSecurity).revokeAsset(key, 17))
        .to.emit(dataSafe, "AssetRevoked")
        .withArgs(assetId, actors.publicSecurity.address, 17);
      expect(await storedAsset(dataSafe, assetId)).to.deep.equal({ ...before, status: AssetStatus.Revoked });
      expect(await dataSafe.isValid(assetId)).to.equal(false);
      expect(await dataSafe.verifyAsset(key)).to.equal(false);
    });

    it("reverts NotAssetIssuer for another department presenting the issuer's key", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      await expect(
        dataSafe.connect(actors.housingFundCentre).revokeAsset(keyOf(actors.publicSecurity.address, asset), 1),
      )
        .to.be.revertedWithCustomError(dataSafe, "NotAssetIssuer")
        .withArgs(assetId, actors.housingFundCentre.address);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });

    it("reverts NotAssetIssuer for the holder, a stranger and governance accounts", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      for (const who of [actors.citizen, actors.stranger, actors.operator, actors.admin]) {
        await expect(dataSafe.connect(who).revokeAsset(keyOf(actors.publicSecurity.address, asset), 1))
          .to.be.revertedWithCustomError(dataSafe, "NotAssetIssuer")
          .withArgs(assetId, who.address);
      }
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });

    it("reverts AssetNotFound when another department names itself as issuer (that is another id)", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const ownKey = keyOf(actors.housingFundCentre.address, asset);
      await expect(dataSafe.connect(actors.housingFundCentre).revokeAsset(ownKey, 1))
        .to.be.revertedWithCustomError(dataSafe, "AssetNotFound")
        .withArgs(assetIdOf(actors.housingFundCentre.address, asset));
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });

    it("reverts AssetNotCurrent(id, Revoked) when revoking twice", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const key = keyOf(actors.publicSecurity.address, asset);
      await dataSafe.connect(actors.publicSecurity).revokeAsset(key, 1);
      await expect(dataSafe.connect(actors.publicSecurity).revokeAsset(key, 2))
        .to.be.revertedWithCustomError(dataSafe, "AssetNotCurrent")
        .withArgs(assetId, AssetStatus.Revoked);
    });

    it("reverts AssetNotFound for an asset never issued", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithAsset);
      const unknown = newAsset(CITIZEN, DataType.IdCard);
      await expect(
        dataSafe.connect(actors.publicSecurity).revokeAsset(keyOf(actors.publicSecurity.address, unknown), 1),
      )
        .to.be.revertedWithCustomError(dataSafe, "AssetNotFound")
        .withArgs(assetIdOf(actors.publicSecurity.address, unknown));
    });

    it("revokes an expired asset (its status is still Valid)", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithAsset);
      const validUntil = (await time.latest()) + 100;
      const asset = newAsset(CITIZEN, DataType.IdCard, validUntil);
      await dataSafe.connect(actors.publicSecurity).issueAsset(asset);
      await time.increaseTo(validUntil + 1);
      await dataSafe.connect(actors.publicSecurity).revokeAsset(keyOf(actors.publicSecurity.address, asset), 1);
      expect((await storedAsset(dataSafe, assetIdOf(actors.publicSecurity.address, asset))).status).to.equal(
        AssetStatus.Revoked,
      );
    });

    it("the same content cannot be issued again after revocation (AssetAlreadyIssued)", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      await dataSafe.connect(actors.publicSecurity).revokeAsset(keyOf(actors.publicSecurity.address, asset), 1);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
        .to.be.revertedWithCustomError(dataSafe, "AssetAlreadyIssued")
        .withArgs(assetId);
      expect((await storedAsset(dataSafe, assetId)).status).to.equal(AssetStatus.Revoked);
    });
  });

  describe("revokeAssetByGovernance", () => {
    it("lets the operator revoke any asset: AssetRevoked(id, operator, reason), status Revoked", async () => {
      const { dataSafe, actors, assetId } = await loadFixture(deployWithAsset);
      const before = await storedAsset(dataSafe, assetId);
      await expect(dataSafe.connect(actors.operator).revokeAssetByGovernance(assetId, 99))
        .to.emit(dataSafe, "AssetRevoked")
        .withArgs(assetId, actors.operator.address, 99);
      expect(await storedAsset(dataSafe, assetId)).to.deep.equal({ ...before, status: AssetStatus.Revoked });
      expect(await dataSafe.isValid(assetId)).to.equal(false);
    });

    it("reverts AccessManagedUnauthorized for anyone but the operator, including the issuer", async () => {
      const { dataSafe, actors, assetId } = await loadFixture(deployWithAsset);
      for (const who of [
        actors.publicSecurity,
        actors.citizen,
        actors.stranger,
        actors.admin,
        actors.memberAdmin,
        actors.catalogAdmin,
        actors.regulator,
      ]) {
        await expect(dataSafe.connect(who).revokeAssetByGovernance(assetId, 1))
          .to.be.revertedWithCustomError(dataSafe, "AccessManagedUnauthorized")
          .withArgs(who.address);
      }
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });

    it("reverts AssetNotFound for an unknown id and AssetNotCurrent for a revoked asset", async () => {
      const { dataSafe, actors, assetId } = await loadFixture(deployWithAsset);
      const unknown = random32();
      await expect(dataSafe.connect(actors.operator).revokeAssetByGovernance(unknown, 1))
        .to.be.revertedWithCustomError(dataSafe, "AssetNotFound")
        .withArgs(unknown);
      await dataSafe.connect(actors.operator).revokeAssetByGovernance(assetId, 1);
      await expect(dataSafe.connect(actors.operator).revokeAssetByGovernance(assetId, 1))
        .to.be.revertedWithCustomError(dataSafe, "AssetNotCurrent")
        .withArgs(assetId, AssetStatus.Revoked);
    });
  });

  describe("supersedeAsset", () => {
    it("emits AssetIssued for the new version then AssetSuperseded(old, new, issuer)", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const next = newAsset(CITIZEN, DataType.HouseholdRegister, (await time.latest()) + 5000);
      const newId = assetIdOf(actors.publicSecurity.address, next);
      const previous = keyOf(actors.publicSecurity.address, asset);
      expect(await dataSafe.connect(actors.publicSecurity).supersedeAsset.staticCall(previous, next)).to.equal(newId);
      const tx = dataSafe.connect(actors.publicSecurity).supersedeAsset(previous, next);
      await expect(tx)
        .to.emit(dataSafe, "AssetIssued")
        .withArgs(
          newId,
          CITIZEN,
          actors.publicSecurity.address,
          next.dataType,
          next.contentCommitment,
          next.payloadPointer,
          next.validUntil,
        );
      await expect(tx).to.emit(dataSafe, "AssetSuperseded").withArgs(assetId, newId, actors.publicSecurity.address);
      expect(await eventNamesOf(tx, dataSafe)).to.deep.equal(["AssetIssued", "AssetSuperseded"]);
    });

    it("marks the old asset Superseded (not valid) and the new one Valid", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const before = await storedAsset(dataSafe, assetId);
      const next = newAsset(CITIZEN, DataType.HouseholdRegister);
      const newId = assetIdOf(actors.publicSecurity.address, next);
      const at = await blockTimeOf(
        dataSafe.connect(actors.publicSecurity).supersedeAsset(keyOf(actors.publicSecurity.address, asset), next),
      );
      expect(await storedAsset(dataSafe, assetId)).to.deep.equal({ ...before, status: AssetStatus.Superseded });
      expect(await dataSafe.isValid(assetId)).to.equal(false);
      expect(await dataSafe.verifyAsset(keyOf(actors.publicSecurity.address, asset))).to.equal(false);
      expect(await storedAsset(dataSafe, newId)).to.deep.equal({
        status: AssetStatus.Valid,
        dataType: DataType.HouseholdRegister,
        issuedAt: at,
        validUntil: 0,
        subjectTag: subjectTagOf(CITIZEN),
      });
      expect(await dataSafe.isValid(newId)).to.equal(true);
    });

    it("reverts AssetExpired(id, validUntil) for an asset past its valid-until, and leaves it as it was", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithAsset);
      const validUntil = (await time.latest()) + 100;
      const old = newAsset(CITIZEN, DataType.IdCard, validUntil);
      await dataSafe.connect(actors.publicSecurity).issueAsset(old);
      const oldId = assetIdOf(actors.publicSecurity.address, old);
      const before = await storedAsset(dataSafe, oldId);
      await time.increaseTo(validUntil + 1);
      const next = newAsset(CITIZEN, DataType.IdCard, validUntil + 1000);
      await expect(
        dataSafe.connect(actors.publicSecurity).supersedeAsset(keyOf(actors.publicSecurity.address, old), next),
      )
        .to.be.revertedWithCustomError(dataSafe, "AssetExpired")
        .withArgs(oldId, validUntil);
      // The expired asset stays what it is (expired, not "replaced"), and nothing new was issued.
      expect(await storedAsset(dataSafe, oldId)).to.deep.equal(before);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, next)])).to.deep.equal([false]);
      // Renewing an expired record is a new issue.
      await dataSafe.connect(actors.publicSecurity).issueAsset(next);
      expect(await dataSafe.isValid(assetIdOf(actors.publicSecurity.address, next))).to.equal(true);
    });

    it("supersedes an asset at exactly its valid-until (still valid then)", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithAsset);
      const validUntil = (await time.latest()) + 100;
      const old = newAsset(CITIZEN, DataType.IdCard, validUntil);
      await dataSafe.connect(actors.publicSecurity).issueAsset(old);
      await time.setNextBlockTimestamp(validUntil);
      const next = newAsset(CITIZEN, DataType.IdCard, validUntil + 1000);
      await expect(
        dataSafe.connect(actors.publicSecurity).supersedeAsset(keyOf(actors.publicSecurity.address, old), next),
      ).to.emit(dataSafe, "AssetSuperseded");
      expect((await storedAsset(dataSafe, assetIdOf(actors.publicSecurity.address, old))).status).to.equal(
        AssetStatus.Superseded,
      );
    });

    it("reverts SupersedeMismatch for another holder", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const next = newAsset(COMPANY, DataType.HouseholdRegister);
      await expect(
        dataSafe.connect(actors.publicSecurity).supersedeAsset(keyOf(actors.publicSecurity.address, asset), next),
      )
        .to.be.revertedWithCustomError(dataSafe, "SupersedeMismatch")
        .withArgs(assetId);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, next)])).to.deep.equal([false]);
    });

    it("reverts SupersedeMismatch for another type, even one the issuer may issue", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const next = newAsset(CITIZEN, DataType.IdCard);
      await expect(
        dataSafe.connect(actors.publicSecurity).supersedeAsset(keyOf(actors.publicSecurity.address, asset), next),
      )
        .to.be.revertedWithCustomError(dataSafe, "SupersedeMismatch")
        .withArgs(assetId);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });

    it("reverts AssetNotCurrent(id, Revoked) for a revoked asset", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const key = keyOf(actors.publicSecurity.address, asset);
      await dataSafe.connect(actors.publicSecurity).revokeAsset(key, 1);
      const next = newAsset(CITIZEN, DataType.HouseholdRegister);
      await expect(dataSafe.connect(actors.publicSecurity).supersedeAsset(key, next))
        .to.be.revertedWithCustomError(dataSafe, "AssetNotCurrent")
        .withArgs(assetId, AssetStatus.Revoked);
      expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, next)])).to.deep.equal([false]);
    });

    it("reverts AssetNotCurrent(id, Superseded) for an asset already superseded", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const key = keyOf(actors.publicSecurity.address, asset);
      await dataSafe.connect(actors.publicSecurity).supersedeAsset(key, newAsset(CITIZEN, DataType.HouseholdRegister));
      await expect(
        dataSafe.connect(actors.publicSecurity).supersedeAsset(key, newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "AssetNotCurrent")
        .withArgs(assetId, AssetStatus.Superseded);
    });

    it("reverts AssetNotFound for an unknown previous asset", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithAsset);
      const unknown = newAsset(CITIZEN, DataType.HouseholdRegister);
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .supersedeAsset(keyOf(actors.publicSecurity.address, unknown), newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "AssetNotFound")
        .withArgs(assetIdOf(actors.publicSecurity.address, unknown));
    });

    it("reverts NotAssetIssuer for another department", async () => {
      const { dataSafe, catalog, actors, asset, assetId } = await loadFixture(deployWithAsset);
      await catalog
        .connect(actors.catalogAdmin)
        .authoriseIssuer(DataType.HouseholdRegister, actors.housingFundCentre.address);
      await expect(
        dataSafe
          .connect(actors.housingFundCentre)
          .supersedeAsset(keyOf(actors.publicSecurity.address, asset), newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "NotAssetIssuer")
        .withArgs(assetId, actors.housingFundCentre.address);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });

    it("reverts IssuerNotAuthorised once the issuer lost the type, leaving the old asset valid", async () => {
      const { dataSafe, catalog, actors, asset, assetId } = await loadFixture(deployWithAsset);
      await catalog
        .connect(actors.catalogAdmin)
        .deauthoriseIssuer(DataType.HouseholdRegister, actors.publicSecurity.address);
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .supersedeAsset(keyOf(actors.publicSecurity.address, asset), newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HouseholdRegister, actors.publicSecurity.address);
      expect((await storedAsset(dataSafe, assetId)).status).to.equal(AssetStatus.Valid);
    });

    it("reverts MemberNotPermitted for a suspended issuer, leaving the old asset valid", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      await dataSafe.connect(actors.regulator).suspendMember(actors.publicSecurity.address, 1);
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .supersedeAsset(keyOf(actors.publicSecurity.address, asset), newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.publicSecurity.address, 1);
      expect((await storedAsset(dataSafe, assetId)).status).to.equal(AssetStatus.Valid);
    });

    it("reverts whole when the new version is the old content (AssetAlreadyIssued), leaving the old asset valid", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .supersedeAsset(keyOf(actors.publicSecurity.address, asset), { ...asset, payloadPointer: random32() }),
      )
        .to.be.revertedWithCustomError(dataSafe, "AssetAlreadyIssued")
        .withArgs(assetId);
      expect((await storedAsset(dataSafe, assetId)).status).to.equal(AssetStatus.Valid);
    });

    it("reverts whole with InvalidNewAsset for a new version already expired, leaving the old asset valid", async () => {
      const { dataSafe, actors, asset, assetId } = await loadFixture(deployWithAsset);
      const past = (await time.latest()) - 1;
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .supersedeAsset(
            keyOf(actors.publicSecurity.address, asset),
            newAsset(CITIZEN, DataType.HouseholdRegister, past),
          ),
      )
        .to.be.revertedWithCustomError(dataSafe, "InvalidNewAsset")
        .withArgs(CITIZEN, DataType.HouseholdRegister, past);
      expect((await storedAsset(dataSafe, assetId)).status).to.equal(AssetStatus.Valid);
    });
  });
});
