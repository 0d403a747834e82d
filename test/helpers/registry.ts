/**
 * Helpers for the registry tests (members, catalog, subjects, assets): keys and tags computed the
 * way the contracts compute them, block times of transactions, decoded logs in emission order,
 * and the restricted functions the Solidity sources declare.
 */
import { readdirSync, readFileSync } from "node:fs";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  AbiCoder,
  type BaseContract,
  type ContractTransactionResponse,
  keccak256,
  ZeroAddress,
  ZeroHash,
} from "ethers";

import type { DataSafe } from "../../typechain-types/index.js";
import { CITIZEN, DataType, assetIdOf, deployWithParticipants, newAsset, type Suite } from "./fixtures.js";

export { ZeroAddress, ZeroHash };

/** A new asset as the tests build it (see `newAsset` in fixtures.ts). */
export type NewAssetInput = ReturnType<typeof newAsset>;

/** The `AssetKey` of an asset `issuer` issued. */
export const keyOf = (issuer: string, asset: NewAssetInput) => ({
  issuer,
  subjectId: asset.subjectId,
  dataType: asset.dataType,
  contentCommitment: asset.contentCommitment,
});

/** The 136-bit holder tag stored in an asset: uint136(uint256(keccak256(abi.encode(subjectId)))). */
export const subjectTagOf = (subjectId: string): bigint =>
  BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32"], [subjectId]))) & ((1n << 136n) - 1n);

/** The timestamp of the block that mined `tx`. */
export async function blockTimeOf(
  tx: ContractTransactionResponse | Promise<ContractTransactionResponse>,
): Promise<number> {
  const receipt = await (await tx).wait();
  const block = await receipt!.getBlock();
  return block.timestamp;
}

/** The decoded arguments of every `eventName` log `contract` emitted in `tx`, in emission order. */
export async function eventsOf(
  tx: ContractTransactionResponse | Promise<ContractTransactionResponse>,
  contract: BaseContract,
  eventName: string,
): Promise<unknown[][]> {
  const receipt = await (await tx).wait();
  const address = (await contract.getAddress()).toLowerCase();
  const topic = contract.interface.getEvent(eventName)!.topicHash;
  return receipt!.logs
    .filter((log) => log.address.toLowerCase() === address && log.topics[0] === topic)
    .map((log) => contract.interface.parseLog(log)!.args.toArray());
}

/** The names of every log a transaction emitted, in order (logs no contract here knows are "?"). */
export async function eventNamesOf(
  tx: ContractTransactionResponse | Promise<ContractTransactionResponse>,
  ...contracts: BaseContract[]
): Promise<string[]> {
  const receipt = await (await tx).wait();
  return receipt!.logs.map((log) => {
    for (const contract of contracts) {
      const parsed = contract.interface.parseLog(log);
      if (parsed) return parsed.name;
    }
    return "?";
  });
}

/** Issues `asset` from `issuer` and returns its id. */
export async function issue(dataSafe: DataSafe, issuer: HardhatEthersSigner, asset: NewAssetInput): Promise<string> {
  await dataSafe.connect(issuer).issueAsset(asset);
  return assetIdOf(issuer.address, asset);
}

/** The stored asset as a plain object with numbers and a bigint tag. */
export async function storedAsset(dataSafe: DataSafe, assetId: string) {
  const a = await dataSafe.getAsset(assetId);
  return {
    status: Number(a.status),
    dataType: Number(a.dataType),
    issuedAt: Number(a.issuedAt),
    validUntil: Number(a.validUntil),
    subjectTag: a.subjectTag,
  };
}

/** The stored return request as a plain object. */
export async function storedReturnRequest(dataSafe: DataSafe, requestId: string) {
  const r = await dataSafe.getReturnRequest(requestId);
  return {
    subjectId: r.subjectId,
    department: r.department,
    dataType: Number(r.dataType),
    status: Number(r.status),
    requestedAt: Number(r.requestedAt),
  };
}

/** The stored member as a plain object. */
export async function storedMember(dataSafe: DataSafe, account: string) {
  const m = await dataSafe.getMember(account);
  return {
    kind: Number(m.kind),
    status: Number(m.status),
    registeredAt: Number(m.registeredAt),
    name: m.name,
    metadataURI: m.metadataURI,
  };
}

/** The stored subject as a plain object. */
export async function storedSubject(dataSafe: DataSafe, subjectId: string) {
  const s = await dataSafe.getSubject(subjectId);
  return { controller: s.controller, registeredAt: Number(s.registeredAt), nonce: Number(s.nonce) };
}

/** The pending recovery as a plain object. */
export async function storedRecovery(dataSafe: DataSafe, subjectId: string) {
  const r = await dataSafe.pendingRecovery(subjectId);
  return { newController: r.newController, executableAt: Number(r.executableAt), authority: r.authority };
}

export interface SuiteWithAsset extends Suite {
  /** A household-register asset of the citizen, issued by public security, no expiry. */
  asset: NewAssetInput;
  assetId: string;
}

/** The suite with participants and one valid household-register asset of the citizen. */
export async function deployWithAsset(): Promise<SuiteWithAsset> {
  const suite = await deployWithParticipants();
  const asset = newAsset(CITIZEN, DataType.HouseholdRegister);
  const assetId = await issue(suite.dataSafe, suite.actors.publicSecurity, asset);
  return { ...suite, asset, assetId };
}

/**
 * The functions the Solidity sources mark `restricted`, by file: what Permissions.ts must map.
 * Reads contracts/*.sol so that a restricted function added later without a role shows up.
 */
export function restrictedFunctionsBySource(): Record<string, string[]> {
  const dir = new URL("../../contracts/", import.meta.url);
  const result: Record<string, string[]> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sol"))) {
    const source = readFileSync(new URL(file, dir), "utf8")
      .replace(/\/\/.*$/gm, "")
      .replace(/\/\*[\s\S]*?\*\//g, "");
    const names: string[] = [];
    // A function header runs from `function name(` to its body's `{` or a `;`.
    for (const match of source.matchAll(/function\s+(\w+)\s*\(([^{;]*)[{;]/g)) {
      if (/\brestricted\b/.test(match[2])) names.push(match[1]);
    }
    result[file] = names;
  }
  return result;
}
