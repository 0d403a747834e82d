/**
 * Measures the gas of every public operation of the suite, one transaction each, on the embedded
 * network, through the production Ignition modules, with fixed inputs so the figures are
 * deterministic. Writes gas-snapshot.json, or with GAS_CHECK=1 compares against it and exits 1 on
 * any drift. Prints each figure beside its goal.
 *
 *   npm run gas:snapshot   # rewrite gas-snapshot.json
 *   npm run gas:check      # CI: fail on drift
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import type { ContractTransactionResponse, Signer, TypedDataDomain, TypedDataField } from "ethers";
import { network } from "hardhat";

import Permissions from "../deploy/modules/Permissions.js";
import {
  type PrimaryType,
  TYPES,
  dataTypeTarget,
  enumValue,
  keyDirectoryDomain,
  setHolderKeyTypedData,
} from "../sdk/index.js";
import type { DataCatalog, DataSafe, KeyDirectory } from "../typechain-types/index.js";
import { FAR_FUTURE, Kind, Scope, fixed32 } from "./lib/deterministic.js";

const SNAPSHOT = fileURLToPath(new URL("../gas-snapshot.json", import.meta.url));

/** Goals from the issues, gas per transaction (or per item for batches). */
const GOALS: Record<string, number> = {
  registerSubject: 50_000,
  issueAsset: 50_000,
  "issueAssets[100] per asset": 30_000,
  "grant (1 consumer, 1 asset)": 55_000,
  "approveRequestBySig (1 asset)": 80_000,
  "recordAccess (asset grant)": 35_000,
  revoke: 30_000,
};

/**
 * The chain starts at a fixed date so every expiry below is valid whatever the clock says; grants
 * may run at most MAX_GRANT_DURATION (ten years) ahead, so they end at GRANT_EXPIRY.
 */
const START_DATE = "2025-06-01T00:00:00Z";
const GRANT_EXPIRY = 1_893_456_000; // 2030-01-01

const { ethers, ignition } = await network.create({ override: { initialDate: START_DATE } });
const [admin, operator, memberAdmin, catalogAdmin, regulator, authority, dept, bank, school, holder, relayer, newKey] =
  await ethers.getSigners();

const {
  catalog: catalogContract,
  dataSafe: dataSafeContract,
  keyDirectory: keyDirectoryContract,
} = await ignition.deploy(Permissions, {
  parameters: {
    Permissions: {
      operator: operator.address,
      memberAdmin: memberAdmin.address,
      catalogAdmin: catalogAdmin.address,
      regulator: regulator.address,
    },
  },
});
const catalog = catalogContract as unknown as DataCatalog;
const ds = dataSafeContract as unknown as DataSafe;
const keys = keyDirectoryContract as unknown as KeyDirectory;
void admin;

const figures: Record<string, number> = {};
const gasOf = async (name: string, tx: Promise<ContractTransactionResponse>, perItem = 1): Promise<void> => {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error(`no receipt for ${name}`);
  figures[name] = Math.round(Number(receipt.gasUsed) / perItem);
};

// --- members and catalog -------------------------------------------------------------------
await gasOf(
  "registerMember",
  ds.connect(memberAdmin).registerMember(dept.address, Kind.Department, "Public Security Bureau", "ipfs://dept"),
);
for (const [who, kind, name] of [
  [authority, Kind.IdentityAuthority, "Identity Authority"],
  [bank, Kind.Consumer, "City Commercial Bank"],
  [school, Kind.Consumer, "No. 1 Middle School"],
] as const) {
  await ds.connect(memberAdmin).registerMember(who.address, kind, name, `ipfs://${name}`);
}
await gasOf(
  "defineDataType",
  catalog.connect(catalogAdmin).defineDataType(1, "household-register", fixed32("schema-1"), "ipfs://schema/1"),
);
await catalog.connect(catalogAdmin).defineDataType(2, "personal-housing-fund", fixed32("schema-2"), "ipfs://schema/2");
await gasOf("authoriseIssuer", catalog.connect(catalogAdmin).authoriseIssuer(1, dept.address));
await catalog.connect(catalogAdmin).authoriseIssuer(2, dept.address);

