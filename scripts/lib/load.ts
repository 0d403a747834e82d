/**
 * A load generator for supervision: fills a chain with the traffic of a city platform in the
 * proportions of the seeds (Jinan, January to May 2021: six departments returning data fused into
 * eleven asset types; five banks joined and nine connecting; banks read data 16,640 times and
 * completed 6,864 loans, so about 41% of reads end in an approved loan).
 *
 * Departments register holders and return their data in bulk (`registerSubjects`, `issueAssets`),
 * banks ask holders for consent, holders approve by EIP-712 signature relayed by the safe-box app
 * (some reject, some ignore, some revoke), banks read under the grants and report outcomes, and
 * the network's governance acts (banks joining, a suspension and reinstatement, a delayed
 * AccessManager operation, a schema update) happen along the way. Traffic follows office hours and
 * weekdays over simulated days, with a few patterns a regulator's alert rules should catch: one
 * bank reading many holders in one hour, reads at night, outcomes never reported.
 *
 * Speed: transactions are encoded here and sent to the node unsigned (its unlocked accounts sign)
 * with automine off, one block per simulated hour that has traffic, its timestamp set with
 * `evm_setNextBlockTimestamp`. What a transaction produced (a request's id and nonce) is read back
 * from the block's logs, which also checks that every transaction did what it should: a block
 * whose events differ from the plan stops the run with the failing transaction's revert.
 *
 * Deterministic: everything (holders, keys, times, choices) is drawn from a PRNG seeded by
 * `seed`, so a seed and a size give the same transactions and events on a fresh chain.
 */
import { type Interface, type Log, Wallet, getAddress, keccak256, toUtf8Bytes } from "ethers";

import {
  DataCatalog__factory,
  DataSafeAccessManager__factory,
  DataSafe__factory,
} from "../../typechain-types/index.js";
import {
  type AccessRequest,
  type Address,
  type Hex,
  approveRequestTypedData,
  dataSafeDomain,
  dataTypeTarget,
  deriveSubjectId,
  enumValue,
  grantIdOf,
  hashTypedData as hashOf,
  rejectRequestTypedData,
  revokeTypedData,
  schemaHashOf,
} from "../../sdk/index.js";
import {
  DATA_TYPES,
  DEPARTMENTS,
  type DepartmentKey,
  Outcome,
  Purpose,
  Reason,
  schemaOf,
  schemaURIOf,
} from "../catalog.js";
import { accessRequestStruct, grantKeyStruct } from "../../sdk/requests.js";
import type { Eip1193 } from "./demo-gateway.js";

// --- the seeds' proportions -----------------------------------------------------------------------

/** Jinan, January to May 2021 (seeds/002): bank reads and loans completed. */
export const SEED_READS = 16_640;
export const SEED_LOANS = 6_864;
/** Share of reads whose outcome is an approved loan: 6,864 / 16,640 ≈ 0.41. */
export const APPROVED_PER_READ = SEED_LOANS / SEED_READS;
/** Banks on the platform (seeds/002): five joined, nine connecting (they join during the run). */
export const JOINED_BANKS = 5;
export const CONNECTING_BANKS = 9;

/** Share of reads whose outcome is never reported (the "missing outcome" alert's food). */
const MISSING_OUTCOME = 0.02;
/** What a holder does with a request. */
const FATE = { ignore: 0.05, cancel: 0.02, reject: 0.07 } as const;
/** Share of grants the holder revokes before the bank reads. */
const REVOKE_BEFORE_READ = 0.03;
/** Holders that are companies (they hold the employer housing-fund record). */
const COMPANY_SHARE = 0.08;
/** Holders that apply for a loan at least once, and of those, the ones that apply twice. */
const APPLY = 0.6;
const APPLY_AGAIN = 0.12;

/** Which asset types a person holds, and how likely; types 1 and 2 everyone has. */
const PERSON_TYPES: { dataType: number; p: number }[] = [
  { dataType: 1, p: 1 },
  { dataType: 2, p: 1 },
  { dataType: 3, p: 0.15 },
  { dataType: 4, p: 0.3 },
  { dataType: 5, p: 0.005 },
  { dataType: 6, p: 0.4 },
  { dataType: 7, p: 0.03 },
  { dataType: 8, p: 0.7 },
  { dataType: 10, p: 0.6 },
  { dataType: 11, p: 0.8 },
];
/** The types a bank asks for, most wanted first. */
const LOAN_TYPES = [2, 8, 11, 10, 1, 6];

/** Seconds. */
const HOUR = 3_600;
const DAY = 86_400;
/** Local time of the seeds' city is UTC+8: office hours are counted in it. */
const UTC_OFFSET = 8 * HOUR;
/** 2021-01-04, a Monday, 00:00 in the city. */
export const LOAD_EPOCH = Date.UTC(2021, 0, 4) / 1000 - UTC_OFFSET;
/** January to May 2021. */
export const DEFAULT_DAYS = 148;

// --- deterministic randomness ---------------------------------------------------------------------

