import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ZeroAddress, hexlify, keccak256, randomBytes, toUtf8Bytes, AbiCoder } from "ethers";
import { network } from "hardhat";

import Permissions from "../../deploy/modules/Permissions.js";
import type { DataCatalog, DataSafe, DataSafeAccessManager, KeyDirectory } from "../../typechain-types/index.js";

/**
 * One connection to a fresh embedded network, shared by every test file that imports this module
 * (mocha loads all files into one process, so the module is evaluated once per run).
 */
export const connection = await network.create();
export const { ethers, ignition } = connection;

/**
 * The network helpers, with a `loadFixture` that mines one block after restoring a snapshot. The
 * snapshot of a fixture is taken the first time any file loads it; in a long run (CI runs the
 * process-heavy suites in between) it is many minutes old, so after a restore `time.latest()` is that
 * old while the next transaction is mined at the wall clock. A test computing "valid for 1000 s from
 * now" from `time.latest()` then got an already expired time. After the extra block, `time.latest()`
 * is the time the test's transactions are mined at.
 */
export const networkHelpers: typeof connection.networkHelpers = new Proxy(connection.networkHelpers, {
  get(target, property) {
    if (property === "loadFixture") return loadFixtureAtWallClock;
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === "function" ? value.bind(target) : value;
  },
});

async function loadFixtureAtWallClock<T>(fixture: () => Promise<T>): Promise<T> {
  const loaded = await connection.networkHelpers.loadFixture(fixture);
  await connection.networkHelpers.mine();
  return loaded;
}

/** Member kinds, as in contracts/Common.sol. */
export const MemberKind = {
  None: 0,
  Department: 1,
  Consumer: 2,
  Regulator: 3,
  Operator: 4,
  IdentityAuthority: 5,
} as const;
export const MemberStatus = { None: 0, Active: 1, Suspended: 2 } as const;
export const DataTypeStatus = { None: 0, Active: 1, Deprecated: 2 } as const;
export const AssetStatus = { None: 0, Valid: 1, Revoked: 2, Superseded: 3 } as const;
export const ReturnRequestStatus = { None: 0, Open: 1, Fulfilled: 2, Declined: 3, Cancelled: 4 } as const;
export const AccessRequestStatus = { None: 0, Open: 1, Approved: 2, Rejected: 3, Cancelled: 4 } as const;
export const GrantScope = { Asset: 0, DataType: 1 } as const;
export const GrantStatus = { None: 0, Active: 1, Revoked: 2 } as const;
export const AccessCheck = {
  Allowed: 0,
  NoGrant: 1,
  GrantRevoked: 2,
  GrantExpired: 3,
  GrantExhausted: 4,
  ConsumerNotActive: 5,
  AssetNotValid: 6,
  IssuerSuspended: 7,
  FieldsNotGranted: 8,
} as const;

/** Data type ids used by the tests (a subset of the demo catalog). */
export const DataType = { HouseholdRegister: 1, IdCard: 2, HousingFund: 8 } as const;

export interface Actors {
  admin: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  memberAdmin: HardhatEthersSigner;
  catalogAdmin: HardhatEthersSigner;
  regulator: HardhatEthersSigner;
  identityAuthority: HardhatEthersSigner;
  publicSecurity: HardhatEthersSigner;
  housingFundCentre: HardhatEthersSigner;
  bank: HardhatEthersSigner;
  school: HardhatEthersSigner;
  citizen: HardhatEthersSigner;
  company: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
  others: HardhatEthersSigner[];
}

export interface Suite {
  manager: DataSafeAccessManager;
  catalog: DataCatalog;
  dataSafe: DataSafe;
  keyDirectory: KeyDirectory;
  actors: Actors;
}

export async function actors(): Promise<Actors> {
  const s = await ethers.getSigners();
  return {
    admin: s[0],
    operator: s[1],
    memberAdmin: s[2],
    catalogAdmin: s[3],
    regulator: s[4],
    identityAuthority: s[5],
    publicSecurity: s[6],
    housingFundCentre: s[7],
    bank: s[8],
    school: s[9],
    citizen: s[10],
    company: s[11],
    stranger: s[12],
    others: s.slice(13),
  };
}

/** Deploys the suite through the production Ignition modules, roles granted without delays. */
export async function deploySuite(): Promise<Suite> {
  const a = await actors();
  const { manager, catalog, dataSafe, keyDirectory } = await ignition.deploy(Permissions, {
    parameters: {
      Permissions: {
        operator: a.operator.address,
        memberAdmin: a.memberAdmin.address,
        catalogAdmin: a.catalogAdmin.address,
        regulator: a.regulator.address,
      },
    },
  });
  return {
    manager: manager as unknown as DataSafeAccessManager,
    catalog: catalog as unknown as DataCatalog,
    dataSafe: dataSafe as unknown as DataSafe,
    keyDirectory: keyDirectory as unknown as KeyDirectory,
    actors: a,
  };
}

