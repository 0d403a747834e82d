import { expect } from "chai";

import { AssetStatus, CITIZEN, DataType, assetIdOf, deployWithParticipants, networkHelpers, newAsset } from "../helpers/fixtures.js";

describe("smoke", () => {
  it("issues an asset through the deployed suite", async () => {
    const { dataSafe, actors } = await networkHelpers.loadFixture(deployWithParticipants);
    const asset = newAsset(CITIZEN, DataType.HouseholdRegister);
    const id = assetIdOf(actors.publicSecurity.address, asset);
    await expect(dataSafe.connect(actors.publicSecurity).issueAsset(asset))
      .to.emit(dataSafe, "AssetIssued")
      .withArgs(id, CITIZEN, actors.publicSecurity.address, asset.dataType, asset.contentCommitment, asset.payloadPointer, 0);
    expect((await dataSafe.getAsset(id)).status).to.equal(AssetStatus.Valid);
  });
});