/** sfc32 seeded from keccak256(seed): small, fast and good enough to shape traffic. */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: string) {
    const h = keccak256(toUtf8Bytes(`datasafe-load:${seed}`));
    this.#a = Number.parseInt(h.slice(2, 10), 16) | 0;
    this.#b = Number.parseInt(h.slice(10, 18), 16) | 0;
    this.#c = Number.parseInt(h.slice(18, 26), 16) | 0;
    this.#d = Number.parseInt(h.slice(26, 34), 16) | 0;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A number in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An index drawn with the given weights. */
  weighted(weights: number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let u = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    return weights.length - 1;
  }
}

/** Weight of each local hour of a working day: office hours, a little in the evening, none at night. */
const HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 0, 0.2, 0.6, 1, 1, 1, 0.5, 0.8, 1, 1, 1, 0.7, 0.3, 0.2, 0.15, 0.1, 0, 0];

// --- the chain --------------------------------------------------------------------------------------

/** The accounts that act, each unlocked on the node. */
export interface LoadRoles {
  operator: Address;
  memberAdmin: Address;
  catalogAdmin: Address;
  regulator: Address;
  identityAuthority: Address;
  /** The safe-box app: relays the holders' signatures, holds no power of its own. */
  relayer: Address;
  departments: Record<DepartmentKey, Address>;
  /** Fourteen banks: the first `JOINED_BANKS` are members from the start, the rest join during the run. */
  banks: Address[];
}

/** A deployed suite on a node whose `roles` accounts it can send from. */
export interface LoadChain {
  provider: Eip1193;
  chainId: bigint;
  suite: { dataSafe: Address; catalog: Address; keyDirectory: Address; accessManager: Address };
  roles: LoadRoles;
  /** The operator's AccessManager execution delay (seconds): its calls are scheduled, then executed. */
  operatorDelay: number;
}

/** How big and what shape. */
export interface LoadOptions {
  /** PRNG seed: same seed, same size, same traffic. */
  seed: string;
  /** Events to produce, approximately (within a few per cent). */
  targetEvents: number;
  /** Simulated days from `LOAD_EPOCH`; default `DEFAULT_DAYS` (January to May). */
  days?: number;
  /** Called after each block. */
  onProgress?: (progress: LoadProgress) => void;
}

export interface LoadProgress {
  /** The block just mined. */
  block: number;
  day: number;
  days: number;
  events: number;
  transactions: number;
  blocks: number;
}

/** What a run produced. */
export interface LoadResult {
  /** Events by name, as found in the blocks' logs (setup included). */
  counts: Record<string, number>;
  events: number;
  transactions: number;
  blocks: number;
  /** The first and last block the generator mined. */
  fromBlock: number;
  toBlock: number;
  /** Simulated time span (unix seconds). */
  fromTime: number;
  toTime: number;
  holders: number;
  /** Holders that applied for a loan at least once (subject ids), for queries. */
  applicants: Hex[];
  /** Every consumer address that read. */
  consumers: Address[];
  /** The consumer of the deliberate burst and its hour (unix seconds of the block). */
  burst: { consumer: Address; reads: number; time: number };
  /** Reads made at night (local 00:00-05:00), on purpose. */
  nightReads: number;
  /** Outcomes reported, by what came of the loan. */
  outcomes: { approved: number; declined: number };
  /** Wall-clock milliseconds the run took. */
  elapsedMs: number;
}

// --- encoding -----------------------------------------------------------------------------------------

// Plain `Interface`s: the plan encodes structs as arrays, which TypeChain's overloads do not take.
const core: Interface = DataSafe__factory.createInterface();
const catalogAbi: Interface = DataCatalog__factory.createInterface();
const managerAbi: Interface = DataSafeAccessManager__factory.createInterface();
const DATA_TYPE_SCOPE = enumValue("GrantScope", "DataType");

/** topic0 → event name, for every event of the suite's contracts. */
function topicNames(...interfaces: Interface[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const i of interfaces) i.forEachEvent((event) => names.set(event.topicHash, event.name));
  return names;
}
const TOPICS = topicNames(core, catalogAbi, managerAbi);
const ACCESS_REQUESTED = DataSafe__factory.createInterface().getEvent("AccessRequested").topicHash;

/** One transaction of the plan and the events it must emit. */
interface Tx {
  from: Address;
  to: Address;
  data: Hex;
  gas: number;
  /** Event name → how many this transaction emits. */
  emits: Record<string, number>;
  /** Called with the transaction's logs once mined (in block order). */
  then?: (logs: Log[]) => void;
}

/** A holder of the run: a person or a company, with its assets. */
interface Holder {
  index: number;
  subjectId: Hex;
  company: boolean;
  onboardDay: number;
  /** Asset per type held: the issuing department and the asset key's commitment. */
  assets: Map<number, { issuer: Address; commitment: Hex }>;
  /** Next unused signature nonce index (epoch 0). */
  nextNonce: bigint;
  /** Banks it applied to: one application per bank, so a grant is never renewed under a pending outcome. */
  banks: Set<Address>;
  wallet?: Wallet;
}

/** A loan application in flight. */
interface Application {
  holder: Holder;
  consumer: Address;
  purpose: number;
  /** Data types asked for, with their issuers. */
  targets: { dataType: number; issuer: Address }[];
  maxReads: number;
  approved: boolean;
  /** Reads land in this slot exactly (burst and night patterns), else a few hours after approval. */
  readSlot?: number;
  /** Outcome reported for every read (loan approved or declined). */
  outcome: number;
}

