import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { HDNodeWallet, Wallet, keccak256, toUtf8Bytes } from "ethers";

import { type AssetKey, DataSafeClient, type Hex, commitRecord } from "../../sdk/index.js";
import {
  type Environment,
  type HardhatNode,
  type NpxLauncher,
  ProcessSet,
  type Started,
  deploySuite,
  freePort,
  startHardhatNode,
  stop,
  waitFor,
} from "./processes.js";

/*
 * Real processes behind the dashboard's browser tests: `hardhat node` (besuLike) with the suite
 * deployed by Ignition, traffic made with the SDK in the seeds' shape (departments issue, holders
 * grant, banks read and report outcomes), and the supervision process (Ponder indexer + API, which
 * also serves dashboard/) started by its documented command on a free port.
 */

/** Hardhat's development mnemonic: the accounts `hardhat node` funds. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
/** Loan purpose, and the outcome code that means "loan approved" (indexer/README.md). */
export const PURPOSE_LOAN = 1;
export const OUTCOME_APPROVED = 1;
const OUTCOME_DECLINED = 2;

export function devAccount(index: number, node: HardhatNode): Wallet {
  const key = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
  return new Wallet(key, node.provider);
}

interface IssuedAsset {
  assetId: Hex;
  key: AssetKey;
}

export interface Stack {
  node: HardhatNode;
  deploymentDir: string;
  addresses: Record<string, string>;
  safe: DataSafeClient;
  /** The supervision API (and dashboard) base URL. */
  apiUrl: string;
  api: Started;
  processes: ProcessSet;
  stop(): Promise<void>;
}

/** Who the traffic made, for the test to act as and to look up. */
export interface Roster {
  regulator: Wallet;
  /** A consumer bank: a member, but not a regulator. */
  outsider: Wallet;
  banks: { wallet: Wallet; name: string }[];
  holders: Hex[];
  /** The consumer the alert rule is tuned to catch (most reads in the hour). */
  busiestBank: string;
}

/** Starts the node and deploys the suite; the caller then makes traffic and starts the API. */
export async function startChain(label: string): Promise<Omit<Stack, "apiUrl" | "api">> {
  const processes = new ProcessSet(label);
  const launch: NpxLauncher = (name, args, env) => processes.start("npx", args, processes.logFile(name), env);
  const node = await startHardhatNode(launch, { pollingInterval: 100, cacheTimeout: -1 });
  try {
    const { deploymentDir, addresses } = await deploySuite(launch, node.url, `${label}-${process.pid}-${Date.now()}`);
    const safe = await DataSafeClient.fromDeployment(deploymentDir, node.provider);
    return {
      node,
      deploymentDir,
      addresses,
      safe,
      processes,
      async stop() {
        await node.stop();
        await processes.stopAll();
        rmSync(deploymentDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await node.stop();
    await processes.stopAll();
    throw error;
  }
}

/**
 * Fills the chain: a regulator member, two departments issuing two data types to six holders,
 * three banks reading under the holders' grants with different volumes, and outcomes (approved,
 * declined) reported on some reads. Every figure the dashboard shows follows from these events.
 */
export async function makeTraffic(node: HardhatNode, safe: DataSafeClient): Promise<Roster> {
  const account = (i: number) => devAccount(i, node);
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
      outcomes: h < 3 ? [OUTCOME_APPROVED] : h === 3 ? [OUTCOME_DECLINED] : [],
    })),
    ...[0, 1, 2, 3].map((h) => ({
      bank: 1,
      holder: h,
      type: 3,
      reads: 1,
      outcomes: h === 0 ? [OUTCOME_APPROVED] : [],
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
        purpose: PURPOSE_LOAN,
        expiresAt,
        maxReads: 5,
      }),
    );
    for (let r = 0; r < step.reads; r++) {
      const reader = safe.connect(bank).accessLog;
      const access = await (await reader.recordAccess({ asset: asset.key, purpose: PURPOSE_LOAN })).wait();
      const outcome = step.outcomes[r];
      if (outcome !== undefined) await send(reader.recordOutcome(access, outcome));
    }
  }
  return { regulator, outsider: banks[0].wallet, banks, holders, busiestBank: banks[0].wallet.address };
}

/**
 * Starts the supervision process (indexer + API + dashboard) on a free port against the node and
 * deployment, with `rules` as its alert rules; resolves once /api/status says it has indexed the
 * chain's head.
 */
export async function startSupervision(
  chain: Omit<Stack, "apiUrl" | "api">,
  workDir: string,
  rules: unknown,
  env: Environment = {},
): Promise<{ apiUrl: string; api: Started }> {
  const port = await freePort();
  const rulesFile = path.join(workDir, "alert-rules.json");
  writeFileSync(rulesFile, JSON.stringify(rules, null, 2));
  const api = chain.processes.start(
    "npm",
    ["run", "--silent", "indexer", "--", "start", "--port", String(port)],
    chain.processes.logFile("supervision"),
    {
      DATASAFE_RPC_URL: chain.node.url,
      DATASAFE_CHAIN_ID: "1337",
      DATASAFE_DEPLOYMENT_DIR: chain.deploymentDir,
      DATASAFE_INDEXER_DIR: path.join(workDir, "indexer"),
      DATASAFE_ALERT_RULES: rulesFile,
      DATABASE_URL: undefined,
      ...env,
    },
  );
  let exitCode: number | null | undefined;
  void api.exited.then((code) => (exitCode = code));
  const apiUrl = `http://127.0.0.1:${port}`;
  const head = await chain.node.provider.getBlockNumber();
  try {
    await waitFor(
      `the supervision API on ${apiUrl} at block ${head}`,
      async () => {
        const response = await fetch(`${apiUrl}/api/status`, { signal: AbortSignal.timeout(2_000) });
        if (!response.ok) return undefined;
        const status = (await response.json()) as { indexedBlock: number; ready: boolean };
        return status.ready && status.indexedBlock >= head ? status : undefined;
      },
      180_000,
      250,
      () => (exitCode === undefined ? undefined : `exit ${exitCode}:\n${api.output().slice(-4000)}`),
    );
  } catch (error) {
    await stop(api.child, "SIGKILL");
    throw new Error(`${(error as Error).message}\n${api.output().slice(-4000)}`);
  }
  return { apiUrl, api };
}