// --- subjects ----------------------------------------------------------------------------------
const subject = fixed32("subject-holder");
await gasOf("registerSubject", ds.connect(authority).registerSubject(subject, holder.address));
const batchSubjects = Array.from({ length: 100 }, (_, i) => fixed32(`subject-batch-${i}`));
await gasOf(
  "registerSubjects[100] per subject",
  ds.connect(authority).registerSubjects(
    batchSubjects,
    batchSubjects.map(() => holder.address),
  ),
  100,
);

// --- encryption keys (the key directory) --------------------------------------------------------
/** The SM2 generator (GB/T 32918.5) as x || y: a fixed valid 64-byte key. */
const SM2_KEY =
  "0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7" +
  "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0";
const X25519 = enumValue("KeySuite", "X25519Hpke");
await gasOf("setMemberKey (X25519, first)", keys.connect(bank).setMemberKey(X25519, fixed32("x25519-bank")));
await gasOf("setMemberKey (SM2, rotation)", keys.connect(bank).setMemberKey(enumValue("KeySuite", "Sm2"), SM2_KEY));
await gasOf(
  "setHolderKey (X25519, first)",
  keys.connect(holder).setHolderKey(subject, X25519, fixed32("x25519-holder")),
);
{
  const input = { subjectId: subject, suite: "X25519Hpke" as const, publicKey: fixed32("x25519-holder-2") };
  const terms = { nonce: await keys.nonces(holder.address), deadline: BigInt(FAR_FUTURE) };
  const domain = keyDirectoryDomain((await ethers.provider.getNetwork()).chainId, await keys.getAddress());
  const p = setHolderKeyTypedData(domain, input, terms);
  const signature = await holder.signTypedData(p.domain, p.types, p.message);
  await gasOf(
    "setHolderKeyBySig (X25519, rotation)",
    keys.connect(relayer).setHolderKeyBySig(subject, X25519, input.publicKey, terms.nonce, terms.deadline, signature),
  );
}

// --- assets ------------------------------------------------------------------------------------
const newAsset = (label: string, dataType = 1) => ({
  subjectId: subject,
  dataType,
  contentCommitment: fixed32(`commitment-${label}`),
  payloadPointer: fixed32(`pointer-${label}`),
  validUntil: FAR_FUTURE,
});
const keyOf = (a: ReturnType<typeof newAsset>) => ({
  issuer: dept.address,
  subjectId: a.subjectId,
  dataType: a.dataType,
  contentCommitment: a.contentCommitment,
});
const register = newAsset("register");
await gasOf("issueAsset", ds.connect(dept).issueAsset(register));
const registerId = await ds.assetIdOf(keyOf(register));
const fund = newAsset("fund", 2);
await ds.connect(dept).issueAsset(fund);
const fundId = await ds.assetIdOf(keyOf(fund));
await gasOf(
  "issueAssets[10] per asset",
  ds.connect(dept).issueAssets(Array.from({ length: 10 }, (_, i) => newAsset(`b10-${i}`))),
  10,
);
await gasOf(
  "issueAssets[100] per asset",
  ds.connect(dept).issueAssets(Array.from({ length: 100 }, (_, i) => newAsset(`b100-${i}`))),
  100,
);
const old = newAsset("to-supersede");
await ds.connect(dept).issueAsset(old);
await gasOf("supersedeAsset", ds.connect(dept).supersedeAsset(keyOf(old), newAsset("superseding")));
const doomed = newAsset("to-revoke");
await ds.connect(dept).issueAsset(doomed);
await gasOf("revokeAsset", ds.connect(dept).revokeAsset(keyOf(doomed), 1));
const returnRequestId = await ds.connect(holder).requestReturn.staticCall(subject, 1, dept.address);
await gasOf("requestReturn", ds.connect(holder).requestReturn(subject, 1, dept.address));
await gasOf("fulfilReturnRequest", ds.connect(dept).fulfilReturnRequest(returnRequestId, newAsset("returned")));