/** A fresh random 32-byte value as hex. */
export const random32 = (): string => hexlify(randomBytes(32));

/** A pseudonymous subject id, as an identity authority derives it (here from a random secret). */
export const subjectIdFor = (label: string): string =>
  keccak256(AbiCoder.defaultAbiCoder().encode(["string", "string"], ["test-pepper", label]));

export const CITIZEN = subjectIdFor("citizen-1");
export const COMPANY = subjectIdFor("company-1");

/**
 * The suite with participants: departments, consumers and an identity authority registered;
 * household register and ID card issued by public security, housing fund by the housing-fund
 * centre; a citizen and a company registered as subjects.
 */
export async function deployWithParticipants(): Promise<Suite> {
  const suite = await deploySuite();
  const { catalog, dataSafe, actors: a } = suite;
  const register = async (who: HardhatEthersSigner, kind: number, name: string) =>
    dataSafe.connect(a.memberAdmin).registerMember(who.address, kind, name, `ipfs://member/${name}`);
  await register(a.identityAuthority, MemberKind.IdentityAuthority, "Identity Authority");
  await register(a.publicSecurity, MemberKind.Department, "Public Security Bureau");
  await register(a.housingFundCentre, MemberKind.Department, "Housing Provident Fund Centre");
  await register(a.bank, MemberKind.Consumer, "City Commercial Bank");
  await register(a.school, MemberKind.Consumer, "No. 1 Middle School");
  const define = async (id: number, name: string) =>
    catalog.connect(a.catalogAdmin).defineDataType(id, name, keccak256(toUtf8Bytes(name)), `ipfs://schema/${name}`);
  await define(DataType.HouseholdRegister, "household-register");
  await define(DataType.IdCard, "id-card");
  await define(DataType.HousingFund, "personal-housing-fund");
  await catalog.connect(a.catalogAdmin).authoriseIssuer(DataType.HouseholdRegister, a.publicSecurity.address);
  await catalog.connect(a.catalogAdmin).authoriseIssuer(DataType.IdCard, a.publicSecurity.address);
  await catalog.connect(a.catalogAdmin).authoriseIssuer(DataType.HousingFund, a.housingFundCentre.address);
  await dataSafe.connect(a.identityAuthority).registerSubject(CITIZEN, a.citizen.address);
  await dataSafe.connect(a.identityAuthority).registerSubject(COMPANY, a.company.address);
  return suite;
}

/** A new asset for `subjectId` of `dataType` with a fresh salted commitment. */
export const newAsset = (subjectId: string, dataType: number, validUntil = 0) => ({
  subjectId,
  dataType,
  contentCommitment: random32(),
  payloadPointer: random32(),
  validUntil,
});

/** The id the registry gives an asset: keccak256(abi.encode(AssetKey)). */
export const assetIdOf = (issuer: string, a: { subjectId: string; dataType: number; contentCommitment: string }) =>
  keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["tuple(address,bytes32,uint32,bytes32)"],
      [[issuer, a.subjectId, a.dataType, a.contentCommitment]],
    ),
  );

/** The id of a grant: keccak256(abi.encode(GrantKey)). */
export const grantIdOf = (k: { subjectId: string; consumer: string; scope: number; target: string; purpose: number }) =>
  keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["tuple(bytes32,address,uint8,bytes32,uint16)"],
      [[k.subjectId, k.consumer, k.scope, k.target, k.purpose]],
    ),
  );

/**
 * The issuer `deployWithParticipants` authorises for each test data type: public security for the
 * household register and the ID card, the housing-fund centre for the housing fund (the default
 * accounts 6 and 7, see `actors`).
 */
const signers = await ethers.getSigners();
export const ISSUER_OF: Record<number, string> = {
  [DataType.HouseholdRegister]: signers[6].address,
  [DataType.IdCard]: signers[6].address,
  [DataType.HousingFund]: signers[7].address,
};

/**
 * A data-type grant target: `issuer`'s assets of `dataType` (`issuer << 32 | dataType`); by default
 * the type's issuer in `deployWithParticipants`.
 */
export const typeTarget = (dataType: number, issuer: string = ISSUER_OF[dataType] ?? ZeroAddress): string =>
  AbiCoder.defaultAbiCoder().encode(["uint256"], [(BigInt(issuer) << 32n) | BigInt(dataType)]);
