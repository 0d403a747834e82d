/*
 * Traffic for the indexer's tests and speed measurement, made with the SDK against a `hardhat node`
 * process (test/helpers/gateway-harness.ts startChain): members, catalog, holders, assets, return
 * requests, access requests approved and rejected by signature, direct grants, reads, outcomes, a
 * revocation, a suspension, a governance operation scheduled, executed and one canceled, and reads
 * crafted to raise each alert rule. Every id it makes is returned, for the tests to look up.
 */
import { randomBytes } from "node:crypto";

import { type JsonRpcProvider, Wallet, hexlify, keccak256, toUtf8Bytes } from "ethers";

import { DATA_TYPES, schemaOf, schemaURIOf } from "../../scripts/catalog.js";
import { type AccessRecord, DataSafeClient, type Hex, KeySuite, cipherSuite, commitRecord } from "../../sdk/index.js";
import { DataSafeAccessManager__factory, DataSafe__factory } from "../../typechain-types/index.js";
import type { Chain } from "../helpers/gateway-harness.js";

export const HOUSEHOLD = DATA_TYPES.find((t) => t.id === 1)!;
export const FUND = DATA_TYPES.find((t) => t.id === 8)!;
export const Purpose = { Loan: 1, Enrolment: 2 } as const;
const MEMBER_ADMIN_ROLE = 2n;

/** Development accounts by role (0-4: deployer/admin and the role holders of localBesu.json). */
export const Account = {
  admin: 0,
  memberAdmin: 2,
  catalogAdmin: 3,
  regulator: 4,
  authority: 5,
  publicSecurity: 6,
  housingFund: 7,
  bank: 8,
  school: 9,
  otherBank: 10,
  delayedAdmin: 12,
  lateConsumer: 13,
  canceledConsumer: 14,
} as const;

export type Parties = Record<keyof typeof Account, Wallet>;

export interface Network {
  chain: Chain;
  safe: DataSafeClient;
  as(wallet: Wallet): DataSafeClient;
  wallets: Parties;
}

export async function rpc<T = unknown>(provider: JsonRpcProvider, method: string, params: unknown[] = []): Promise<T> {
  return (await provider.send(method, params)) as T;
}

/** The latest block's timestamp. */
export async function chainTime(provider: JsonRpcProvider): Promise<number> {
  return (await provider.getBlock("latest"))!.timestamp;
}

/** Members and catalog: two departments, three consumers, an identity authority, two data types. */
export async function setUpNetwork(chain: Chain): Promise<Network> {
  const wallets = Object.fromEntries(
    Object.entries(Account).map(([name, index]) => [name, chain.account(index)]),
  ) as Parties;
  const safe = await DataSafeClient.at(chain.addresses["DataSafe#DataSafe"], chain.provider, {
    keyDirectoryAddress: chain.addresses["KeyDirectory#KeyDirectory"],
  });
  const as = (wallet: Wallet) => safe.connect(wallet);
  const admin = as(wallets.memberAdmin);
  const members = [
    [wallets.authority, "IdentityAuthority", "Identity Authority"],
    [wallets.publicSecurity, "Department", "Public Security Bureau"],
    [wallets.housingFund, "Department", "Housing Provident Fund Centre"],
    [wallets.bank, "Consumer", "City Commercial Bank"],
    [wallets.school, "Consumer", "No. 1 Middle School"],
    [wallets.otherBank, "Consumer", "Another Bank"],
    [wallets.regulator, "Regulator", "City Data Bureau"],
  ] as const;
  for (const [wallet, kind, name] of members) {
    await (await admin.members.register({ account: wallet.address, kind, name })).wait();
  }
  const catalogAdmin = as(wallets.catalogAdmin);
  for (const type of [HOUSEHOLD, FUND]) {
    await (
      await catalogAdmin.catalog.define({
        dataType: type.id,
        name: type.name,
        schemaURI: schemaURIOf(type),
        schema: schemaOf(type),
      })
    ).wait();
  }
  await (await catalogAdmin.catalog.authoriseIssuer(HOUSEHOLD.id, wallets.publicSecurity.address)).wait();
  await (await catalogAdmin.catalog.authoriseIssuer(FUND.id, wallets.housingFund.address)).wait();
  const key = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
  await (await as(wallets.bank).keys.setMemberKey({ suite: "X25519Hpke", publicKey: hexlify(key.publicKey) })).wait();
  return { chain, safe, as, wallets };
}

