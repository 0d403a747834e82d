import { expect } from "chai";
import { type Interface, id } from "ethers";
import { network } from "hardhat";

import Permissions from "../../deploy/modules/Permissions.js";
import {
  CATALOG_FUNCTION_ROLES,
  DATA_SAFE_FUNCTION_ROLES,
  Role,
  type RoleName,
  selectorsOf,
} from "../../deploy/modules/roles.js";
import type { DataCatalog, DataSafe, DataSafeAccessManager } from "../../typechain-types/index.js";
import {
  DataType,
  DataTypeStatus,
  MemberKind,
  deploySuite,
  ethers,
  networkHelpers,
  random32,
} from "../helpers/fixtures.js";
import { deployWithAsset, restrictedFunctionsBySource } from "../helpers/registry.js";

const { loadFixture } = networkHelpers;

// A second deployment of the Permissions module, with other parameters, needs a chain of its own:
// Ignition returns the existing deployment for a repeated deploy on one connection.
const delayed = await network.create();

const ROLE_NAMES = Object.keys(DATA_SAFE_FUNCTION_ROLES) as RoleName[];
const ROLE_HOLDER: Record<RoleName, "operator" | "memberAdmin" | "catalogAdmin" | "regulator"> = {
  OPERATOR: "operator",
  MEMBER_ADMIN: "memberAdmin",
  CATALOG_ADMIN: "catalogAdmin",
  REGULATOR: "regulator",
};
const selector = (signature: string) => id(signature).slice(0, 10);
/** A contract's ABI as a plain ethers Interface, to look functions up by any name or signature. */
const abiOf = (contract: { interface: unknown }) => contract.interface as Interface;

