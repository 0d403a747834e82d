import { expect } from "chai";

import {
  AssetStatus,
  CITIZEN,
  COMPANY,
  DataType,
  MemberKind,
  ReturnRequestStatus,
  assetIdOf,
  deployWithParticipants,
  networkHelpers,
  newAsset,
  random32,
  subjectIdFor,
} from "../helpers/fixtures.js";
import { blockTimeOf, eventNamesOf, storedAsset, storedReturnRequest } from "../helpers/registry.js";

const { loadFixture } = networkHelpers;

/** The suite with one open request of the citizen to public security for the household register. */
async function deployWithRequest() {
  const suite = await deployWithParticipants();
  const { dataSafe, actors } = suite;
  const request = dataSafe.connect(actors.citizen);
  const requestId = await request.requestReturn.staticCall(
    CITIZEN,
    DataType.HouseholdRegister,
    actors.publicSecurity.address,
  );
  const requestedAt = await blockTimeOf(
    request.requestReturn(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address),
  );
  return { ...suite, requestId, requestedAt };
}

describe("AssetRegistry: return requests", () => {
  describe("requestReturn", () => {
    it("emits ReturnRequested with the id it returns, holder, department and type", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const requestId = await dataSafe
        .connect(actors.citizen)
        .requestReturn.staticCall(CITIZEN, DataType.HousingFund, actors.housingFundCentre.address);
      await expect(
        dataSafe.connect(actors.citizen).requestReturn(CITIZEN, DataType.HousingFund, actors.housingFundCentre.address),
      )
        .to.emit(dataSafe, "ReturnRequested")
        .withArgs(requestId, CITIZEN, actors.housingFundCentre.address, DataType.HousingFund);
    });

    it("stores the request as Open with holder, department, type and time", async () => {
      const { dataSafe, actors, requestId, requestedAt } = await loadFixture(deployWithRequest);
      expect(await storedReturnRequest(dataSafe, requestId)).to.deep.equal({
        subjectId: CITIZEN,
        department: actors.publicSecurity.address,
        dataType: DataType.HouseholdRegister,
        status: ReturnRequestStatus.Open,
        requestedAt,
      });
    });

    it("gives identical requests distinct ids", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      const again = await dataSafe
        .connect(actors.citizen)
        .requestReturn.staticCall(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address);
      expect(again).to.not.equal(requestId);
      await dataSafe
        .connect(actors.citizen)
        .requestReturn(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address);
      expect((await storedReturnRequest(dataSafe, again)).status).to.equal(ReturnRequestStatus.Open);
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Open);
    });

    it("reverts NotSubjectController for anyone but the holder's controller", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      for (const who of [actors.company, actors.stranger, actors.publicSecurity, actors.identityAuthority]) {
        await expect(
          dataSafe.connect(who).requestReturn(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address),
        )
          .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
          .withArgs(CITIZEN, who.address);
      }
    });

    it("reverts SubjectNotRegistered for an unregistered holder", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const unknown = subjectIdFor("nobody");
      await expect(
        dataSafe
          .connect(actors.citizen)
          .requestReturn(unknown, DataType.HouseholdRegister, actors.publicSecurity.address),
      )
        .to.be.revertedWithCustomError(dataSafe, "SubjectNotRegistered")
        .withArgs(unknown);
    });

    it("reverts IssuerNotAuthorised for a department not authorised for the type", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        dataSafe.connect(actors.citizen).requestReturn(CITIZEN, DataType.HousingFund, actors.publicSecurity.address),
      )
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HousingFund, actors.publicSecurity.address);
      await expect(dataSafe.connect(actors.citizen).requestReturn(CITIZEN, 99, actors.publicSecurity.address))
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(99, actors.publicSecurity.address);
    });

    it("reverts MemberNotPermitted for a non-department or a suspended department", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        dataSafe.connect(actors.citizen).requestReturn(CITIZEN, DataType.HouseholdRegister, actors.bank.address),
      )
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.bank.address, MemberKind.Department);
      await dataSafe.connect(actors.regulator).suspendMember(actors.publicSecurity.address, 1);
      await expect(
        dataSafe
          .connect(actors.citizen)
          .requestReturn(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address),
      )
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.publicSecurity.address, MemberKind.Department);
    });
  });

  describe("fulfilReturnRequest", () => {
    it("emits AssetIssued then ReturnRequestFulfilled(request, asset, department) and returns the asset id", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      const asset = newAsset(CITIZEN, DataType.HouseholdRegister);
      const assetId = assetIdOf(actors.publicSecurity.address, asset);
      expect(await dataSafe.connect(actors.publicSecurity).fulfilReturnRequest.staticCall(requestId, asset)).to.equal(
        assetId,
      );
      const tx = dataSafe.connect(actors.publicSecurity).fulfilReturnRequest(requestId, asset);
      await expect(tx)
        .to.emit(dataSafe, "AssetIssued")
        .withArgs(
          assetId,
          CITIZEN,
          actors.publicSecurity.address,
          asset.dataType,
          asset.contentCommitment,
          asset.payloadPointer,
          0,
        );
      await expect(tx)
        .to.emit(dataSafe, "ReturnRequestFulfilled")
        .withArgs(requestId, assetId, actors.publicSecurity.address);
      expect(await eventNamesOf(tx, dataSafe)).to.deep.equal(["AssetIssued", "ReturnRequestFulfilled"]);
    });

    it("marks the request Fulfilled and the asset Valid", async () => {
      const { dataSafe, actors, requestId, requestedAt } = await loadFixture(deployWithRequest);
      const asset = newAsset(CITIZEN, DataType.HouseholdRegister);
      await dataSafe.connect(actors.publicSecurity).fulfilReturnRequest(requestId, asset);
      expect(await storedReturnRequest(dataSafe, requestId)).to.deep.equal({
        subjectId: CITIZEN,
        department: actors.publicSecurity.address,
        dataType: DataType.HouseholdRegister,
        status: ReturnRequestStatus.Fulfilled,
        requestedAt,
      });
      const assetId = assetIdOf(actors.publicSecurity.address, asset);
      expect((await storedAsset(dataSafe, assetId)).status).to.equal(AssetStatus.Valid);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });

    it("reverts ReturnRequestMismatch for an asset of another holder or type, leaving the request open", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      for (const asset of [newAsset(COMPANY, DataType.HouseholdRegister), newAsset(CITIZEN, DataType.IdCard)]) {
        await expect(dataSafe.connect(actors.publicSecurity).fulfilReturnRequest(requestId, asset))
          .to.be.revertedWithCustomError(dataSafe, "ReturnRequestMismatch")
          .withArgs(requestId);
        expect(await dataSafe.areIssued([assetIdOf(actors.publicSecurity.address, asset)])).to.deep.equal([false]);
      }
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Open);
    });

    it("reverts NotRequestedDepartment for another department, even one authorised for the type", async () => {
      const { dataSafe, catalog, actors, requestId } = await loadFixture(deployWithRequest);
      await catalog
        .connect(actors.catalogAdmin)
        .authoriseIssuer(DataType.HouseholdRegister, actors.housingFundCentre.address);
      for (const who of [actors.housingFundCentre, actors.stranger, actors.citizen]) {
        await expect(
          dataSafe.connect(who).fulfilReturnRequest(requestId, newAsset(CITIZEN, DataType.HouseholdRegister)),
        )
          .to.be.revertedWithCustomError(dataSafe, "NotRequestedDepartment")
          .withArgs(requestId, who.address);
      }
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Open);
    });

    it("reverts IssuerNotAuthorised once the department lost the type, leaving the request open", async () => {
      const { dataSafe, catalog, actors, requestId } = await loadFixture(deployWithRequest);
      await catalog
        .connect(actors.catalogAdmin)
        .deauthoriseIssuer(DataType.HouseholdRegister, actors.publicSecurity.address);
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .fulfilReturnRequest(requestId, newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HouseholdRegister, actors.publicSecurity.address);
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Open);
    });

    it("reverts MemberNotPermitted for a suspended department, leaving the request open", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      await dataSafe.connect(actors.regulator).suspendMember(actors.publicSecurity.address, 1);
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .fulfilReturnRequest(requestId, newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.publicSecurity.address, MemberKind.Department);
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Open);
    });

    it("reverts AssetAlreadyIssued for content already issued, leaving the request open", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      const asset = newAsset(CITIZEN, DataType.HouseholdRegister);
      await dataSafe.connect(actors.publicSecurity).issueAsset(asset);
      await expect(dataSafe.connect(actors.publicSecurity).fulfilReturnRequest(requestId, asset))
        .to.be.revertedWithCustomError(dataSafe, "AssetAlreadyIssued")
        .withArgs(assetIdOf(actors.publicSecurity.address, asset));
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Open);
    });

    it("reverts ReturnRequestNotOpen(id, Fulfilled) when fulfilling twice", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      await dataSafe
        .connect(actors.publicSecurity)
        .fulfilReturnRequest(requestId, newAsset(CITIZEN, DataType.HouseholdRegister));
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .fulfilReturnRequest(requestId, newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(requestId, ReturnRequestStatus.Fulfilled);
    });

    it("reverts ReturnRequestNotOpen(id, None) for an unknown request", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithRequest);
      const unknown = random32();
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .fulfilReturnRequest(unknown, newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(unknown, ReturnRequestStatus.None);
    });
  });

  describe("declineReturnRequest", () => {
    it("emits ReturnRequestDeclined(request, department, reason) and marks the request Declined", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      const before = await storedReturnRequest(dataSafe, requestId);
      await expect(dataSafe.connect(actors.publicSecurity).declineReturnRequest(requestId, 404))
        .to.emit(dataSafe, "ReturnRequestDeclined")
        .withArgs(requestId, actors.publicSecurity.address, 404);
      expect(await storedReturnRequest(dataSafe, requestId)).to.deep.equal({
        ...before,
        status: ReturnRequestStatus.Declined,
      });
    });

    it("reverts NotRequestedDepartment for anyone but the department asked", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      for (const who of [actors.housingFundCentre, actors.citizen, actors.stranger]) {
        await expect(dataSafe.connect(who).declineReturnRequest(requestId, 1))
          .to.be.revertedWithCustomError(dataSafe, "NotRequestedDepartment")
          .withArgs(requestId, who.address);
      }
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Open);
    });

    it("reverts ReturnRequestNotOpen for a declined, fulfilled or cancelled request", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      await dataSafe.connect(actors.publicSecurity).declineReturnRequest(requestId, 1);
      await expect(dataSafe.connect(actors.publicSecurity).declineReturnRequest(requestId, 1))
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(requestId, ReturnRequestStatus.Declined);
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .fulfilReturnRequest(requestId, newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(requestId, ReturnRequestStatus.Declined);
      await expect(dataSafe.connect(actors.citizen).cancelReturnRequest(requestId))
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(requestId, ReturnRequestStatus.Declined);
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Declined);
    });
  });

  describe("cancelReturnRequest", () => {
    it("lets the holder cancel: ReturnRequestCancelled(request, controller), status Cancelled", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      const before = await storedReturnRequest(dataSafe, requestId);
      await expect(dataSafe.connect(actors.citizen).cancelReturnRequest(requestId))
        .to.emit(dataSafe, "ReturnRequestCancelled")
        .withArgs(requestId, actors.citizen.address);
      expect(await storedReturnRequest(dataSafe, requestId)).to.deep.equal({
        ...before,
        status: ReturnRequestStatus.Cancelled,
      });
    });

    it("closes the request to the department", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      await dataSafe.connect(actors.citizen).cancelReturnRequest(requestId);
      await expect(
        dataSafe
          .connect(actors.publicSecurity)
          .fulfilReturnRequest(requestId, newAsset(CITIZEN, DataType.HouseholdRegister)),
      )
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(requestId, ReturnRequestStatus.Cancelled);
      await expect(dataSafe.connect(actors.publicSecurity).declineReturnRequest(requestId, 1))
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(requestId, ReturnRequestStatus.Cancelled);
      await expect(dataSafe.connect(actors.citizen).cancelReturnRequest(requestId))
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(requestId, ReturnRequestStatus.Cancelled);
    });

    it("reverts NotSubjectController for the department, a stranger and another holder", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      for (const who of [actors.publicSecurity, actors.stranger, actors.company]) {
        await expect(dataSafe.connect(who).cancelReturnRequest(requestId))
          .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
          .withArgs(CITIZEN, who.address);
      }
      expect((await storedReturnRequest(dataSafe, requestId)).status).to.equal(ReturnRequestStatus.Open);
    });

    it("follows the subject, not the key: after a transfer the new key cancels and the old cannot", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      const [newKey] = actors.others;
      await dataSafe.connect(actors.citizen).transferControl(CITIZEN, newKey.address);
      await expect(dataSafe.connect(actors.citizen).cancelReturnRequest(requestId))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, actors.citizen.address);
      await expect(dataSafe.connect(newKey).cancelReturnRequest(requestId))
        .to.emit(dataSafe, "ReturnRequestCancelled")
        .withArgs(requestId, newKey.address);
    });

    it("reverts ReturnRequestNotOpen for a fulfilled or unknown request", async () => {
      const { dataSafe, actors, requestId } = await loadFixture(deployWithRequest);
      await dataSafe
        .connect(actors.publicSecurity)
        .fulfilReturnRequest(requestId, newAsset(CITIZEN, DataType.HouseholdRegister));
      await expect(dataSafe.connect(actors.citizen).cancelReturnRequest(requestId))
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(requestId, ReturnRequestStatus.Fulfilled);
      const unknown = random32();
      await expect(dataSafe.connect(actors.citizen).cancelReturnRequest(unknown))
        .to.be.revertedWithCustomError(dataSafe, "ReturnRequestNotOpen")
        .withArgs(unknown, ReturnRequestStatus.None);
    });
  });
});