// --- consent -----------------------------------------------------------------------------------
const domain: TypedDataDomain = {
  name: "DataSafe",
  version: "1",
  chainId: (await ethers.provider.getNetwork()).chainId,
  verifyingContract: await ds.getAddress(),
};
const sign = (signer: Signer, types: Record<string, TypedDataField[]>, value: Record<string, unknown>) =>
  signer.signTypedData(domain, types, value);
/** The SDK's EIP-712 types (tested equal to the contract's typehashes), as ethers takes them. */
const typesOf = (primaryType: PrimaryType): Record<string, TypedDataField[]> => ({
  [primaryType]: TYPES[primaryType].map((field) => ({ ...field })),
});
/**
 * Signature nonces in the order the SDK hands them out: the epoch's first eight live in the
 * subject's slot, which a signed act reads anyway; the 9th (index 8) and later in bitmap words.
 */
let nextIndex = 0n;
const nextNonce = () => nextIndex++;

const requestOf = async (targets: string[], purpose: number) => {
  const [, result] = await ds
    .connect(bank)
    .requestAccess.staticCall(subject, Scope.Asset, targets, 0, purpose, 30 * 86_400, 1, FAR_FUTURE);
  // An ethers Result is read-only; pass a plain copy back as a struct argument.
  const request = {
    subjectId: result.subjectId,
    consumer: result.consumer,
    scope: result.scope,
    targets: [...result.targets],
    fields: result.fields,
    purpose: result.purpose,
    grantDuration: result.grantDuration,
    maxReads: result.maxReads,
    expiresAt: result.expiresAt,
    nonce: result.nonce,
  };
  return {
    tx: ds.connect(bank).requestAccess(subject, Scope.Asset, targets, 0, purpose, 30 * 86_400, 1, FAR_FUTURE),
    request,
  };
};
{
  const { tx, request } = await requestOf([registerId], 1);
  await gasOf("requestAccess (1 asset)", tx);
  await gasOf("approveRequest (1 asset)", ds.connect(holder).approveRequest(request));
}
{
  const { tx, request } = await requestOf([fundId], 2);
  await tx;
  const requestId = await ds.requestIdOf(request);
  const nonce = nextNonce();
  const { nonce: requestNonce, ...content } = request;
  const signature = await sign(holder, typesOf("ApproveAccessRequest"), {
    requestId,
    ...content,
    requestNonce,
    nonce,
    deadline: FAR_FUTURE,
  });
  await gasOf(
    "approveRequestBySig (1 asset)",
    ds.connect(relayer).approveRequestBySig(request, { nonce, deadline: FAR_FUTURE, signature }),
  );
}
{
  const { tx, request } = await requestOf([registerId], 3);
  await tx;
  await gasOf("rejectRequest", ds.connect(holder).rejectRequest(request, 1));
}
const terms = (consumers: string[], scope: number, targets: string[], purpose: number, maxReads = 3) => ({
  subjectId: subject,
  consumers,
  scope,
  targets,
  fields: 0,
  purpose,
  expiresAt: GRANT_EXPIRY,
  maxReads,
});
await gasOf(
  "grant (1 consumer, 1 asset)",
  ds.connect(holder).grant(terms([school.address], Scope.Asset, [registerId], 7)),
);
await gasOf(
  "grant (1 consumer, 1 data type)",
  ds.connect(holder).grant(terms([school.address], Scope.DataType, [dataTypeTarget(dept.address, 2)], 7)),
);
await gasOf(
  "grant (2 consumers, 2 assets)",
  ds.connect(holder).grant(terms([school.address, bank.address], Scope.Asset, [registerId, fundId], 8)),
);
const grantBySig = async (name: string, t: ReturnType<typeof terms>, nonce: bigint) => {
  const signature = await sign(holder, typesOf("Grant"), { ...t, nonce, deadline: FAR_FUTURE });
  await gasOf(name, ds.connect(relayer).grantBySig(t, { nonce, deadline: FAR_FUTURE, signature }));
};
await grantBySig("grantBySig (1 consumer, 1 asset)", terms([school.address], Scope.Asset, [fundId], 9), nextNonce());
// After eight signed acts in an epoch, nonces live in bitmap words: the first in a word writes a new slot.
nextIndex = 8n;
await grantBySig("grantBySig, 9th nonce (new word)", terms([school.address], Scope.Asset, [fundId], 10), nextNonce());
await grantBySig(
  "grantBySig, 10th nonce (word in use)",
  terms([school.address], Scope.Asset, [fundId], 11),
  nextNonce(),
);
nextIndex = 2n;
await gasOf("cancelNonces (one nonce)", ds.connect(holder).cancelNonces(subject, 0, 1n << 7n));
await gasOf("cancelNonces (a word)", ds.connect(holder).cancelNonces(subject, 2, (1n << 256n) - 1n));