/** A holder: a subject controlled by a fresh key (funded by the deployer). */
export interface Holder {
  subjectId: Hex;
  controller: Wallet;
}

export async function newHolder(network: Network, label: string): Promise<Holder> {
  const { chain, wallets, as } = network;
  const controller = new Wallet(Wallet.createRandom().privateKey, chain.provider);
  await (await chain.account(0).sendTransaction({ to: controller.address, value: 10n ** 18n })).wait();
  const subjectId = keccak256(toUtf8Bytes(`indexer-test-${label}-${controller.address}`)) as Hex;
  await (await as(wallets.authority).subjects.register(subjectId, controller.address)).wait();
  return { subjectId, controller };
}

const householdRecord = () => ({
  householdNumber: `TEST-HH-${randomBytes(4).toString("hex")}`,
  relationToHead: "self",
  registrationType: "local",
  district: "Lixia",
  registeredOn: "2009-03-01",
});

/**
 * Bulk history for the kill test and the speed figure: `batches` transactions of `perBatch`
 * household assets each, to `holders` holders in turn. Returns the number of AssetIssued events.
 */
export async function bulkAssets(network: Network, holders: Holder[], batches: number, perBatch: number) {
  const department = network.as(network.wallets.publicSecurity);
  let issued = 0;
  const pending = [];
  for (let b = 0; b < batches; b++) {
    const inputs = Array.from({ length: perBatch }, (_, i) => ({
      subjectId: holders[(b * perBatch + i) % holders.length]!.subjectId,
      dataType: HOUSEHOLD.id,
      contentCommitment: keccak256(randomBytes(32)) as Hex,
    }));
    pending.push(await department.assets.issueBatch(inputs));
    issued += perBatch;
  }
  for (const tx of pending) await tx.wait();
  return issued;
}

/** What the scripted traffic made, for the tests' expectations. */
export interface Story {
  holders: Holder[];
  assets: { assetId: Hex; key: { issuer: string; subjectId: Hex; dataType: number; contentCommitment: Hex } }[];
  revokedAsset: Hex;
  supersededAsset: Hex;
  supersedingAsset: Hex;
  fulfilledReturn: Hex;
  cancelledReturn: Hex;
  approvedRequests: Hex[];
  rejectedRequest: Hex;
  schoolRequest: Hex;
  grants: Hex[];
  directGrant: Hex;
  revokedGrant: Hex;
  reads: AccessRecord[];
  outcomes: { accessId: Hex; outcome: number }[];
  offHoursRead: AccessRecord;
  suspended: string;
  executedOperation: Hex;
  canceledOperation: Hex;
  lateMember: string;
}

/**
 * The scripted traffic. The chain's clock is first moved to a Monday 10:00 China time (UTC+8), so
 * the reads before the off-hours one fall within office hours and one clock hour.
 */
