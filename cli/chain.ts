/*
 * Helpers for what the SDK does not wrap: the AccessManager (governance), reverts of its errors,
 * and the repository's paths (artifacts, Ignition modules) when the CLI drives Hardhat.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import type { ContractTransactionResponse, TransactionReceipt } from "ethers";

import { decodeRevert } from "../sdk/index.js";
import { MANAGER_INTERFACE, RefusedError, managerRevert } from "./errors.js";

export { MANAGER_INTERFACE };
import { toJson } from "./output.js";

/** The repository root (the CLI runs from its sources). */
export const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * Sends a transaction the SDK does not wrap and waits for it; a revert becomes a RefusedError
 * naming the contract's error (the suite's or the AccessManager's).
 */
export async function sendAndWait(
  action: string,
  send: () => Promise<ContractTransactionResponse>,
): Promise<TransactionReceipt> {
  try {
    const response = await send();
    const receipt = await response.wait();
    if (receipt === null) throw new Error(`${action}: the transaction was dropped`);
    return receipt;
  } catch (error) {
    throw refusalOf(action, error);
  }
}

/** The error a failed governance call is reported as. */
export function refusalOf(action: string, error: unknown): unknown {
  const data = revertData(error);
  const manager = data === undefined ? undefined : managerRevert(data);
  if (manager !== undefined) {
    return new RefusedError(
      `${action} reverted with ${manager.errorName}(${toJson(manager.args, 0)})`,
      {},
      { cause: error },
    );
  }
  return decodeRevert(error, action);
}

function revertData(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth++) {
    const data = (current as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x")) return data;
    current =
      (current as { error?: unknown; info?: unknown; cause?: unknown }).error ??
      (current as { info?: { error?: unknown } }).info?.error ??
      (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A compiled contract's artifact (Hardhat's artifacts/contracts/<name>.sol/<name>.json). */
export interface Artifact {
  deployedBytecode: string;
  immutableReferences?: Record<string, { start: number; length: number }[]>;
}

export function readArtifact(name: string): Artifact {
  return JSON.parse(
    readFileSync(path.join(ROOT, "artifacts", "contracts", `${name}.sol`, `${name}.json`), "utf8"),
  ) as Artifact;
}

/** Runtime bytecode with the immutables' bytes zeroed (they hold constructor arguments, not code). */
export function withoutImmutables(code: string, artifact: Artifact): string {
  const bytes = Buffer.from(code.replace(/^0x/, ""), "hex");
  for (const references of Object.values(artifact.immutableReferences ?? {})) {
    for (const { start, length } of references) bytes.fill(0, start, start + length);
  }
  return `0x${bytes.toString("hex")}`;
}
