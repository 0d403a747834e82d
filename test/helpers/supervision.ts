import { randomBytes } from "node:crypto";
import path from "node:path";

import { type Wallet, keccak256, toUtf8Bytes } from "ethers";

import { DATA_TYPES, Outcome, Purpose, schemaOf, schemaURIOf } from "../../scripts/catalog.js";
import { type AccessRecord, DataSafeClient, type Hex, assetIdOf, commitRecord } from "../../sdk/index.js";
import type { Status } from "../../sdk/supervision.js";
import { type Chain, freePort, start, stop } from "./gateway-harness.js";
import { type Started, waitFor } from "./processes.js";

/*
 * The supervision API's end-to-end plumbing: crafted traffic on a `hardhat node` (every kind of
 * fact the API reports: reads with and without outcomes, grants open, revoked, exhausted and
 * expired, requests approved, rejected, cancelled and pending, a suspension and a reinstatement),
 * and the indexer process (`npm run indexer`, which serves the API) on PGlite or PostgreSQL.
 */

/** Development accounts by role (0-4: the deployer and the role holders of deploy/parameters/localBesu.json). */
export const Account = {
  memberAdmin: 2,
  catalogAdmin: 3,
  regulator: 4,
  authority: 5,
  publicSecurity: 6,
  housingFund: 7,
  bank: 8,
  school: 9,
} as const;

export const HOUSEHOLD = DATA_TYPES.find((t) => t.id === 1)!;
export const FUND = DATA_TYPES.find((t) => t.id === 8)!;

export interface Traffic {
  safe: DataSafeClient;
  wallets: Record<keyof typeof Account, Wallet>;
  holders: { subjectId: Hex; controller: Wallet }[];
  /** Block of the first and last crafted transaction. */
  firstBlock: number;
  lastBlock: number;
}

/** Registers members and data types, then makes the traffic; ends with time moved past the short grant. */
export async function craftTraffic(chain: Chain): Promise<Traffic> {
  const wallets = Object.fromEntries(Object.entries(Account).map(([name, i]) => [name, chain.account(i)])) as Record<
    keyof typeof Account,
    Wallet
  >;
  const safe = await DataSafeClient.at(chain.addresses["DataSafe#DataSafe"], chain.provider, {
    keyDirectoryAddress: chain.addresses["KeyDirectory#KeyDirectory"],
  });
  const as = (wallet: Wallet) => safe.connect(wallet);
  const firstBlock = (await chain.provider.getBlockNumber()) + 1;
  const admin = as(wallets.memberAdmin);
  for (const [wallet, kind, name] of [
    [wallets.regulator, "Regulator", "City Data Bureau"],
    [wallets.authority, "IdentityAuthority", "Identity Authority"],
    [wallets.publicSecurity, "Department", "Public Security Bureau"],
    [wallets.housingFund, "Department", "Housing Provident Fund Centre"],
    [wallets.bank, "Consumer", "City Commercial Bank"],
    [wallets.school, "Consumer", "No. 1 Middle School"],
  ] as const) {
    await (await admin.members.register({ account: wallet.address, kind, name })).wait();
  }
  const catalog = as(wallets.catalogAdmin);
  for (const type of [HOUSEHOLD, FUND]) {
    await (
      await catalog.catalog.define({
        dataType: type.id,
        name: type.name,
        schemaURI: schemaURIOf(type),
        schema: schemaOf(type),
      })
    ).wait();
  }
  await (await catalog.catalog.authoriseIssuer(HOUSEHOLD.id, wallets.publicSecurity.address)).wait();
  await (await catalog.catalog.authoriseIssuer(FUND.id, wallets.housingFund.address)).wait();

  const holders: Traffic["holders"] = [];
  for (let i = 0; i < 2; i++) {
    const controller = chain.account(12 + i);
    const subjectId = keccak256(toUtf8Bytes(`supervision-holder-${i}-${randomBytes(8).toString("hex")}`)) as Hex;
    await (await as(wallets.authority).subjects.register(subjectId, controller.address)).wait();
    holders.push({ subjectId, controller });
  }
  const [a, b] = holders;
  const issue = async (department: Wallet, subjectId: Hex, dataType: number) => {
    const { commitment } = commitRecord({ n: randomBytes(8).toString("hex") });
    return (await (await as(department).assets.issue({ subjectId, dataType, contentCommitment: commitment })).wait())
      .key;
  };
  const householdKey = await issue(wallets.publicSecurity, a.subjectId, HOUSEHOLD.id);
  const fundKey = await issue(wallets.housingFund, a.subjectId, FUND.id);
  const bKey = await issue(wallets.publicSecurity, b.subjectId, HOUSEHOLD.id);
  const [aHousehold, aFund, bHousehold] = [householdKey, fundKey, bKey].map(assetIdOf);

  // Bank asks A for the household register: approved, read twice, outcomes "approved" then "declined".
  const bank = as(wallets.bank);
  const school = as(wallets.school);
  const { request: loanRequest } = await (
    await bank.consent.requestAccess({
      subjectId: a.subjectId,
      targets: [aHousehold],
      purpose: Purpose.PersonalLoan,
      grantDuration: 30 * 86_400,
      maxReads: 3,
    })
  ).wait();
  await (await as(a.controller).consent.approve(loanRequest)).wait();
  const reads: AccessRecord[] = [];
  for (let i = 0; i < 2; i++) {
    reads.push(
      await (await bank.accessLog.recordAccess({ asset: householdKey, purpose: Purpose.PersonalLoan })).wait(),
    );
  }
  await (await bank.accessLog.recordOutcome(reads[0], Outcome.LoanApproved)).wait();
  await (await bank.accessLog.recordOutcome(reads[1], Outcome.LoanDeclined)).wait();

  // School asks A for the fund record: rejected. Bank asks B: cancelled. School asks B: left pending.
  const { request: fundRequest } = await (
    await school.consent.requestAccess({
      subjectId: a.subjectId,
      targets: [aFund],
      purpose: Purpose.SchoolEnrolment,
      grantDuration: 86_400,
    })
  ).wait();
  await (await as(a.controller).consent.reject(fundRequest, 7)).wait();
  const { request: cancelled } = await (
    await bank.consent.requestAccess({
      subjectId: b.subjectId,
      targets: [bHousehold],
      purpose: Purpose.PersonalLoan,
      grantDuration: 86_400,
    })
  ).wait();
  await (await bank.consent.cancel(cancelled)).wait();
  await (
    await school.consent.requestAccess({
      subjectId: b.subjectId,
      targets: [bHousehold],
      purpose: Purpose.SchoolEnrolment,
      grantDuration: 86_400,
    })
  ).wait();

  // Direct grants by A: school once (read: exhausted), bank on the fund (revoked), bank short (expires).
  const now = (await chain.provider.getBlock("latest"))!.timestamp;
  await (
    await as(a.controller).consent.grant({
      subjectId: a.subjectId,
      consumers: [wallets.school.address],
      targets: [aHousehold],
      purpose: Purpose.SchoolEnrolment,
      expiresAt: now + 90 * 86_400,
      maxReads: 1,
    })
  ).wait();
  await (await school.accessLog.recordAccess({ asset: householdKey, purpose: Purpose.SchoolEnrolment })).wait();
  await (
    await as(a.controller).consent.grant({
      subjectId: a.subjectId,
      consumers: [wallets.bank.address],
      targets: [aFund],
      purpose: Purpose.BusinessLoan,
      expiresAt: now + 90 * 86_400,
      maxReads: 5,
    })
  ).wait();
  await (await bank.accessLog.recordAccess({ asset: fundKey, purpose: Purpose.BusinessLoan })).wait();
  await (
    await as(a.controller).consent.revoke({
      subjectId: a.subjectId,
      consumer: wallets.bank.address,
      target: aFund,
      purpose: Purpose.BusinessLoan,
    })
  ).wait();
  await (
    await as(b.controller).consent.grant({
      subjectId: b.subjectId,
      consumers: [wallets.bank.address],
      targets: [bHousehold],
      purpose: Purpose.PersonalLoan,
      expiresAt: now + 3_600,
      maxReads: 2,
    })
  ).wait();
  await (await bank.accessLog.recordAccess({ asset: bKey, purpose: Purpose.PersonalLoan })).wait();

  // Governance: the regulator suspends and reinstates the school.
  await (await as(wallets.regulator).members.suspend(wallets.school.address, 3)).wait();
  await (await as(wallets.regulator).members.reinstate(wallets.school.address)).wait();

  // Two hours on: B's short grant has expired.
  await chain.provider.send("evm_increaseTime", [7_200]);
  await chain.provider.send("evm_mine", []);
  return { safe, wallets, holders, firstBlock, lastBlock: await chain.provider.getBlockNumber() };
}