describe("governance (Permissions module)", () => {
  describe("function roles", () => {
    it("points both contracts at the suite's AccessManager", async () => {
      const { manager, catalog, dataSafe } = await loadFixture(deploySuite);
      expect(await dataSafe.authority()).to.equal(await manager.getAddress());
      expect(await catalog.authority()).to.equal(await manager.getAddress());
      expect(await manager.isTargetClosed(await dataSafe.getAddress())).to.equal(false);
      expect(await manager.isTargetClosed(await catalog.getAddress())).to.equal(false);
    });

    for (const role of ROLE_NAMES) {
      for (const signature of DATA_SAFE_FUNCTION_ROLES[role]) {
        it(`maps DataSafe.${signature} to ${role}`, async () => {
          const { manager, dataSafe } = await loadFixture(deploySuite);
          expect(abiOf(dataSafe).getFunction(signature), "signature exists in the DataSafe ABI").to.not.equal(null);
          expect(await manager.getTargetFunctionRole(await dataSafe.getAddress(), selector(signature))).to.equal(
            Role[role],
          );
        });
      }
      for (const signature of CATALOG_FUNCTION_ROLES[role]) {
        it(`maps DataCatalog.${signature} to ${role}`, async () => {
          const { manager, catalog } = await loadFixture(deploySuite);
          expect(abiOf(catalog).getFunction(signature), "signature exists in the DataCatalog ABI").to.not.equal(null);
          expect(await manager.getTargetFunctionRole(await catalog.getAddress(), selector(signature))).to.equal(
            Role[role],
          );
        });
      }
    }

    it("maps every function the sources mark restricted, and nothing else", async () => {
      const { dataSafe, catalog } = await loadFixture(deploySuite);
      const bySource = restrictedFunctionsBySource();
      const sighash = (contract: DataSafe | DataCatalog, name: string) =>
        abiOf(contract).getFunction(name)!.format("sighash");
      const restrictedCatalog = bySource["DataCatalog.sol"].map((n) => sighash(catalog, n)).sort();
      const restrictedCore = Object.entries(bySource)
        .filter(([file]) => file !== "DataCatalog.sol")
        .flatMap(([, names]) => names.map((n) => sighash(dataSafe, n)))
        .sort();
      expect(restrictedCore).to.deep.equal(Object.values(DATA_SAFE_FUNCTION_ROLES).flat().sort());
      expect(restrictedCatalog).to.deep.equal(Object.values(CATALOG_FUNCTION_ROLES).flat().sort());
    });

    it("leaves each contract's restricted selectors unmapped (ADMIN) on the other contract", async () => {
      const { manager, catalog, dataSafe } = await loadFixture(deploySuite);
      for (const s of selectorsOf(Object.values(CATALOG_FUNCTION_ROLES).flat())) {
        expect(await manager.getTargetFunctionRole(await dataSafe.getAddress(), s)).to.equal(Role.ADMIN);
      }
      for (const s of selectorsOf(Object.values(DATA_SAFE_FUNCTION_ROLES).flat())) {
        expect(await manager.getTargetFunctionRole(await catalog.getAddress(), s)).to.equal(Role.ADMIN);
      }
    });
  });

  describe("roles", () => {
    it("labels each role with its name (RoleLabel)", async () => {
      const { manager } = await loadFixture(deploySuite);
      const labels = (await manager.queryFilter(manager.filters.RoleLabel())).map((e) => [e.args.roleId, e.args.label]);
      expect(labels).to.have.deep.members(ROLE_NAMES.map((r) => [Role[r], r]));
      expect(labels).to.have.length(ROLE_NAMES.length);
    });

    it("grants each role to the account of its parameter, without delay (RoleGranted, hasRole)", async () => {
      const { manager, actors } = await loadFixture(deploySuite);
      const granted = (await manager.queryFilter(manager.filters.RoleGranted())).map((e) => [
        e.args.roleId,
        e.args.account,
        e.args.delay,
        e.args.newMember,
      ]);
      expect(granted).to.have.deep.members([
        [Role.ADMIN, actors.admin.address, 0n, true],
        ...ROLE_NAMES.map((r) => [Role[r], actors[ROLE_HOLDER[r]].address, 0n, true]),
      ]);
      for (const role of ROLE_NAMES) {
        const [isMember, delay] = await manager.hasRole(Role[role], actors[ROLE_HOLDER[role]].address);
        expect(isMember, role).to.equal(true);
        expect(delay, role).to.equal(0n);
        expect(await manager.getRoleGrantDelay(Role[role])).to.equal(0n);
      }
    });

    it("grants no role to anyone else", async () => {
      const { manager, actors } = await loadFixture(deploySuite);
      const holders = [
        "admin",
        "operator",
        "memberAdmin",
        "catalogAdmin",
        "regulator",
        "stranger",
        "publicSecurity",
      ] as const;
      for (const role of ["ADMIN", ...ROLE_NAMES] as const) {
        for (const who of holders) {
          const expected = role === "ADMIN" ? who === "admin" : who === ROLE_HOLDER[role as RoleName];
          const [isMember] = await manager.hasRole(Role[role], actors[who].address);
          expect(isMember, `${who} in ${role}`).to.equal(expected);
        }
      }
    });
  });

  describe("restricted functions", () => {
    type Actors = Awaited<ReturnType<typeof deploySuite>>["actors"];
    type Call = {
      contract: "dataSafe" | "catalog";
      role: RoleName;
      send: (target: any, a: Actors, assetId: string) => Promise<unknown>;
    };
    const calls: Record<string, Call> = {
      registerMember: {
        contract: "dataSafe",
        role: "MEMBER_ADMIN",
        send: (t, a) => t.registerMember(a.stranger.address, MemberKind.Consumer, "X", ""),
      },
      updateMember: {
        contract: "dataSafe",
        role: "MEMBER_ADMIN",
        send: (t, a) => t.updateMember(a.bank.address, "X", ""),
      },
      suspendMember: { contract: "dataSafe", role: "REGULATOR", send: (t, a) => t.suspendMember(a.bank.address, 1) },
      reinstateMember: { contract: "dataSafe", role: "REGULATOR", send: (t, a) => t.reinstateMember(a.bank.address) },
      setRecoveryDelay: { contract: "dataSafe", role: "OPERATOR", send: (t) => t.setRecoveryDelay(3600) },
      revokeAssetByGovernance: {
        contract: "dataSafe",
        role: "OPERATOR",
        send: (t, _a, assetId) => t.revokeAssetByGovernance(assetId, 7),
      },
      defineDataType: {
        contract: "catalog",
        role: "CATALOG_ADMIN",
        send: (t) => t.defineDataType(99, "marriage-record", random32(), "ipfs://schema/marriage"),
      },
      updateDataTypeSchema: {
        contract: "catalog",
        role: "CATALOG_ADMIN",
        send: (t) => t.updateDataTypeSchema(DataType.IdCard, random32(), "ipfs://schema/id-card-v2"),
      },
      deprecateDataType: {
        contract: "catalog",
        role: "CATALOG_ADMIN",
        send: (t) => t.deprecateDataType(DataType.HousingFund),
      },
      authoriseIssuer: {
        contract: "catalog",
        role: "CATALOG_ADMIN",
        send: (t, a) => t.authoriseIssuer(DataType.IdCard, a.housingFundCentre.address),
      },
      deauthoriseIssuer: {
        contract: "catalog",
        role: "CATALOG_ADMIN",
        send: (t, a) => t.deauthoriseIssuer(DataType.IdCard, a.publicSecurity.address),
      },
    };
    const callers = [
      "admin",
      "operator",
      "memberAdmin",
      "catalogAdmin",
      "regulator",
      "identityAuthority",
      "publicSecurity",
      "bank",
      "stranger",
    ] as const;

    it("covers every restricted function", () => {
      const all = [...Object.values(DATA_SAFE_FUNCTION_ROLES).flat(), ...Object.values(CATALOG_FUNCTION_ROLES).flat()];
      expect(Object.keys(calls).sort()).to.deep.equal(all.map((s) => s.slice(0, s.indexOf("("))).sort());
    });

    for (const [name, call] of Object.entries(calls)) {
      it(`${name} reverts AccessManagedUnauthorized(caller) for every caller outside ${call.role}, and runs for its holder`, async () => {
        const suite = await loadFixture(deployWithAsset);
        const { actors, assetId } = suite;
        const target = suite[call.contract];
        if (name === "reinstateMember")
          await suite.dataSafe.connect(actors.regulator).suspendMember(actors.bank.address, 1);
        for (const who of callers.filter((c) => c !== ROLE_HOLDER[call.role])) {
          await expect(call.send(target.connect(actors[who]), actors, assetId) as Promise<any>, who)
            .to.be.revertedWithCustomError(target, "AccessManagedUnauthorized")
            .withArgs(actors[who].address);
        }
        await expect(
          call.send(target.connect(actors[ROLE_HOLDER[call.role]]), actors, assetId) as Promise<any>,
        ).to.not.be.revert(ethers);
      });
    }
  });

  describe("delayed operations (catalogAdminDelay = 3600)", () => {
    const DELAY = 3600;

    async function deployDelayedSuite() {
      const s = await delayed.ethers.getSigners();
      const actors = {
        admin: s[0],
        operator: s[1],
        memberAdmin: s[2],
        catalogAdmin: s[3],
        regulator: s[4],
        stranger: s[12],
      };
      const deployed = await delayed.ignition.deploy(Permissions, {
        parameters: {
          Permissions: {
            operator: actors.operator.address,
            memberAdmin: actors.memberAdmin.address,
            catalogAdmin: actors.catalogAdmin.address,
            regulator: actors.regulator.address,
            catalogAdminDelay: DELAY,
          },
        },
      });
      const manager = deployed.manager as unknown as DataSafeAccessManager;
      const catalog = deployed.catalog as unknown as DataCatalog;
      const dataSafe = deployed.dataSafe as unknown as DataSafe;
      const data = catalog.interface.encodeFunctionData("defineDataType", [
        77,
        "tax-record",
        id("tax-schema"),
        "ipfs://schema/tax",
      ]);
      return { manager, catalog, dataSafe, actors, data };
    }

    it("grants the catalog admin its role with the execution delay", async () => {
      const { manager, actors } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const [isMember, delay] = await manager.hasRole(Role.CATALOG_ADMIN, actors.catalogAdmin.address);
      expect(isMember).to.equal(true);
      expect(delay).to.equal(BigInt(DELAY));
      // The other roles stay immediate.
      expect((await manager.hasRole(Role.MEMBER_ADMIN, actors.memberAdmin.address))[1]).to.equal(0n);
    });

    it("refuses a direct, unscheduled call by the delayed catalog admin", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const operationId = await manager.hashOperation(actors.catalogAdmin.address, await catalog.getAddress(), data);
      // AccessManaged sees a role member with a delay and asks the manager to consume a scheduled
      // operation; there is none, so the manager reverts AccessManagerNotScheduled (it is not
      // AccessManagedUnauthorized, which is only for callers outside the role).
      await expect(
        catalog.connect(actors.catalogAdmin).defineDataType(77, "tax-record", id("tax-schema"), "ipfs://schema/tax"),
      )
        .to.be.revertedWithCustomError(manager, "AccessManagerNotScheduled")
        .withArgs(operationId);
      await expect(
        catalog.connect(actors.catalogAdmin).authoriseIssuer(77, actors.stranger.address),
      ).to.be.revertedWithCustomError(manager, "AccessManagerNotScheduled");
      expect(await catalog.isDefined(77)).to.equal(false);
    });

    it("refuses the call for a caller outside the role with AccessManagedUnauthorized", async () => {
      const { catalog, actors } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      await expect(
        catalog.connect(actors.stranger).defineDataType(77, "tax-record", id("tax-schema"), "ipfs://schema/tax"),
      )
        .to.be.revertedWithCustomError(catalog, "AccessManagedUnauthorized")
        .withArgs(actors.stranger.address);
    });

    it("schedule emits OperationScheduled for block time + delay", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const target = await catalog.getAddress();
      const operationId = await manager.hashOperation(actors.catalogAdmin.address, target, data);
      const now = await delayed.networkHelpers.time.latest();
      await delayed.networkHelpers.time.setNextBlockTimestamp(now + 10);
      await expect(manager.connect(actors.catalogAdmin).schedule(target, data, 0))
        .to.emit(manager, "OperationScheduled")
        .withArgs(operationId, 1, now + 10 + DELAY, actors.catalogAdmin.address, target, data);
      expect(await manager.getSchedule(operationId)).to.equal(BigInt(now + 10 + DELAY));
    });

    it("execute before the delay reverts AccessManagerNotReady", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const target = await catalog.getAddress();
      const operationId = await manager.hashOperation(actors.catalogAdmin.address, target, data);
      await manager.connect(actors.catalogAdmin).schedule(target, data, 0);
      await delayed.networkHelpers.time.increase(DELAY - 10);
      await expect(manager.connect(actors.catalogAdmin).execute(target, data))
        .to.be.revertedWithCustomError(manager, "AccessManagerNotReady")
        .withArgs(operationId);
      expect(await catalog.isDefined(77)).to.equal(false);
    });

    it("execute after the delay runs the call (OperationExecuted, DataTypeDefined by the manager)", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const target = await catalog.getAddress();
      const operationId = await manager.hashOperation(actors.catalogAdmin.address, target, data);
      await manager.connect(actors.catalogAdmin).schedule(target, data, 0);
      await delayed.networkHelpers.time.increase(DELAY);
      const tx = manager.connect(actors.catalogAdmin).execute(target, data);
      await expect(tx).to.emit(manager, "OperationExecuted").withArgs(operationId, 1);
      // Executed through the manager: the catalog sees the manager as the caller.
      await expect(tx)
        .to.emit(catalog, "DataTypeDefined")
        .withArgs(77, "tax-record", id("tax-schema"), "ipfs://schema/tax", await manager.getAddress());
      const stored = await catalog.getDataType(77);
      expect(stored.status).to.equal(DataTypeStatus.Active);
      expect(stored.name).to.equal("tax-record");
      expect(await manager.getSchedule(operationId)).to.equal(0n);
    });

    it("after the delay the admin may also call the catalog directly, consuming the schedule", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const target = await catalog.getAddress();
      const operationId = await manager.hashOperation(actors.catalogAdmin.address, target, data);
      await manager.connect(actors.catalogAdmin).schedule(target, data, 0);
      await delayed.networkHelpers.time.increase(DELAY);
      const tx = catalog
        .connect(actors.catalogAdmin)
        .defineDataType(77, "tax-record", id("tax-schema"), "ipfs://schema/tax");
      await expect(tx).to.emit(manager, "OperationExecuted").withArgs(operationId, 1);
      await expect(tx)
        .to.emit(catalog, "DataTypeDefined")
        .withArgs(77, "tax-record", id("tax-schema"), "ipfs://schema/tax", actors.catalogAdmin.address);
    });

    it("an executed operation cannot run twice (AccessManagerNotScheduled)", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const target = await catalog.getAddress();
      const operationId = await manager.hashOperation(actors.catalogAdmin.address, target, data);
      await manager.connect(actors.catalogAdmin).schedule(target, data, 0);
      await delayed.networkHelpers.time.increase(DELAY);
      await manager.connect(actors.catalogAdmin).execute(target, data);
      await expect(manager.connect(actors.catalogAdmin).execute(target, data))
        .to.be.revertedWithCustomError(manager, "AccessManagerNotScheduled")
        .withArgs(operationId);
    });

    it("a cancelled operation cannot run (OperationCanceled, then AccessManagerNotScheduled)", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const target = await catalog.getAddress();
      const operationId = await manager.hashOperation(actors.catalogAdmin.address, target, data);
      await manager.connect(actors.catalogAdmin).schedule(target, data, 0);
      await expect(manager.connect(actors.catalogAdmin).cancel(actors.catalogAdmin.address, target, data))
        .to.emit(manager, "OperationCanceled")
        .withArgs(operationId, 1);
      await delayed.networkHelpers.time.increase(DELAY);
      await expect(manager.connect(actors.catalogAdmin).execute(target, data))
        .to.be.revertedWithCustomError(manager, "AccessManagerNotScheduled")
        .withArgs(operationId);
      expect(await catalog.isDefined(77)).to.equal(false);
    });

    it("a stranger can neither schedule nor execute the catalog admin's operation", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const target = await catalog.getAddress();
      const sel = data.slice(0, 10);
      await expect(manager.connect(actors.stranger).schedule(target, data, 0))
        .to.be.revertedWithCustomError(manager, "AccessManagerUnauthorizedCall")
        .withArgs(actors.stranger.address, target, sel);
      await manager.connect(actors.catalogAdmin).schedule(target, data, 0);
      await delayed.networkHelpers.time.increase(DELAY);
      await expect(manager.connect(actors.stranger).execute(target, data))
        .to.be.revertedWithCustomError(manager, "AccessManagerUnauthorizedCall")
        .withArgs(actors.stranger.address, target, sel);
    });

    it("an operation not executed within a week of its time expires (AccessManagerExpired)", async () => {
      const { manager, catalog, actors, data } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      const target = await catalog.getAddress();
      const operationId = await manager.hashOperation(actors.catalogAdmin.address, target, data);
      await manager.connect(actors.catalogAdmin).schedule(target, data, 0);
      await delayed.networkHelpers.time.increase(DELAY + 7 * 24 * 3600);
      await expect(manager.connect(actors.catalogAdmin).execute(target, data))
        .to.be.revertedWithCustomError(manager, "AccessManagerExpired")
        .withArgs(operationId);
    });

    it("leaves the undelayed roles immediate", async () => {
      const { dataSafe, actors } = await delayed.networkHelpers.loadFixture(deployDelayedSuite);
      await expect(
        dataSafe.connect(actors.memberAdmin).registerMember(actors.stranger.address, MemberKind.Consumer, "X", ""),
      ).to.emit(dataSafe, "MemberRegistered");
    });
  });
});