export async function story(network: Network): Promise<Story> {
  const { chain, wallets, as } = network;
  const provider = chain.provider;
  const now = await chainTime(provider);
  // Next Monday 10:00 at UTC+8, at least a day ahead.
  const day = 86_400;
  const local = now + 8 * 3600 + day;
  const localDay = Math.floor(local / day);
  const daysToMonday = (1 - ((localDay + 4) % 7) + 7) % 7;
  const monday10 = (localDay + daysToMonday) * day + 10 * 3600 - 8 * 3600;
  await rpc(provider, "evm_setNextBlockTimestamp", [monday10]);
  await rpc(provider, "evm_mine");

  const holders: Holder[] = [];
  for (let i = 0; i < 6; i++) holders.push(await newHolder(network, `h${i}`));
  const police = as(wallets.publicSecurity);
  const fund = as(wallets.housingFund);
  const bank = as(wallets.bank);
  const school = as(wallets.school);

  const assets: Story["assets"] = [];
  for (const holder of holders) {
    const { commitment } = commitRecord(householdRecord());
    const issued = await (
      await police.assets.issue({ subjectId: holder.subjectId, dataType: HOUSEHOLD.id, contentCommitment: commitment })
    ).wait();
    assets.push({ assetId: issued.assetId, key: issued.key as Story["assets"][number]["key"] });
  }
  // Revoke one, supersede another (holder 5's, not read later).
  const extra = await (
    await police.assets.issue({
      subjectId: holders[5]!.subjectId,
      dataType: HOUSEHOLD.id,
      contentCommitment: commitRecord(householdRecord()).commitment,
    })
  ).wait();
  await (await police.assets.revoke(extra.key, 7)).wait();
  const old = await (
    await police.assets.issue({
      subjectId: holders[4]!.subjectId,
      dataType: HOUSEHOLD.id,
      contentCommitment: commitRecord(householdRecord()).commitment,
    })
  ).wait();
  const next = await (
    await police.assets.supersede(old.key, {
      subjectId: holders[4]!.subjectId,
      dataType: HOUSEHOLD.id,
      contentCommitment: commitRecord(householdRecord()).commitment,
    })
  ).wait();

  // Return requests: one fulfilled, one cancelled.
  const { requestId: fulfilledReturn } = await (
    await as(holders[0]!.controller).assets.requestReturn({
      subjectId: holders[0]!.subjectId,
      dataType: FUND.id,
      department: wallets.housingFund.address,
    })
  ).wait();
  await (
    await fund.assets.fulfilReturnRequest(fulfilledReturn, {
      subjectId: holders[0]!.subjectId,
      dataType: FUND.id,
      contentCommitment: keccak256(randomBytes(32)) as Hex,
    })
  ).wait();
  const { requestId: cancelledReturn } = await (
    await as(holders[1]!.controller).assets.requestReturn({
      subjectId: holders[1]!.subjectId,
      dataType: FUND.id,
      department: wallets.housingFund.address,
    })
  ).wait();
  await (await as(holders[1]!.controller).assets.cancelReturnRequest(cancelledReturn)).wait();

  // The bank asks holders 0-4; 0-3 approve by signature (relayed by the bank), 4 rejects.
  const approvedRequests: Hex[] = [];
  const grants: Hex[] = [];
  let rejectedRequest: Hex | undefined;
  for (let i = 0; i < 5; i++) {
    const { request, requestId } = await (
      await bank.consent.requestAccess({
        subjectId: holders[i]!.subjectId,
        targets: [assets[i]!.assetId],
        purpose: Purpose.Loan,
        grantDuration: 7 * day,
        maxReads: 3,
      })
    ).wait();
    if (i < 4) {
      const authorization = await bank.consent.signApproval(holders[i]!.controller, request);
      const { grantIds } = await (await bank.consent.approveBySig(request, authorization)).wait();
      approvedRequests.push(requestId);
      grants.push(...grantIds);
    } else {
      const authorization = await bank.consent.signRejection(holders[i]!.controller, request, 3);
      await (await bank.consent.rejectBySig(request, 3, authorization)).wait();
      rejectedRequest = requestId;
    }
  }
  // The school asks holder 5 for a day; the holder grants ten days directly, by signature.
  const { requestId: schoolRequest } = await (
    await school.consent.requestAccess({
      subjectId: holders[5]!.subjectId,
      targets: [assets[5]!.assetId],
      purpose: Purpose.Enrolment,
      grantDuration: day,
    })
  ).wait();
  const terms = {
    subjectId: holders[5]!.subjectId,
    consumers: [wallets.school.address],
    targets: [assets[5]!.assetId],
    purpose: Purpose.Enrolment,
    expiresAt: (await chainTime(provider)) + 10 * day,
    maxReads: 2,
  };
  const grantAuthorization = await school.consent.signGrant(holders[5]!.controller, terms);
  const { grantIds: direct } = await (await school.consent.grantBySig(terms, grantAuthorization)).wait();

  // Reads: holders 0-3 once each (the third distinct holder and the fourth read raise alerts),
  // holder 0 twice more, the school once.
  const reads: AccessRecord[] = [];
  for (let i = 0; i < 4; i++) {
    reads.push(await (await bank.accessLog.recordAccess({ asset: assets[i]!.key, purpose: Purpose.Loan })).wait());
  }
  for (let n = 0; n < 2; n++) {
    reads.push(await (await bank.accessLog.recordAccess({ asset: assets[0]!.key, purpose: Purpose.Loan })).wait());
  }
  reads.push(await (await school.accessLog.recordAccess({ asset: assets[5]!.key, purpose: Purpose.Enrolment })).wait());
  const outcomes = [
    { read: reads[0]!, outcome: 1 },
    { read: reads[1]!, outcome: 1 },
    { read: reads[2]!, outcome: 2 },
    { read: reads[6]!, outcome: 3 },
  ];
  for (const { read, outcome } of outcomes) {
    const consumer = read.key.consumer === wallets.bank.address ? wallets.bank : wallets.school;
    await (await as(consumer).accessLog.recordOutcome(read, outcome)).wait();
  }

  // Holder 3 revokes the bank's grant; the regulator suspends another bank.
  await (
    await as(holders[3]!.controller).consent.revoke({
      subjectId: holders[3]!.subjectId,
      consumer: wallets.bank.address,
      target: assets[3]!.assetId,
      purpose: Purpose.Loan,
    })
  ).wait();
  await (await as(wallets.regulator).members.suspend(wallets.otherBank.address, 2)).wait();

  // Governance: the admin gives MEMBER_ADMIN with a 60 s delay to another account, which schedules
  // two registrations, executes one after the delay and cancels the other.
  const manager = DataSafeAccessManager__factory.connect(
    chain.addresses["Governance#DataSafeAccessManager"],
    wallets.admin,
  );
  await (await manager.grantRole(MEMBER_ADMIN_ROLE, wallets.delayedAdmin.address, 60)).wait();
  const delayed = manager.connect(wallets.delayedAdmin);
  const registerData = (account: string, name: string) =>
    DataSafe__factory.createInterface().encodeFunctionData("registerMember", [account, 2, name, ""]);
  const target = chain.addresses["DataSafe#DataSafe"]!;
  const executeData = registerData(wallets.lateConsumer.address, "Late Bank");
  const cancelData = registerData(wallets.canceledConsumer.address, "Canceled Bank");
  const executedOperation = (await manager.hashOperation(wallets.delayedAdmin.address, target, executeData)) as Hex;
  const canceledOperation = (await manager.hashOperation(wallets.delayedAdmin.address, target, cancelData)) as Hex;
  await (await delayed.schedule(target, executeData, 0)).wait();
  await (await delayed.schedule(target, cancelData, 0)).wait();
  await rpc(provider, "evm_increaseTime", [61]);
  await (await delayed.execute(target, executeData)).wait();
  await (await delayed.cancel(wallets.delayedAdmin.address, target, cancelData)).wait();

  // Saturday 03:00 China time: an off-hours read (holder 1's second read).
  const saturday3 = monday10 + 5 * day - 7 * 3600;
  await rpc(provider, "evm_setNextBlockTimestamp", [saturday3]);
  const offHoursRead = await (
    await bank.accessLog.recordAccess({ asset: assets[1]!.key, purpose: Purpose.Loan })
  ).wait();
  reads.push(offHoursRead);

  return {
    holders,
    assets,
    revokedAsset: extra.assetId,
    supersededAsset: old.assetId,
    supersedingAsset: next.assetId,
    fulfilledReturn,
    cancelledReturn,
    approvedRequests,
    rejectedRequest: rejectedRequest!,
    schoolRequest,
    grants,
    directGrant: direct[0]!,
    revokedGrant: grants[3]!,
    reads,
    outcomes: outcomes.map(({ read, outcome }) => ({ accessId: read.accessId, outcome })),
    offHoursRead,
    suspended: wallets.otherBank.address,
    executedOperation,
    canceledOperation,
    lateMember: wallets.lateConsumer.address,
  };
}