/** A simulated hour since `LOAD_EPOCH` (local midnight of day 0 = slot 0). */
const slotOf = (day: number, hour: number): number => day * 24 + hour;
const timeOf = (slot: number): number => LOAD_EPOCH + slot * HOUR + 30 * 60;
const dayOf = (slot: number): number => Math.floor(slot / 24);
const weekend = (day: number): boolean => day % 7 >= 5;

/** Keeps the gas of a call within what it needs, so a block packs every call of its hour. */
const GAS = { small: 400_000, call: 1_500_000 } as const;

/**
 * Fills the chain. The suite must be freshly deployed (nothing registered yet): the run registers
 * members and the catalog first.
 */
export async function generateLoad(chain: LoadChain, options: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const days = options.days ?? DEFAULT_DAYS;
  if (!Number.isSafeInteger(options.targetEvents) || options.targetEvents < 500) {
    throw new RangeError(`targetEvents: expected an integer of at least 500, got ${options.targetEvents}`);
  }
  if (!Number.isSafeInteger(days) || days < 14) throw new RangeError(`days: expected at least 14, got ${days}`);
  const random = new Random(options.seed);
  const { provider, roles, suite } = chain;
  const rpc = (method: string, params: unknown[] = []) => provider.request({ method, params });
  const domain = dataSafeDomain(chain.chainId, suite.dataSafe);
  const pepper = keccak256(toUtf8Bytes(`datasafe-load-pepper:${options.seed}`));
  const banks = roles.banks.map((b) => getAddress(b));
  if (banks.length !== JOINED_BANKS + CONNECTING_BANKS) {
    throw new RangeError(`roles.banks: expected ${JOINED_BANKS + CONNECTING_BANKS} banks, got ${banks.length}`);
  }

  // --- the plan: transactions per slot ------------------------------------------------------------
  const plan = new Map<number, Tx[]>();
  const add = (slot: number, tx: Tx) => {
    const list = plan.get(slot);
    if (list === undefined) plan.set(slot, [tx]);
    else list.push(tx);
  };
  let currentSlot = -1000;
  /** A slot at least one after the current one (follow-ups never share their cause's block). */
  const later = (slot: number) => Math.max(slot, currentSlot + 1);
  /** `slot`, or the next morning if it falls outside 08:00-20:00 local: people act by day. */
  const daytime = (slot: number): number => {
    const hour = slot - dayOf(slot) * 24;
    if (hour >= 8 && hour < 20) return slot;
    return slotOf(dayOf(slot) + (hour >= 20 ? 1 : 0), 9 + random.int(0, 2));
  };

  // When banks join and when one is suspended: their actions avoid the gap.
  const joinDay = new Map<Address, number>();
  banks.forEach((bank, i) => {
    joinDay.set(
      bank,
      i < JOINED_BANKS ? -1 : Math.round(days * (0.12 + (0.68 * (i - JOINED_BANKS)) / CONNECTING_BANKS)),
    );
  });
  const suspended = {
    bank: banks[2],
    from: slotOf(Math.round(days * 0.6), 11),
    to: slotOf(Math.round(days * 0.6) + 10, 9),
  };
  /** The first slot at or after `slot` at which `consumer` may act. */
  const consumerSlot = (consumer: Address, slot: number): number => {
    const joined = joinDay.get(consumer) ?? -1;
    let s = Math.max(slot, slotOf(joined, 11) + 1);
    if (consumer === suspended.bank && s >= suspended.from && s <= suspended.to) s = suspended.to + 1;
    return s;
  };
  /** Requests keep two days clear of the suspension: an approval needs an active consumer. */
  const requestSlot = (consumer: Address, slot: number): number => {
    const s = consumerSlot(consumer, slot);
    return consumer === suspended.bank && s >= suspended.from - 48 && s <= suspended.to ? suspended.to + 1 : s;
  };

  // --- setup: members and catalog (two blocks before day 0) ---------------------------------------
  const registerMember = (
    account: Address,
    kind: "Department" | "Consumer" | "Regulator" | "IdentityAuthority",
    name: string,
    uri = "",
  ): Tx => ({
    from: roles.memberAdmin,
    to: suite.dataSafe,
    data: core.encodeFunctionData("registerMember", [account, enumValue("MemberKind", kind), name, uri]) as Hex,
    gas: GAS.small,
    emits: { MemberRegistered: 1 },
  });
  const departmentKeys = Object.keys(DEPARTMENTS) as DepartmentKey[];
  for (const key of departmentKeys) {
    add(
      slotOf(-2, 10),
      registerMember(roles.departments[key], "Department", DEPARTMENTS[key].name, `urn:datasafe:member:${key}`),
    );
  }
  add(slotOf(-2, 10), registerMember(roles.identityAuthority, "IdentityAuthority", "City Identity Authority"));
  add(slotOf(-2, 10), registerMember(roles.regulator, "Regulator", "Municipal Big Data Bureau (regulator)"));
  const bankName = (i: number) => `Bank ${String.fromCharCode(65 + i)}`;
  for (let i = 0; i < JOINED_BANKS; i++) add(slotOf(-2, 10), registerMember(banks[i], "Consumer", bankName(i)));
  for (const type of DATA_TYPES) {
    add(slotOf(-1, 10), {
      from: roles.catalogAdmin,
      to: suite.catalog,
      data: catalogAbi.encodeFunctionData("defineDataType", [
        type.id,
        type.name,
        schemaHashOf(schemaOf(type)),
        schemaURIOf(type),
      ]) as Hex,
      gas: GAS.small,
      emits: { DataTypeDefined: 1 },
    });
    for (const issuer of type.issuers) {
      add(slotOf(-1, 10), {
        from: roles.catalogAdmin,
        to: suite.catalog,
        data: catalogAbi.encodeFunctionData("authoriseIssuer", [type.id, roles.departments[issuer]]) as Hex,
        gas: GAS.small,
        emits: { IssuerAuthorised: 1 },
      });
    }
  }

  // --- governance along the way -----------------------------------------------------------------
  for (let i = JOINED_BANKS; i < banks.length; i++) {
    add(slotOf(joinDay.get(banks[i]) ?? 0, 10), registerMember(banks[i], "Consumer", bankName(i)));
  }
  add(slotOf(Math.round(days * 0.35), 15), {
    from: roles.memberAdmin,
    to: suite.dataSafe,
    data: core.encodeFunctionData("updateMember", [
      banks[0],
      `${bankName(0)} (head office)`,
      "urn:datasafe:member:bank-a",
    ]) as Hex,
    gas: GAS.small,
    emits: { MemberUpdated: 1 },
  });
  add(slotOf(Math.round(days * 0.27), 16), {
    from: roles.catalogAdmin,
    to: suite.catalog,
    data: catalogAbi.encodeFunctionData("updateDataTypeSchema", [
      8,
      schemaHashOf({ ...schemaOf(DATA_TYPES[7]), revision: 2 }),
      "urn:datasafe:schema:personal-housing-fund:2",
    ]) as Hex,
    gas: GAS.small,
    emits: { DataTypeSchemaUpdated: 1 },
  });
  add(suspended.from, {
    from: roles.regulator,
    to: suite.dataSafe,
    data: core.encodeFunctionData("suspendMember", [suspended.bank, Reason.ComplianceReview]) as Hex,
    gas: GAS.small,
    emits: { MemberSuspended: 1 },
  });
  add(suspended.to, {
    from: roles.regulator,
    to: suite.dataSafe,
    data: core.encodeFunctionData("reinstateMember", [suspended.bank]) as Hex,
    gas: GAS.small,
    emits: { MemberReinstated: 1 },
  });
  // The operator's calls wait out its execution delay: schedule, then execute.
  const recoveryCall = core.encodeFunctionData("setRecoveryDelay", [3 * DAY]);
  const scheduleDay = Math.round(days * 0.1);
  add(slotOf(scheduleDay, 10), {
    from: roles.operator,
    to: suite.accessManager,
    data: managerAbi.encodeFunctionData("schedule", [suite.dataSafe, recoveryCall, 0]) as Hex,
    gas: GAS.small,
    emits: { OperationScheduled: 1 },
  });
  add(slotOf(scheduleDay + 1 + Math.ceil(chain.operatorDelay / DAY), 10), {
    from: roles.operator,
    to: suite.accessManager,
    data: managerAbi.encodeFunctionData("execute", [suite.dataSafe, recoveryCall]) as Hex,
    gas: GAS.small,
    emits: { OperationExecuted: 1, RecoveryDelaySet: 1 },
  });

  // --- holders and their data -------------------------------------------------------------------
  // Events per holder, on average: its registration, its assets, and its applications (a request;
  // if approved: the approval, a grant, a read and an outcome per target).
  const assetsPerPerson = PERSON_TYPES.reduce((sum, t) => sum + t.p, 0);
  const assetsPerHolder = (1 - COMPANY_SHARE) * assetsPerPerson + COMPANY_SHARE;
  const targetsPerApplication = (1 - COMPANY_SHARE) * 2.15 + COMPANY_SHARE;
  const approvedShare = 1 - FATE.ignore - FATE.cancel - FATE.reject;
  const perApplication =
    1 +
    FATE.cancel +
    FATE.reject +
    approvedShare * (1 + targetsPerApplication * (1 + (1 - REVOKE_BEFORE_READ) * 1.2 * (2 - MISSING_OUTCOME)));
  const perHolder = 1 + assetsPerHolder + APPLY * (1 + APPLY_AGAIN) * perApplication * 0.93;
  const holderCount = Math.max(20, Math.round(options.targetEvents / perHolder));

  const holders: Holder[] = [];
  for (let i = 0; i < holderCount; i++) {
    const company = random.chance(COMPANY_SHARE);
    // Data comes back in waves, most of it early: onboarding days lean towards the start.
    let onboardDay = Math.floor((days - 10) * random.next() ** 1.6);
    if (weekend(onboardDay)) onboardDay += 7 - (onboardDay % 7);
    const subjectId = deriveSubjectId(pepper, company ? "uscc" : "resident-id", `LOAD-${options.seed}-${i}`);
    const assets = new Map<number, { issuer: Address; commitment: Hex }>();
    const types = company ? [9] : PERSON_TYPES.filter((t) => random.chance(t.p)).map((t) => t.dataType);
    for (const dataType of types) {
      const type = DATA_TYPES[dataType - 1];
      const issuerKey = type.issuers[random.int(0, type.issuers.length - 1)];
      assets.set(dataType, {
        issuer: getAddress(roles.departments[issuerKey]),
        commitment: keccak256(toUtf8Bytes(`load:${options.seed}:${i}:${dataType}`)),
      });
    }
    holders.push({
      index: i,
      subjectId,
      company,
      onboardDay: Math.min(onboardDay, days - 4),
      assets,
      nextNonce: 0n,
      banks: new Set(),
    });
  }

  // Registration at 09:00 of the onboarding day, 200 subjects a transaction; each department's
  // assets of the day at its hour, 100 a transaction, grouped by type.
  const byDay = new Map<number, Holder[]>();
  for (const h of holders) byDay.set(h.onboardDay, [...(byDay.get(h.onboardDay) ?? []), h]);
  for (const [day, list] of byDay) {
    for (let i = 0; i < list.length; i += 200) {
      const chunk = list.slice(i, i + 200);
      add(slotOf(day, 9), {
        from: roles.identityAuthority,
        to: suite.dataSafe,
        data: core.encodeFunctionData("registerSubjects", [
          chunk.map((h) => h.subjectId),
          chunk.map((h) => holderWallet(h).address),
        ]) as Hex,
        gas: 100_000 + 60_000 * chunk.length,
        emits: { SubjectRegistered: chunk.length },
      });
    }
    departmentKeys.forEach((key, d) => {
      const issuer = getAddress(roles.departments[key]);
      const assets = DATA_TYPES.flatMap((type) =>
        list.flatMap((h) => {
          const a = h.assets.get(type.id);
          return a !== undefined && a.issuer === issuer ? [{ h, dataType: type.id, commitment: a.commitment }] : [];
        }),
      );
      for (let i = 0; i < assets.length; i += 100) {
        const chunk = assets.slice(i, i + 100);
        add(slotOf(day, 10 + (d % 6)), {
          from: issuer,
          to: suite.dataSafe,
          data: core.encodeFunctionData("issueAssets", [
            chunk.map((a) => [
              a.h.subjectId,
              a.dataType,
              a.commitment,
              keccak256(toUtf8Bytes(`payload:${a.commitment}`)),
              0,
            ]),
          ]) as Hex,
          gas: 150_000 + 90_000 * chunk.length,
          emits: { AssetIssued: chunk.length },
        });
      }
    });
  }
  // A department withdraws a few residence permits (never asked for by banks): AssetRevoked.
  for (const h of holders) {
    const permit = h.assets.get(3);
    if (permit !== undefined && random.chance(0.05)) {
      const day = Math.min(days - 1, h.onboardDay + random.int(5, 60));
      add(slotOf(day + (weekend(day) ? 2 : 0), 15), {
        from: permit.issuer,
        to: suite.dataSafe,
        data: core.encodeFunctionData("revokeAsset", [
          [permit.issuer, h.subjectId, 3, permit.commitment],
          Reason.NoLongerApplicable,
        ]) as Hex,
        gas: GAS.small,
        emits: { AssetRevoked: 1 },
      });
    }
  }

  function holderWallet(h: Holder): Wallet {
    h.wallet ??= new Wallet(keccak256(toUtf8Bytes(`load-holder-key:${options.seed}:${h.index}`)));
    return h.wallet;
  }

  // --- applications -------------------------------------------------------------------------------
  const versions = new Map<Hex, number>();
  const stats = { nightReads: 0, burstReads: 0, approved: 0, declined: 0 };
  const applicants = new Set<Hex>();
  const readers = new Set<Address>();

  const officeHour = (): number => random.weighted(HOUR_WEIGHTS);
  /** A working day at or after `day` (weekends move to Monday, most of the time). */
  const workday = (day: number): number => (weekend(day) && random.chance(0.8) ? day + (7 - (day % 7)) : day);
  const activeBanks = (slot: number) => banks.filter((b) => consumerSlot(b, slot) === slot);

  const newApplication = (
    holder: Holder,
    slot: number,
    consumer: Address,
    pattern?: { kind: "burst" | "night"; readSlot: number },
  ) => {
    holder.banks.add(consumer);
    const wanted = holder.company ? [9] : LOAN_TYPES.filter((t) => holder.assets.has(t));
    const k = holder.company ? 1 : pattern !== undefined ? 1 : [1, 2, 3][random.weighted([0.2, 0.45, 0.35])];
    const targets = wanted.slice(0, Math.max(1, k)).map((dataType) => ({
      dataType,
      issuer: holder.assets.get(dataType)?.issuer ?? banks[0],
    }));
    const app: Application = {
      holder,
      consumer,
      purpose: holder.company ? Purpose.BusinessLoan : Purpose.PersonalLoan,
      targets,
      maxReads: pattern === undefined && random.chance(0.2) ? 2 : 1,
      approved: random.chance(APPROVED_PER_READ / (1 - MISSING_OUTCOME)),
      outcome: 0,
      readSlot: pattern?.readSlot,
    };
    app.outcome = app.approved ? Outcome.LoanApproved : Outcome.LoanDeclined;
    applicants.add(holder.subjectId);
    const s = requestSlot(consumer, slot);
    add(s, {
      from: consumer,
      to: suite.dataSafe,
      data: core.encodeFunctionData("requestAccess", [
        holder.subjectId,
        DATA_TYPE_SCOPE,
        targets.map((t) => dataTypeTarget(t.issuer, t.dataType)),
        0,
        app.purpose,
        30 * DAY,
        app.maxReads,
        timeOf(s) + 7 * DAY,
      ]) as Hex,
      gas: GAS.call,
      emits: { AccessRequested: 1 },
      then: (logs) => onRequested(app, s, logs, pattern?.kind),
    });
  };

  const signTerms = (h: Holder, slot: number) => {
    const nonce = h.nextNonce;
    h.nextNonce += 1n;
    return { nonce, deadline: BigInt(timeOf(slot) + 3 * DAY) };
  };

  /** Runs once the request is mined: the holder decides. */
  function onRequested(app: Application, slot: number, logs: Log[], pattern?: "burst" | "night"): void {
    const log = logs.find((l) => l.topics[0] === ACCESS_REQUESTED);
    if (log === undefined) throw new Error("requestAccess emitted no AccessRequested");
    const parsed = core.parseLog(log);
    if (parsed === null) throw new Error("AccessRequested did not decode");
    const r = parsed.args.request as unknown as {
      subjectId: string;
      consumer: string;
      scope: bigint;
      targets: string[];
      fields: bigint;
      purpose: bigint;
      grantDuration: bigint;
      maxReads: bigint;
      expiresAt: bigint;
      nonce: bigint;
    };
    const request: AccessRequest = {
      subjectId: r.subjectId as Hex,
      consumer: r.consumer as Address,
      scope: "DataType",
      targets: [...r.targets] as Hex[],
      fields: r.fields,
      purpose: Number(r.purpose),
      grantDuration: Number(r.grantDuration),
      maxReads: Number(r.maxReads),
      expiresAt: Number(r.expiresAt),
      nonce: r.nonce,
    };
    const h = app.holder;
    const fate = pattern !== undefined ? 1 : random.next();
    if (fate < FATE.ignore) return; // the request lapses
    if (fate < FATE.ignore + FATE.cancel) {
      add(consumerSlot(app.consumer, later(daytime(slot + random.int(2, 30)))), {
        from: app.consumer,
        to: suite.dataSafe,
        data: core.encodeFunctionData("cancelRequest", [accessRequestStruct(request)]) as Hex,
        gas: GAS.call,
        emits: { AccessRequestCancelled: 1 },
      });
      return;
    }
    const answerSlot =
      pattern !== undefined
        ? slot + 4
        : consumerSlot(
            app.consumer,
            later(daytime(slot + (random.chance(0.5) ? random.int(1, 5) : random.int(18, 30)))),
          );
    const terms = signTerms(h, answerSlot);
    if (fate < FATE.ignore + FATE.cancel + FATE.reject) {
      const signature = holderWallet(h).signingKey.sign(
        hashOf(rejectRequestTypedData(domain, request, 1, terms)),
      ).serialized;
      add(answerSlot, {
        from: roles.relayer,
        to: suite.dataSafe,
        data: core.encodeFunctionData("rejectRequestBySig", [
          accessRequestStruct(request),
          1,
          [terms.nonce, terms.deadline, signature],
        ]) as Hex,
        gas: GAS.call,
        emits: { AccessRequestRejected: 1 },
      });
      return;
    }
    const signature = holderWallet(h).signingKey.sign(
      hashOf(approveRequestTypedData(domain, request, terms)),
    ).serialized;
    add(answerSlot, {
      from: roles.relayer,
      to: suite.dataSafe,
      data: core.encodeFunctionData("approveRequestBySig", [
        accessRequestStruct(request),
        [terms.nonce, terms.deadline, signature],
      ]) as Hex,
      gas: GAS.call + 200_000 * request.targets.length,
      emits: { AccessRequestApproved: 1, GrantIssued: request.targets.length },
      then: () => onApproved(app, answerSlot, pattern),
    });
  }

  /** Runs once the approval is mined: the bank reads each target, or the holder revokes first. */
  function onApproved(app: Application, slot: number, pattern?: "burst" | "night"): void {
    const h = app.holder;
    for (const target of app.targets) {
      const key = {
        subjectId: h.subjectId,
        consumer: app.consumer,
        scope: "DataType" as const,
        target: dataTypeTarget(target.issuer, target.dataType),
        purpose: app.purpose,
      };
      const grantId = grantIdOf(key);
      const version = (versions.get(grantId) ?? 0) + 1;
      versions.set(grantId, version);
      if (pattern === undefined && random.chance(REVOKE_BEFORE_READ)) {
        revoke(h, key, version, later(daytime(slot + random.int(1, 3))));
        continue;
      }
      const asset = h.assets.get(target.dataType);
      if (asset === undefined) throw new Error("a target the holder does not hold");
      const assetKey = [asset.issuer, h.subjectId, target.dataType, asset.commitment];
      let readSlot = app.readSlot ?? consumerSlot(app.consumer, later(daytime(slot + random.int(1, 4))));
      const reads = app.maxReads === 2 && random.chance(0.5) ? 2 : 1;
      for (let n = 1; n <= reads; n++) {
        readSlot = later(readSlot);
        const thisRead = readSlot;
        if (pattern === "night") stats.nightReads += 1;
        if (pattern === "burst") stats.burstReads += 1;
        readers.add(app.consumer);
        add(thisRead, {
          from: app.consumer,
          to: suite.dataSafe,
          data: core.encodeFunctionData("recordAccess", [assetKey, DATA_TYPE_SCOPE, app.purpose, 0]) as Hex,
          gas: GAS.call,
          emits: { AccessRecorded: 1 },
        });
        if (!random.chance(MISSING_OUTCOME)) {
          const day = workday(dayOf(thisRead) + (random.chance(0.6) ? 0 : random.int(1, 3)));
          const outcomeSlot = consumerSlot(app.consumer, Math.max(thisRead + 1, slotOf(day, officeHour())));
          add(outcomeSlot, {
            from: app.consumer,
            to: suite.dataSafe,
            data: core.encodeFunctionData("recordOutcome", [
              grantKeyStruct(key),
              version,
              n,
              app.outcome,
              keccak256(toUtf8Bytes(`outcome:${grantId}:${version}:${n}`)),
            ]) as Hex,
            gas: GAS.call,
            emits: { AccessOutcomeRecorded: 1 },
            then: () => {
              if (app.outcome === Outcome.LoanApproved) stats.approved += 1;
              else stats.declined += 1;
            },
          });
        }
        readSlot = consumerSlot(app.consumer, slotOf(workday(dayOf(thisRead) + random.int(1, 4)), officeHour()));
      }
      // Some holders withdraw a two-read grant after its first use.
      if (app.maxReads === 2 && reads === 1 && random.chance(0.3)) revoke(h, key, version, readSlot);
    }
  }

  function revoke(h: Holder, key: Parameters<typeof grantIdOf>[0], version: number, slot: number): void {
    const terms = signTerms(h, slot);
    const signature = holderWallet(h).signingKey.sign(hashOf(revokeTypedData(domain, key, version, terms))).serialized;
    add(slot, {
      from: roles.relayer,
      to: suite.dataSafe,
      data: core.encodeFunctionData("revokeBySig", [
        grantKeyStruct(key),
        version,
        [terms.nonce, terms.deadline, signature],
      ]) as Hex,
      gas: GAS.call,
      emits: { GrantRevoked: 1 },
    });
  }

  // Everyday applications: a holder applies after its data is back, on a working day, in office
  // hours, to one of the banks on the platform that day (joined banks are busier).
  for (const h of holders) {
    if (!random.chance(APPLY)) continue;
    const times = random.chance(APPLY_AGAIN) ? 2 : 1;
    for (let t = 0; t < times; t++) {
      if (h.onboardDay + 2 >= days - 3) break;
      const day = workday(random.int(h.onboardDay + 2, days - 3));
      const slot = slotOf(Math.min(day, days - 2), officeHour());
      const candidates = activeBanks(slot).filter((b) => !h.banks.has(b));
      if (candidates.length === 0) continue;
      const consumer = candidates[random.weighted(candidates.map((b) => (banks.indexOf(b) < JOINED_BANKS ? 3 : 1)))];
      newApplication(h, slot, consumer);
    }
  }
  // The patterns alerts should catch. A burst: one bank reads many holders within one hour.
  const burstDay = workday(Math.round(days * 0.45));
  const burstSlot = slotOf(burstDay, 14);
  const burstBank = banks[1];
  const burstSize = Math.min(60, Math.max(25, Math.round(holderCount * 0.01)));
  const burstReadSlot = burstSlot;
  const early = holders.filter((h) => !h.company && h.onboardDay + 2 < burstDay && !h.banks.has(burstBank));
  for (let i = 0; i < burstSize && early.length > 0; i++) {
    const [h] = early.splice(random.int(0, early.length - 1), 1);
    newApplication(h, slotOf(burstDay - 1, 10), burstBank, { kind: "burst", readSlot: burstReadSlot });
  }
  // Reads at night: a connecting bank reads at 02:00-03:00 local.
  const nightBank = banks[JOINED_BANKS];
  const nightDay = workday(Math.max(joinDay.get(nightBank) ?? 0, Math.round(days * 0.5)) + 1);
  const night = holders.filter((h) => !h.company && h.onboardDay + 2 < nightDay && !h.banks.has(nightBank));
  for (let i = 0; i < 6 && night.length > 0; i++) {
    const [h] = night.splice(random.int(0, night.length - 1), 1);
    newApplication(h, slotOf(nightDay, 10), nightBank, { kind: "night", readSlot: slotOf(nightDay + 1, 2 + (i % 2)) });
  }

  // --- run the plan, slot by slot -------------------------------------------------------------------
  const counts: Record<string, number> = {};
  const nonces = new Map<Address, number>();
  for (const account of new Set<Address>([
    roles.operator,
    roles.memberAdmin,
    roles.catalogAdmin,
    roles.regulator,
    roles.identityAuthority,
    roles.relayer,
    ...Object.values(roles.departments),
    ...banks,
  ])) {
    nonces.set(
      getAddress(account),
      Number(BigInt((await rpc("eth_getTransactionCount", [account, "pending"])) as string)),
    );
  }
  const addresses = [suite.dataSafe, suite.catalog, suite.accessManager, suite.keyDirectory];
  let transactions = 0;
  let blocks = 0;
  let events = 0;
  let fromBlock = -1;
  let toBlock = -1;
  const latest = (await rpc("eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
  if (Number(BigInt(latest.timestamp)) >= timeOf(slotOf(-2, 10))) {
    throw new Error(
      `the chain's clock (${new Date(Number(BigInt(latest.timestamp)) * 1000).toISOString()}) is past the load's start; start the network with initialDate before 2021-01-01`,
    );
  }
  await rpc("evm_setAutomine", [false]);
  try {
    for (;;) {
      const pending = [...plan.keys()].filter((s) => s > currentSlot);
      if (pending.length === 0) break;
      const slot = Math.min(...pending);
      currentSlot = slot;
      const txs = plan.get(slot) ?? [];
      plan.delete(slot);
      const hashes: string[] = [];
      for (const tx of txs) {
        const from = getAddress(tx.from);
        const nonce = nonces.get(from);
        if (nonce === undefined) throw new Error(`no nonce for ${from}`);
        nonces.set(from, nonce + 1);
        hashes.push(
          (await rpc("eth_sendTransaction", [
            {
              from,
              to: tx.to,
              data: tx.data,
              gas: `0x${tx.gas.toString(16)}`,
              nonce: `0x${nonce.toString(16)}`,
              gasPrice: "0x0",
            },
          ])) as string,
        );
      }
      await rpc("evm_setNextBlockTimestamp", [`0x${timeOf(slot).toString(16)}`]);
      await rpc("evm_mine", []);
      const block = (await rpc("eth_getBlockByNumber", ["latest", false])) as {
        number: string;
        transactions: string[];
      };
      const number = Number(BigInt(block.number));
      if (block.transactions.length !== txs.length) {
        throw new Error(
          `block ${number} holds ${block.transactions.length} of ${txs.length} transactions (gas limit?)`,
        );
      }
      if (fromBlock < 0) fromBlock = number;
      toBlock = number;
      blocks += 1;
      transactions += txs.length;
      const raw = (await rpc("eth_getLogs", [
        { fromBlock: block.number, toBlock: block.number, address: addresses },
      ])) as RawLog[];
      const byTx = new Map<string, Log[]>();
      const found: Record<string, number> = {};
      for (const l of raw) {
        const name = TOPICS.get(l.topics[0]) ?? "unknown";
        found[name] = (found[name] ?? 0) + 1;
        const list = byTx.get(l.transactionHash) ?? [];
        list.push(l as unknown as Log);
        byTx.set(l.transactionHash, list);
      }
      for (let i = 0; i < txs.length; i++) {
        const got = byTx.get(hashes[i]) ?? [];
        const emitted: Record<string, number> = {};
        for (const l of got)
          emitted[TOPICS.get(l.topics[0]) ?? "unknown"] = (emitted[TOPICS.get(l.topics[0]) ?? "unknown"] ?? 0) + 1;
        const expected = txs[i].emits;
        const ok = Object.entries(expected).every(([name, n]) => emitted[name] === n);
        if (!ok) throw await failure(hashes[i], txs[i], emitted, number);
      }
      for (const [name, n] of Object.entries(found)) counts[name] = (counts[name] ?? 0) + n;
      events += raw.length;
      for (let i = 0; i < txs.length; i++) txs[i].then?.(byTx.get(hashes[i]) ?? []);
      options.onProgress?.({ block: number, day: dayOf(slot), days, events, transactions, blocks });
    }
  } finally {
    await rpc("evm_setAutomine", [true]);
  }

  return {
    counts,
    events,
    transactions,
    blocks,
    fromBlock,
    toBlock,
    fromTime: timeOf(slotOf(-2, 10)),
    toTime: timeOf(currentSlot),
    holders: holderCount,
    applicants: [...applicants],
    consumers: [...readers],
    burst: { consumer: burstBank, reads: stats.burstReads, time: timeOf(burstSlot) },
    nightReads: stats.nightReads,
    outcomes: { approved: stats.approved, declined: stats.declined },
    elapsedMs: Date.now() - started,
  };

  async function failure(hash: string, tx: Tx, emitted: Record<string, number>, block: number): Promise<Error> {
    const receipt = (await rpc("eth_getTransactionReceipt", [hash])) as { status: string } | null;
    let reason = "";
    try {
      await rpc("eth_call", [
        { from: tx.from, to: tx.to, data: tx.data, gas: `0x${tx.gas.toString(16)}` },
        `0x${(block - 1).toString(16)}`,
      ]);
    } catch (error) {
      reason = (error as Error).message;
    }
    return new Error(
      `load: transaction ${hash} in block ${block} (${core.parseTransaction({ data: tx.data })?.name ?? "?"}) ` +
        `expected ${JSON.stringify(tx.emits)}, emitted ${JSON.stringify(emitted)}, status ${receipt?.status}: ${reason}`,
    );
  }
}

interface RawLog {
  topics: string[];
  transactionHash: string;
}