/** The indexer process (`npm run indexer`), which serves the supervision API. */
export interface Indexer {
  url: string;
  process: Started;
  /** Waits until the API reports `block` indexed; returns the status. */
  waitForBlock(block: number, timeoutMs?: number): Promise<Status>;
  stop(): Promise<void>;
}

export async function startIndexer(
  chain: Chain,
  workDir: string,
  options: { databaseUrl?: string; schema?: string; sessionSecret?: string } = {},
): Promise<Indexer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const schema = options.schema ?? `supervision_${port}`;
  const child = start(
    "npm",
    ["run", "--silent", "indexer", "--", "--port", String(port), "--schema", schema],
    path.join(workDir, `indexer-${port}.log`),
    {
      DATASAFE_RPC_URL: chain.url,
      DATASAFE_CHAIN_ID: "1337",
      DATASAFE_DEPLOYMENT_DIR: chain.deploymentDir,
      DATASAFE_INDEXER_DIR: path.join(workDir, `pglite-${port}`),
      DATABASE_URL: options.databaseUrl,
      DATABASE_SCHEMA: schema,
      DATASAFE_SESSION_SECRET: options.sessionSecret ?? randomBytes(32).toString("hex"),
      DATASAFE_SIWE_DOMAIN: undefined,
    },
  );
  let exitCode: number | null | undefined;
  void child.exited.then((code) => (exitCode = code));
  const died = () => (exitCode === undefined ? undefined : `exited ${exitCode}:\n${child.output().slice(-4000)}`);
  const waitForBlock = (block: number, timeoutMs = 120_000) =>
    waitFor(
      `the indexer at ${url} to index block ${block}`,
      async () => {
        const response = await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(2_000) });
        if (!response.ok) return undefined;
        const status = (await response.json()) as Status;
        return status.indexedBlock >= block && status.ready ? status : undefined;
      },
      timeoutMs,
      250,
      died,
    );
  return { url, process: child, waitForBlock, stop: () => stop(child.child) };
}