// --- access log --------------------------------------------------------------------------------
await gasOf("recordAccess (asset grant)", ds.connect(school).recordAccess(keyOf(register), Scope.Asset, 7, 0));
await gasOf("recordAccess (data-type grant)", ds.connect(school).recordAccess(keyOf(fund), Scope.DataType, 7, 0));
const grantKey = { subjectId: subject, consumer: school.address, scope: Scope.Asset, target: registerId, purpose: 7 };
await gasOf("recordOutcome", ds.connect(school).recordOutcome(grantKey, 1, 1, 1, fixed32("loan-file")));
await gasOf("revoke", ds.connect(holder).revoke(grantKey));
{
  const key = { subjectId: subject, consumer: school.address, scope: Scope.Asset, target: fundId, purpose: 9 };
  const nonce = nextNonce();
  const signature = await sign(holder, typesOf("Revoke"), { ...key, version: 1, nonce, deadline: FAR_FUTURE });
  await gasOf("revokeBySig", ds.connect(relayer).revokeBySig(key, 1, { nonce, deadline: FAR_FUTURE, signature }));
}

// --- keys and supervision ----------------------------------------------------------------------
await gasOf("invalidateNonce", ds.connect(holder).invalidateNonce(subject));
await gasOf("suspendMember", ds.connect(regulator).suspendMember(bank.address, 1));
await gasOf("reinstateMember", ds.connect(regulator).reinstateMember(bank.address));
await gasOf("initiateRecovery", ds.connect(authority).initiateRecovery(subject, newKey.address));
await gasOf("cancelRecovery", ds.connect(holder).cancelRecovery(subject));
await gasOf("transferControl", ds.connect(holder).transferControl(subject, newKey.address));

// --- report ------------------------------------------------------------------------------------
const width = Math.max(...Object.keys(figures).map((k) => k.length));
console.log(`${"operation".padEnd(width)}  ${"gas".padStart(8)}  ${"goal".padStart(8)}`);
for (const [name, gas] of Object.entries(figures)) {
  const goal = GOALS[name];
  const verdict = goal === undefined ? "" : gas <= goal ? "  met" : `  over by ${gas - goal}`;
  console.log(
    `${name.padEnd(width)}  ${String(gas).padStart(8)}  ${(goal === undefined ? "" : String(goal)).padStart(8)}${verdict}`,
  );
}

if (process.env.GAS_CHECK === "1") {
  const committed = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Record<string, number>;
  const drift = [...new Set([...Object.keys(committed), ...Object.keys(figures)])].filter(
    (k) => committed[k] !== figures[k],
  );
  if (drift.length > 0) {
    for (const k of drift) console.error(`gas drift: ${k}: snapshot ${committed[k] ?? "-"}, now ${figures[k] ?? "-"}`);
    console.error("Run `npm run gas:snapshot` and commit gas-snapshot.json if the change is intended.");
    process.exitCode = 1;
  } else {
    console.log(`gas snapshot: ${Object.keys(figures).length} operations match gas-snapshot.json`);
  }
} else {
  writeFileSync(SNAPSHOT, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`wrote ${SNAPSHOT}`);
}
