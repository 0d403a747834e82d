import { expect } from "chai";
import { id } from "ethers";

import type { DataCatalog } from "../../typechain-types/index.js";
import {
  AssetStatus,
  CITIZEN,
  DataType,
  DataTypeStatus,
  deployWithParticipants,
  networkHelpers,
  newAsset,
  random32,
} from "../helpers/fixtures.js";
import {
  ZeroAddress,
  ZeroHash,
  blockTimeOf,
  deployWithAsset,
  eventNamesOf,
  eventsOf,
  storedAsset,
} from "../helpers/registry.js";

const { loadFixture } = networkHelpers;

const MARRIAGE = 42;

async function storedDataType(catalog: DataCatalog, dataType: number) {
  const t = await catalog.getDataType(dataType);
  return {
    status: Number(t.status),
    definedAt: Number(t.definedAt),
    schemaHash: t.schemaHash,
    name: t.name,
    schemaURI: t.schemaURI,
  };
}

describe("DataCatalog", () => {
  describe("defineDataType", () => {
    it("emits DataTypeDefined with every field and the governance caller", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      const hash = id("marriage-schema-v1");
      await expect(
        catalog
          .connect(actors.catalogAdmin)
          .defineDataType(MARRIAGE, "marriage-record", hash, "ipfs://schema/marriage"),
      )
        .to.emit(catalog, "DataTypeDefined")
        .withArgs(MARRIAGE, "marriage-record", hash, "ipfs://schema/marriage", actors.catalogAdmin.address);
    });

    it("stores status Active, definedAt, schema hash, name and schema URI, with no issuer", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      const hash = id("marriage-schema-v1");
      const at = await blockTimeOf(
        catalog
          .connect(actors.catalogAdmin)
          .defineDataType(MARRIAGE, "marriage-record", hash, "ipfs://schema/marriage"),
      );
      expect(await storedDataType(catalog, MARRIAGE)).to.deep.equal({
        status: DataTypeStatus.Active,
        definedAt: at,
        schemaHash: hash,
        name: "marriage-record",
        schemaURI: "ipfs://schema/marriage",
      });
      expect(await catalog.isDefined(MARRIAGE)).to.equal(true);
      expect(await catalog.issuersOf(MARRIAGE)).to.deep.equal([]);
      expect(await catalog.isAuthorisedIssuer(MARRIAGE, actors.publicSecurity.address)).to.equal(false);
    });

    it("accepts the largest type id", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).defineDataType(2 ** 32 - 1, "last", random32(), "");
      expect(await catalog.isDefined(2 ** 32 - 1)).to.equal(true);
    });

    it("reverts DataTypeAlreadyDefined for a defined id and keeps the stored type", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      const before = await storedDataType(catalog, DataType.IdCard);
      await expect(
        catalog.connect(actors.catalogAdmin).defineDataType(DataType.IdCard, "other", random32(), "ipfs://other"),
      )
        .to.be.revertedWithCustomError(catalog, "DataTypeAlreadyDefined")
        .withArgs(DataType.IdCard);
      expect(await storedDataType(catalog, DataType.IdCard)).to.deep.equal(before);
    });

    it("reverts DataTypeAlreadyDefined for a deprecated id (ids are never reused)", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.HousingFund);
      await expect(catalog.connect(actors.catalogAdmin).defineDataType(DataType.HousingFund, "reborn", random32(), ""))
        .to.be.revertedWithCustomError(catalog, "DataTypeAlreadyDefined")
        .withArgs(DataType.HousingFund);
      expect((await storedDataType(catalog, DataType.HousingFund)).status).to.equal(DataTypeStatus.Deprecated);
    });

    it("reverts InvalidDataType for id 0", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(catalog.connect(actors.catalogAdmin).defineDataType(0, "zero", random32(), ""))
        .to.be.revertedWithCustomError(catalog, "InvalidDataType")
        .withArgs(0);
      expect(await catalog.isDefined(0)).to.equal(false);
    });

    it("reverts InvalidDataType for an empty name", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(catalog.connect(actors.catalogAdmin).defineDataType(MARRIAGE, "", random32(), "ipfs://x"))
        .to.be.revertedWithCustomError(catalog, "InvalidDataType")
        .withArgs(MARRIAGE);
      expect(await catalog.isDefined(MARRIAGE)).to.equal(false);
    });

    it("reverts InvalidDataType for a zero schema hash", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(
        catalog.connect(actors.catalogAdmin).defineDataType(MARRIAGE, "marriage-record", ZeroHash, "ipfs://x"),
      )
        .to.be.revertedWithCustomError(catalog, "InvalidDataType")
        .withArgs(MARRIAGE);
      expect(await catalog.isDefined(MARRIAGE)).to.equal(false);
    });
  });

  describe("updateDataTypeSchema", () => {
    it("emits DataTypeSchemaUpdated and changes hash and URI only", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      const before = await storedDataType(catalog, DataType.IdCard);
      const hash = id("id-card-schema-v2");
      await expect(
        catalog.connect(actors.catalogAdmin).updateDataTypeSchema(DataType.IdCard, hash, "ipfs://schema/id-card-v2"),
      )
        .to.emit(catalog, "DataTypeSchemaUpdated")
        .withArgs(DataType.IdCard, hash, "ipfs://schema/id-card-v2", actors.catalogAdmin.address);
      expect(await storedDataType(catalog, DataType.IdCard)).to.deep.equal({
        ...before,
        schemaHash: hash,
        schemaURI: "ipfs://schema/id-card-v2",
      });
      expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([actors.publicSecurity.address]);
    });

    it("reverts InvalidDataType for a zero schema hash", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      const before = await storedDataType(catalog, DataType.IdCard);
      await expect(catalog.connect(actors.catalogAdmin).updateDataTypeSchema(DataType.IdCard, ZeroHash, "ipfs://x"))
        .to.be.revertedWithCustomError(catalog, "InvalidDataType")
        .withArgs(DataType.IdCard);
      expect(await storedDataType(catalog, DataType.IdCard)).to.deep.equal(before);
    });

    it("reverts DataTypeNotDefined for an undefined type", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(catalog.connect(actors.catalogAdmin).updateDataTypeSchema(MARRIAGE, random32(), ""))
        .to.be.revertedWithCustomError(catalog, "DataTypeNotDefined")
        .withArgs(MARRIAGE);
    });

    it("reverts DataTypeNotActive for a deprecated type", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.IdCard);
      const before = await storedDataType(catalog, DataType.IdCard);
      await expect(catalog.connect(actors.catalogAdmin).updateDataTypeSchema(DataType.IdCard, random32(), ""))
        .to.be.revertedWithCustomError(catalog, "DataTypeNotActive")
        .withArgs(DataType.IdCard);
      expect(await storedDataType(catalog, DataType.IdCard)).to.deep.equal(before);
    });
  });

  describe("deprecateDataType", () => {
    it("emits IssuerDeauthorised for every issuer, then DataTypeDeprecated", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog
        .connect(actors.catalogAdmin)
        .authoriseIssuer(DataType.HouseholdRegister, actors.housingFundCentre.address);
      const tx = catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.HouseholdRegister);
      const deauthorised = await eventsOf(tx, catalog, "IssuerDeauthorised");
      expect(deauthorised).to.have.deep.members([
        [BigInt(DataType.HouseholdRegister), actors.publicSecurity.address, actors.catalogAdmin.address],
        [BigInt(DataType.HouseholdRegister), actors.housingFundCentre.address, actors.catalogAdmin.address],
      ]);
      expect(await eventsOf(tx, catalog, "DataTypeDeprecated")).to.deep.equal([
        [BigInt(DataType.HouseholdRegister), actors.catalogAdmin.address],
      ]);
      expect(await eventNamesOf(tx, catalog)).to.deep.equal([
        "IssuerDeauthorised",
        "IssuerDeauthorised",
        "DataTypeDeprecated",
      ]);
    });

    it("marks the type Deprecated, keeps its definition, and empties its issuers", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog
        .connect(actors.catalogAdmin)
        .authoriseIssuer(DataType.HouseholdRegister, actors.housingFundCentre.address);
      const before = await storedDataType(catalog, DataType.HouseholdRegister);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.HouseholdRegister);
      expect(await storedDataType(catalog, DataType.HouseholdRegister)).to.deep.equal({
        ...before,
        status: DataTypeStatus.Deprecated,
      });
      expect(await catalog.isDefined(DataType.HouseholdRegister)).to.equal(true);
      expect(await catalog.issuersOf(DataType.HouseholdRegister)).to.deep.equal([]);
      expect(await catalog.isAuthorisedIssuer(DataType.HouseholdRegister, actors.publicSecurity.address)).to.equal(
        false,
      );
      expect(await catalog.isAuthorisedIssuer(DataType.HouseholdRegister, actors.housingFundCentre.address)).to.equal(
        false,
      );
      // Other types keep their issuers.
      expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([actors.publicSecurity.address]);
    });

    it("emits only DataTypeDeprecated for a type without issuers", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).defineDataType(MARRIAGE, "marriage-record", random32(), "");
      const tx = catalog.connect(actors.catalogAdmin).deprecateDataType(MARRIAGE);
      expect(await eventNamesOf(tx, catalog)).to.deep.equal(["DataTypeDeprecated"]);
    });

    it("stops new assets of the type: issueAsset reverts IssuerNotAuthorised and canIssue is false", async () => {
      const { catalog, dataSafe, actors } = await loadFixture(deployWithAsset);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.HouseholdRegister);
      expect(await dataSafe.canIssue(DataType.HouseholdRegister, actors.publicSecurity.address)).to.equal(false);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(newAsset(CITIZEN, DataType.HouseholdRegister)))
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HouseholdRegister, actors.publicSecurity.address);
      await expect(dataSafe.connect(actors.publicSecurity).issueAssets([newAsset(CITIZEN, DataType.HouseholdRegister)]))
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HouseholdRegister, actors.publicSecurity.address);
    });

    it("stops return requests for the type", async () => {
      const { catalog, dataSafe, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.HouseholdRegister);
      await expect(
        dataSafe
          .connect(actors.citizen)
          .requestReturn(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address),
      )
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HouseholdRegister, actors.publicSecurity.address);
    });

    it("leaves existing assets of the type valid", async () => {
      const { catalog, dataSafe, actors, assetId } = await loadFixture(deployWithAsset);
      const before = await storedAsset(dataSafe, assetId);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.HouseholdRegister);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
      expect(await storedAsset(dataSafe, assetId)).to.deep.equal(before);
      expect(before.status).to.equal(AssetStatus.Valid);
    });

    it("reverts DataTypeNotActive when deprecating twice", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.IdCard);
      await expect(catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.IdCard))
        .to.be.revertedWithCustomError(catalog, "DataTypeNotActive")
        .withArgs(DataType.IdCard);
    });

    it("reverts DataTypeNotDefined for an undefined type", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(catalog.connect(actors.catalogAdmin).deprecateDataType(MARRIAGE))
        .to.be.revertedWithCustomError(catalog, "DataTypeNotDefined")
        .withArgs(MARRIAGE);
      expect(await catalog.isDefined(MARRIAGE)).to.equal(false);
    });
  });

  describe("authoriseIssuer", () => {
    it("emits IssuerAuthorised and adds the issuer", async () => {
      const { catalog, dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.IdCard, actors.housingFundCentre.address),
      )
        .to.emit(catalog, "IssuerAuthorised")
        .withArgs(DataType.IdCard, actors.housingFundCentre.address, actors.catalogAdmin.address);
      expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([
        actors.publicSecurity.address,
        actors.housingFundCentre.address,
      ]);
      expect(await catalog.isAuthorisedIssuer(DataType.IdCard, actors.housingFundCentre.address)).to.equal(true);
      expect(await dataSafe.canIssue(DataType.IdCard, actors.housingFundCentre.address)).to.equal(true);
    });

    it("lets the newly authorised department issue the type", async () => {
      const { catalog, dataSafe, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.IdCard, actors.housingFundCentre.address);
      await expect(dataSafe.connect(actors.housingFundCentre).issueAsset(newAsset(CITIZEN, DataType.IdCard))).to.emit(
        dataSafe,
        "AssetIssued",
      );
    });

    it("authorises any address in the catalog; the registry still requires an active department", async () => {
      const { catalog, dataSafe, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.IdCard, actors.stranger.address);
      expect(await catalog.isAuthorisedIssuer(DataType.IdCard, actors.stranger.address)).to.equal(true);
      expect(await dataSafe.canIssue(DataType.IdCard, actors.stranger.address)).to.equal(false);
      await expect(dataSafe.connect(actors.stranger).issueAsset(newAsset(CITIZEN, DataType.IdCard)))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.stranger.address, 1);
    });

    it("reverts IssuerAlreadyAuthorised for an issuer already authorised", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.IdCard, actors.publicSecurity.address))
        .to.be.revertedWithCustomError(catalog, "IssuerAlreadyAuthorised")
        .withArgs(DataType.IdCard, actors.publicSecurity.address);
      expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([actors.publicSecurity.address]);
    });

    it("reverts IssuerNotAuthorised for the zero address", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.IdCard, ZeroAddress))
        .to.be.revertedWithCustomError(catalog, "IssuerNotAuthorised")
        .withArgs(DataType.IdCard, ZeroAddress);
    });

    it("reverts DataTypeNotDefined for an undefined type", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(catalog.connect(actors.catalogAdmin).authoriseIssuer(MARRIAGE, actors.publicSecurity.address))
        .to.be.revertedWithCustomError(catalog, "DataTypeNotDefined")
        .withArgs(MARRIAGE);
      expect(await catalog.issuersOf(MARRIAGE)).to.deep.equal([]);
    });

    it("reverts DataTypeNotActive for a deprecated type", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).deprecateDataType(DataType.IdCard);
      await expect(catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.IdCard, actors.publicSecurity.address))
        .to.be.revertedWithCustomError(catalog, "DataTypeNotActive")
        .withArgs(DataType.IdCard);
      expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([]);
    });
  });

  describe("deauthoriseIssuer", () => {
    it("emits IssuerDeauthorised and removes the issuer", async () => {
      const { catalog, dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        catalog.connect(actors.catalogAdmin).deauthoriseIssuer(DataType.IdCard, actors.publicSecurity.address),
      )
        .to.emit(catalog, "IssuerDeauthorised")
        .withArgs(DataType.IdCard, actors.publicSecurity.address, actors.catalogAdmin.address);
      expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([]);
      expect(await catalog.isAuthorisedIssuer(DataType.IdCard, actors.publicSecurity.address)).to.equal(false);
      expect(await dataSafe.canIssue(DataType.IdCard, actors.publicSecurity.address)).to.equal(false);
      // The type itself stays active, and other types of the issuer are untouched.
      expect((await storedDataType(catalog, DataType.IdCard)).status).to.equal(DataTypeStatus.Active);
      expect(await catalog.isAuthorisedIssuer(DataType.HouseholdRegister, actors.publicSecurity.address)).to.equal(
        true,
      );
    });

    it("stops new assets from the issuer and leaves its existing assets valid", async () => {
      const { catalog, dataSafe, actors, assetId } = await loadFixture(deployWithAsset);
      await catalog
        .connect(actors.catalogAdmin)
        .deauthoriseIssuer(DataType.HouseholdRegister, actors.publicSecurity.address);
      await expect(dataSafe.connect(actors.publicSecurity).issueAsset(newAsset(CITIZEN, DataType.HouseholdRegister)))
        .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
        .withArgs(DataType.HouseholdRegister, actors.publicSecurity.address);
      expect(await dataSafe.isValid(assetId)).to.equal(true);
    });

    it("can authorise the issuer again afterwards", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).deauthoriseIssuer(DataType.IdCard, actors.publicSecurity.address);
      await expect(
        catalog.connect(actors.catalogAdmin).authoriseIssuer(DataType.IdCard, actors.publicSecurity.address),
      ).to.emit(catalog, "IssuerAuthorised");
      expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([actors.publicSecurity.address]);
    });

    it("reverts IssuerNotAuthorised for an address that is not an issuer of the type", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await expect(
        catalog.connect(actors.catalogAdmin).deauthoriseIssuer(DataType.IdCard, actors.housingFundCentre.address),
      )
        .to.be.revertedWithCustomError(catalog, "IssuerNotAuthorised")
        .withArgs(DataType.IdCard, actors.housingFundCentre.address);
      expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([actors.publicSecurity.address]);
    });

    it("reverts IssuerNotAuthorised when deauthorising twice, and for an undefined type", async () => {
      const { catalog, actors } = await loadFixture(deployWithParticipants);
      await catalog.connect(actors.catalogAdmin).deauthoriseIssuer(DataType.IdCard, actors.publicSecurity.address);
      await expect(
        catalog.connect(actors.catalogAdmin).deauthoriseIssuer(DataType.IdCard, actors.publicSecurity.address),
      )
        .to.be.revertedWithCustomError(catalog, "IssuerNotAuthorised")
        .withArgs(DataType.IdCard, actors.publicSecurity.address);
      await expect(catalog.connect(actors.catalogAdmin).deauthoriseIssuer(MARRIAGE, actors.publicSecurity.address))
        .to.be.revertedWithCustomError(catalog, "IssuerNotAuthorised")
        .withArgs(MARRIAGE, actors.publicSecurity.address);
    });
  });

  describe("views", () => {
    it("returns status None and empty fields for an undefined type", async () => {
      const { catalog } = await loadFixture(deployWithParticipants);
      expect(await storedDataType(catalog, MARRIAGE)).to.deep.equal({
        status: DataTypeStatus.None,
        definedAt: 0,
        schemaHash: ZeroHash,
        name: "",
        schemaURI: "",
      });
      expect(await catalog.isDefined(MARRIAGE)).to.equal(false);
      expect(await catalog.isDefined(0)).to.equal(false);
    });

    it("the registry reads this catalog", async () => {
      const { catalog, dataSafe } = await loadFixture(deployWithParticipants);
      expect(await dataSafe.catalog()).to.equal(await catalog.getAddress());
    });
  });

  describe("access control", () => {
    const callers = ["admin", "operator", "memberAdmin", "regulator", "publicSecurity", "stranger"] as const;
    const calls: Record<
      string,
      (c: DataCatalog, a: Awaited<ReturnType<typeof deployWithParticipants>>["actors"]) => Promise<unknown>
    > = {
      defineDataType: (c) => c.defineDataType(MARRIAGE, "marriage-record", random32(), ""),
      updateDataTypeSchema: (c) => c.updateDataTypeSchema(DataType.IdCard, random32(), ""),
      deprecateDataType: (c) => c.deprecateDataType(DataType.IdCard),
      authoriseIssuer: (c, a) => c.authoriseIssuer(DataType.IdCard, a.housingFundCentre.address),
      deauthoriseIssuer: (c, a) => c.deauthoriseIssuer(DataType.IdCard, a.publicSecurity.address),
    };
    for (const [name, call] of Object.entries(calls)) {
      it(`${name} reverts AccessManagedUnauthorized(caller) for everyone but the catalog admin`, async () => {
        const { catalog, actors } = await loadFixture(deployWithParticipants);
        const before = await storedDataType(catalog, DataType.IdCard);
        for (const who of callers) {
          await expect(call(catalog.connect(actors[who]), actors) as Promise<any>, who)
            .to.be.revertedWithCustomError(catalog, "AccessManagedUnauthorized")
            .withArgs(actors[who].address);
        }
        expect(await storedDataType(catalog, DataType.IdCard)).to.deep.equal(before);
        expect(await catalog.issuersOf(DataType.IdCard)).to.deep.equal([actors.publicSecurity.address]);
        expect(await catalog.isDefined(MARRIAGE)).to.equal(false);
      });
    }
  });
});
