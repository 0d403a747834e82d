/**
 * Benchmark: datasafe beside its peer, the Ethereum Attestation Service 1.9.0 (deployed from the
 * artifacts its npm package ships), in the same run on the same embedded network. For each way of
 * putting a record on chain it measures gas per record and wall-clock records per second, prints a
 * table and saves it to bench/results.json.
 *
 *   npm run bench
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

import {
  AbiCoder,
  ContractFactory,
  type Contract,
  type ContractTransactionResponse,
  type Log,
  type LogDescription,
  ZeroHash,
  ZeroAddress,
} from "ethers";
import { network } from "hardhat";

import Permissions from "../deploy/modules/Permissions.js";
import type { DataCatalog, DataSafe } from "../typechain-types/index.js";
import { FAR_FUTURE, Kind, fixed32 } from "./lib/deterministic.js";

const require = createRequire(import.meta.url);
const RESULTS = fileURLToPath(new URL("../bench/results.json", import.meta.url));
// 50 records keep an EAS multiAttest (~234k gas each) under the 16.7M-gas transaction cap.
const BATCH = 50;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);

const { ethers, ignition } = await network.create();
const [deployer, operator, memberAdmin, catalogAdmin, regulator, authority, dept, bank, holder] =
  await ethers.getSigners();

// --- datasafe ------------------------------------------------------------------------------------
const deployed = await ignition.deploy(Permissions, {
  parameters: {
    Permissions: {
      operator: operator.address,
      memberAdmin: memberAdmin.address,
      catalogAdmin: catalogAdmin.address,
      regulator: regulator.address,
    },
  },
});
const ds = deployed.dataSafe as unknown as DataSafe;
const catalog = deployed.catalog as unknown as DataCatalog;
await ds.connect(memberAdmin).registerMember(dept.address, Kind.Department, "Housing Provident Fund Centre", "");
await ds.connect(memberAdmin).registerMember(authority.address, Kind.IdentityAuthority, "Identity Authority", "");
await ds.connect(memberAdmin).registerMember(bank.address, Kind.Consumer, "Bank", "");
await catalog.connect(catalogAdmin).defineDataType(8, "personal-housing-fund", fixed32("schema"), "");
await catalog.connect(catalogAdmin).authoriseIssuer(8, dept.address);
const subject = fixed32("bench-subject");
await ds.connect(authority).registerSubject(subject, holder.address);

// --- EAS -----------------------------------------------------------------------------------------
const artifact = (name: string) =>
  require(`@ethereum-attestation-service/eas-contracts/artifacts/contracts/${name}.sol/${name}.json`);
const registryArtifact = artifact("SchemaRegistry");
const easArtifact = artifact("EAS");
const registry = (await new ContractFactory(
  registryArtifact.abi,
  registryArtifact.bytecode,
  deployer,
).deploy()) as Contract;
const eas = (await new ContractFactory(easArtifact.abi, easArtifact.bytecode, deployer).deploy(
  await registry.getAddress(),
)) as Contract;
const schema = "bytes32 contentCommitment,bytes32 payloadPointer";
// The schema uid is what `register` returns; read it before sending the registration.
const uid: string = await registry.register.staticCall(schema, ZeroAddress, true);
await (await registry.register(schema, ZeroAddress, true)).wait();
const recipient = holder.address;
const easData = (i: number) =>
  AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [fixed32(`c-${i}`), fixed32(`p-${i}`)]);

// --- measurement ---------------------------------------------------------------------------------
interface Row {
  system: string;
  operation: string;
  records: number;
  gasPerRecord: number;
  recordsPerSecond: number;
}
const rows: Row[] = [];
const run = async (
  system: string,
  operation: string,
  perTx: number,
  txs: number,
  send: (i: number) => Promise<ContractTransactionResponse>,
) => {
  let gas = 0n;
  const start = performance.now();
  for (let i = 0; i < txs; i++) {
    const receipt = await (await send(i)).wait();
    gas += receipt!.gasUsed;
  }
  const seconds = (performance.now() - start) / 1000;
  rows.push({
    system,
    operation,
    records: perTx * txs,
    gasPerRecord: Math.round(Number(gas) / (perTx * txs)),
    recordsPerSecond: Math.round((perTx * txs) / seconds),
  });
};
const asset = (label: string) => ({
  subjectId: subject,
  dataType: 8,
  contentCommitment: fixed32(label),
  payloadPointer: fixed32(`p-${label}`),
  validUntil: FAR_FUTURE,
});
const easRequest = (i: number) => ({
  recipient,
  expirationTime: FAR_FUTURE,
  revocable: true,
  refUID: ZeroHash,
  data: easData(i),
  value: 0,
});

await run("datasafe", "issue one record per transaction", 1, 200, (i) =>
  ds.connect(dept).issueAsset(asset(`single-${i}`)),
);
await run("EAS 1.9.0", "attest one record per transaction", 1, 200, (i) =>
  eas.connect(dept).getFunction("attest")({ schema: uid, data: easRequest(i) }),
);
await run("datasafe", `issue ${BATCH} records per transaction`, BATCH, BATCHES, (b) =>
  ds.connect(dept).issueAssets(Array.from({ length: BATCH }, (_, i) => asset(`batch-${b}-${i}`))),
);
await run("EAS 1.9.0", `multiAttest ${BATCH} records per transaction`, BATCH, BATCHES, (b) =>
  eas.connect(dept).getFunction("multiAttest")([
    { schema: uid, data: Array.from({ length: BATCH }, (_, i) => easRequest(100_000 + b * BATCH + i)) },
  ]),
);

// Revocation of one record.
const revokeKey = (label: string) => ({
  issuer: dept.address,
  subjectId: subject,
  dataType: 8,
  contentCommitment: fixed32(label),
});
await run("datasafe", "revoke one record", 1, 50, (i) => ds.connect(dept).revokeAsset(revokeKey(`single-${i}`), 1));
const easUids: string[] = [];
for (let i = 0; i < 50; i++) {
  const receipt = await (
    await eas.connect(dept).getFunction("attest")({ schema: uid, data: easRequest(900_000 + i) })
  ).wait();
  const log = receipt!.logs
    .map((l: Log) => eas.interface.parseLog(l))
    .find((l: LogDescription | null) => l?.name === "Attested");
  easUids.push(log!.args.uid);
}
await run("EAS 1.9.0", "revoke one record", 1, 50, (i) =>
  eas.connect(dept).getFunction("revoke")({ schema: uid, data: { uid: easUids[i], value: 0 } }),
);

// --- report --------------------------------------------------------------------------------------
const w = Math.max(...rows.map((r) => r.operation.length));
console.log(
  `${"system".padEnd(10)}  ${"operation".padEnd(w)}  ${"records".padStart(7)}  ${"gas/record".padStart(10)}  ${"records/s".padStart(9)}`,
);
for (const r of rows) {
  console.log(
    `${r.system.padEnd(10)}  ${r.operation.padEnd(w)}  ${String(r.records).padStart(7)}  ${String(r.gasPerRecord).padStart(10)}  ${String(r.recordsPerSecond).padStart(9)}`,
  );
}
console.log("records/s is wall-clock on the embedded network (EDR) on this machine, both systems in the same run.");
mkdirSync(fileURLToPath(new URL("../bench/", import.meta.url)), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
console.log(`saved ${RESULTS}`);
