/**
 * The SDK tests' fixture: the deployed suite with participants (test/helpers/fixtures.ts), a
 * client per actor, and a holder whose key is a phone wallet with no funds.
 */
import { Wallet } from "ethers";

import {
  DataSafeClient,
  type Hex,
  type IssuedAsset,
  commitFields,
  commitRecord,
  deriveSubjectId,
  newSalt,
} from "../../sdk/index.js";
import { CITIZEN, DataType, deployWithParticipants, ethers, networkHelpers } from "../helpers/fixtures.js";

export const Purpose = { Loan: 1, Enrolment: 2 } as const;
export const Outcome = { LoanApproved: 1 } as const;

export const householdRecord = {
  householdNumber: "TEST-HH-1",
  registrationType: "local",
  district: "Lixia",
  members: 3,
};
export const fundRecord = { accountNumber: "TEST-HF-1", balance: 86400, paidUntil: "2025-09" };

async function sdkFixture() {
  const suite = await deployWithParticipants();
  const a = suite.actors;
  const safe = new DataSafeClient(
    {
      address: await suite.dataSafe.getAddress(),
      catalogAddress: await suite.catalog.getAddress(),
      keyDirectoryAddress: await suite.keyDirectory.getAddress(),
    },
    ethers.provider,
  );
  const as = (signer: Parameters<DataSafeClient["connect"]>[0]) => safe.connect(signer);

  // A holder whose key is a phone wallet that never holds funds.
  const phone = Wallet.createRandom();
  const phoneHolder = deriveSubjectId(newSalt(), "resident-id", "TEST-PHONE-HOLDER");
  await (await as(a.identityAuthority).subjects.register(phoneHolder, phone.address)).wait();

  // Each holder gets a household register (committed field by field) and a housing-fund record.
  const household = commitFields(householdRecord);
  const fund = commitRecord(fundRecord);
  const issue = async (
    from: typeof a.publicSecurity,
    subjectId: Hex,
    dataType: number,
    contentCommitment: Hex,
  ): Promise<IssuedAsset> => (await as(from).assets.issue({ subjectId, dataType, contentCommitment })).wait();
  const assets = {
    citizenHousehold: await issue(a.publicSecurity, CITIZEN, DataType.HouseholdRegister, household.root),
    citizenFund: await issue(a.housingFundCentre, CITIZEN, DataType.HousingFund, fund.commitment),
    phoneHousehold: await issue(
      a.publicSecurity,
      phoneHolder,
      DataType.HouseholdRegister,
      commitFields(householdRecord).root,
    ),
    phoneFund: await issue(a.housingFundCentre, phoneHolder, DataType.HousingFund, commitRecord(fundRecord).commitment),
  };

  return {
    ...suite,
    safe,
    as,
    phone,
    phoneHolder,
    assets,
    salts: { household: household.salt, fund: fund.salt },
    /** Clients of the fixture's actors. */
    clients: {
      memberAdmin: as(a.memberAdmin),
      catalogAdmin: as(a.catalogAdmin),
      regulator: as(a.regulator),
      authority: as(a.identityAuthority),
      publicSecurity: as(a.publicSecurity),
      housingFund: as(a.housingFundCentre),
      bank: as(a.bank),
      school: as(a.school),
      citizen: as(a.citizen),
      company: as(a.company),
      relayer: as(a.stranger),
    },
  };
}

/** The SDK fixture, from a snapshot after the first load. */
export const loadSdkFixture = () => networkHelpers.loadFixture(sdkFixture);

/** The timestamp of the latest block. */
export const now = async (): Promise<number> => (await ethers.provider.getBlock("latest"))!.timestamp;

/** Runs `attempt` and returns what it threw; fails if it did not throw. */
export async function thrown(attempt: () => Promise<unknown>): Promise<unknown> {
  try {
    await attempt();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, none was thrown");
}
