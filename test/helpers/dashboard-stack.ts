import { writeFileSync } from "node:fs";
import path from "node:path";

import { type Wallet, keccak256, toUtf8Bytes } from "ethers";

import { Outcome, Purpose } from "../../scripts/catalog.js";
import { type AssetKey, DataSafeClient, type Hex, commitRecord } from "../../sdk/index.js";
import type { Chain } from "./gateway-harness.js";
import { type Indexer, startIndexer } from "./supervision.js";

/*
 * What the dashboard's browser tests run against, on top of the shared harnesses (a `hardhat node`
 * with the suite deployed: gateway-harness.ts; the indexer process serving the API and dashboard/:
 * supervision.ts): traffic in the seeds' shape made with the SDK, with volumes that differ per
 * consumer and per data type so every chart has something to show, and alert rules tuned to it.
 */

interface IssuedAsset {
  assetId: Hex;
  key: AssetKey;
}

/** Who the traffic made, for the test to act as and to look up. */
export interface Roster {
  safe: DataSafeClient;
  regulator: Wallet;
  /** A consumer bank: a member, but not a regulator. */
  outsider: Wallet;
  banks: { wallet: Wallet; name: string }[];
  holders: Hex[];
  /** The consumer the alert rule is tuned to catch (the most reads in an hour). */
  busiestBank: string;
  lastBlock: number;
}

/** Alert rules for the traffic: more than 3 reads per consumer per clock hour (the busiest bank makes 8). */
export const ALERT_RULES = {
  timeZoneOffsetMinutes: 480,
  rules: [
    {
      id: "reads-per-hour",
      kind: "reads-per-hour",
      severity: "critical",
      description: "A consumer read more than 3 assets within one hour",
      limit: 3,
    },
  ],
};

/**
 * The indexer process with `rules` as its alert rules. supervision.ts's launcher passes this
 * process's environment on, so the rules file is named there for the start and restored after.
 */
export async function startSupervision(chain: Chain, workDir: string, rules: unknown): Promise<Indexer> {
  const rulesFile = path.join(workDir, "alert-rules.json");
  writeFileSync(rulesFile, JSON.stringify(rules, null, 2));
  const previous = process.env.DATASAFE_ALERT_RULES;
  process.env.DATASAFE_ALERT_RULES = rulesFile;
  try {
    return await startIndexer(chain, workDir);
  } finally {
    if (previous === undefined) delete process.env.DATASAFE_ALERT_RULES;
    else process.env.DATASAFE_ALERT_RULES = previous;
  }
}

/**
 * Fills the chain: a regulator member, two departments issuing two data types to six holders,
 * three banks reading under the holders' grants with different volumes, and outcomes (approved,
 * declined) reported on some reads. Every figure the dashboard shows follows from these events.
 */
export async function makeTraffic(chain: Chain): Promise<Roster> {
  const safe = await DataSafeClient.at(chain.addresses["DataSafe#DataSafe"], chain.provider, {
    keyDirectoryAddress: chain.addresses["KeyDirectory#KeyDirectory"],
  });
  const account = (i: number) => chain.account(i);
  const [memberAdmin, catalogAdmin, authority, fund, social] = [2, 3, 5, 6, 7].map(account);
  const banks = [
    { wallet: account(8), name: "工商银行济南分行" },
    { wallet: account(9), name: "建设银行历下支行" },
    { wallet: account(10), name: "人保财险" },
  ];
  const regulator = account(11);
  const admin = safe.connect(memberAdmin);
  const send = async (tx: Promise<{ wait(): Promise<unknown> }>) => (await tx).wait();

  await send(admin.members.register({ account: regulator.address, kind: "Regulator", name: "市大数据局" }));
  await send(admin.members.register({ account: authority.address, kind: "IdentityAuthority", name: "市公安局" }));
  await send(admin.members.register({ account: fund.address, kind: "Department", name: "住房公积金中心" }));
  await send(admin.members.register({ account: social.address, kind: "Department", name: "社会保险中心" }));
  for (const bank of banks) {
    await send(admin.members.register({ account: bank.wallet.address, kind: "Consumer", name: bank.name }));
  }
  const catalog = safe.connect(catalogAdmin).catalog;
  const types = [
    { dataType: 8, name: "住房公积金缴存", issuer: fund },
    { dataType: 3, name: "社会保险缴纳", issuer: social },
  ];
  for (const type of types) {
    await send(
      catalog.define({ dataType: type.dataType, name: type.name, schemaURI: "urn:datasafe:test", schema: {} }),
    );
    await send(catalog.authoriseIssuer(type.dataType, type.issuer.address));
  }

  const holders: Hex[] = [];
  const expiresAt = Math.floor(Date.now() / 1000) + 180 * 86_400;
  // reads[bank][holder] per data type: bank 0 reads everyone's housing fund (and holder 0 three
  // times), bank 1 the social insurance of holders 0-3, bank 2 one holder's housing fund once.
  const plan: { bank: number; holder: number; type: number; reads: number; outcomes: number[] }[] = [
    ...[0, 1, 2, 3, 4, 5].map((h) => ({
      bank: 0,
      holder: h,
      type: 8,
      reads: h === 0 ? 3 : 1,
      outcomes: h < 3 ? [Outcome.LoanApproved] : h === 3 ? [Outcome.LoanDeclined] : [],
    })),
    ...[0, 1, 2, 3].map((h) => ({
      bank: 1,
      holder: h,
      type: 3,
      reads: 1,
      outcomes: h === 0 ? [Outcome.LoanApproved] : [],
    })),
    { bank: 2, holder: 1, type: 8, reads: 1, outcomes: [] },
  ];
  const assets = new Map<string, IssuedAsset>();
  const issue = async (holder: number, type: (typeof types)[number]): Promise<IssuedAsset> => {
    const { commitment } = commitRecord({ holder, dataType: type.dataType });
    const issuer = safe.connect(type.issuer);
    const { assetId, key } = await (
      await issuer.assets.issue({ subjectId: holders[holder], dataType: type.dataType, contentCommitment: commitment })
    ).wait();
    return { assetId, key };
  };
  for (let h = 0; h < 6; h++) {
    const controller = account(12 + h);
    const subjectId = keccak256(toUtf8Bytes(`dashboard-test-holder-${h}`)) as Hex;
    holders.push(subjectId);
    await send(safe.connect(authority).subjects.register(subjectId, controller.address));
    for (const type of types) {
      if (type.dataType === 3 && h > 3) continue;
      assets.set(`${h}/${type.dataType}`, await issue(h, type));
    }
  }
  for (const step of plan) {
    const asset = assets.get(`${step.holder}/${step.type}`)!;
    const controller = account(12 + step.holder);
    const bank = banks[step.bank].wallet;
    await send(
      safe.connect(controller).consent.grant({
        subjectId: holders[step.holder],
        consumers: [bank.address],
        targets: [asset.assetId],
        purpose: Purpose.PersonalLoan,
        expiresAt,
        maxReads: 5,
      }),
    );
    for (let r = 0; r < step.reads; r++) {
      const reader = safe.connect(bank).accessLog;
      const access = await (await reader.recordAccess({ asset: asset.key, purpose: Purpose.PersonalLoan })).wait();
      const outcome = step.outcomes[r];
      if (outcome !== undefined) await send(reader.recordOutcome(access, outcome));
    }
  }
  return {
    safe,
    regulator,
    outsider: banks[0].wallet,
    banks,
    holders,
    busiestBank: banks[0].wallet.address,
    lastBlock: await chain.provider.getBlockNumber(),
  };
}
