import { AbiCoder, ErrorFragment, Result, isError } from "ethers";

import { DataCatalog__factory, DataSafe__factory, KeyDirectory__factory } from "../typechain-types/index.js";
import { ENUMS, type EnumName, enumName } from "./constants.js";
import {
  AccessDeniedError,
  ContractRevertedError,
  type DataSafeError,
  type RevertArgs,
  type RevertName,
  SIGNATURE_REFUSALS,
  SignatureRefusedError,
  TransactionFailedError,
  UnknownRevertError,
} from "./errors.js";

/** An ABI input as TypeChain keeps it: with `internalType`, which names the Solidity enum. */
interface AbiInput {
  readonly name: string;
  readonly type: string;
  readonly internalType?: string;
  readonly components?: readonly AbiInput[];
}

interface KnownError {
  readonly name: string;
  readonly signature: string;
  readonly fragment: ErrorFragment;
  readonly inputs: readonly AbiInput[];
}

const BUILTIN_ERRORS = [
  { type: "error", name: "Error", inputs: [{ name: "message", type: "string", internalType: "string" }] },
  { type: "error", name: "Panic", inputs: [{ name: "code", type: "uint256", internalType: "uint256" }] },
] as const;

/** Every error of the suite's ABIs, by selector (the contracts share some: one entry each). */
const KNOWN_ERRORS: ReadonlyMap<string, KnownError> = (() => {
  const known = new Map<string, KnownError>();
  for (const item of [
    ...DataSafe__factory.abi,
    ...DataCatalog__factory.abi,
    ...KeyDirectory__factory.abi,
    ...BUILTIN_ERRORS,
  ]) {
    if (item.type !== "error") continue;
    const fragment = ErrorFragment.from(item);
    known.set(fragment.selector, {
      name: item.name,
      signature: fragment.format("sighash"),
      fragment,
      inputs: item.inputs as readonly AbiInput[],
    });
  }
  return known;
})();

const coder = AbiCoder.defaultAbiCoder();

/**
 * Turns whatever a contract call threw into a `DataSafeError`: a revert of the suite's ABI becomes a
 * `ContractRevertedError` (an `AccessDeniedError` for a refused read) with `errorName` and typed
 * `args`; undecodable revert data an `UnknownRevertError`; anything else a `TransactionFailedError`.
 * @param error what ethers, the RPC node or Hardhat threw
 * @param action what the SDK was doing, for the message (e.g. `recordAccess`)
 * @returns the error to throw
 * @example
 * try { await dataSafe.recordAccess(...) } catch (e) { throw decodeRevert(e, "recordAccess") }
 */
export function decodeRevert(error: unknown, action: string): DataSafeError {
  const data = findRevertData(error);
  if (data === undefined) {
    if (isError(error, "CALL_EXCEPTION")) return new UnknownRevertError(action, "0x", { cause: error });
    return new TransactionFailedError(action, { cause: error, details: messageOf(error) });
  }
  const decoded = decodeRevertData(data, action, error);
  return decoded ?? new UnknownRevertError(action, data, { cause: error });
}

/**
 * Decodes raw revert data with the suite's ABIs.
 * @returns the typed error, or `undefined` if no ABI of the suite has that selector
 */
export function decodeRevertData(data: string, action: string, cause?: unknown): ContractRevertedError | undefined {
  const known = KNOWN_ERRORS.get(data.slice(0, 10).toLowerCase());
  if (known === undefined) return undefined;
  let values: Result;
  try {
    values = coder.decode(known.fragment.inputs, "0x" + data.slice(10));
  } catch {
    return undefined;
  }
  const args: Record<string, unknown> = {};
  known.inputs.forEach((input, i) => {
    args[input.name] = toValue(input, values[i]);
  });
  const options = {
    errorName: known.name as RevertName,
    args: args as RevertArgs<RevertName>,
    signature: known.signature,
    data,
    action,
    cause,
  };
  if (known.name === "AccessDenied") {
    return new AccessDeniedError(options as unknown as ConstructorParameters<typeof AccessDeniedError>[0]);
  }
  if ((SIGNATURE_REFUSALS as readonly string[]).includes(known.name)) {
    return new SignatureRefusedError(options as unknown as ConstructorParameters<typeof SignatureRefusedError>[0]);
  }
  return new ContractRevertedError(options);
}

/** The revert data somewhere in an error thrown by ethers, a JSON-RPC node or Hardhat. */
function findRevertData(error: unknown, depth = 0): string | undefined {
  if (depth > 6 || error === null || typeof error !== "object") return undefined;
  const record = error as Record<string, unknown>;
  const data = record.data;
  if (typeof data === "string" && /^0x([0-9a-fA-F]{2})*$/.test(data)) {
    if (data.length >= 10) return data;
    // An empty revert (`revert()`, a failed `require` without message) is still a revert.
    if (data === "0x" && isError(error, "CALL_EXCEPTION")) return data;
  }
  // Not `transaction`: its `data` is the calldata, not the revert.
  for (const key of ["data", "error", "info", "cause"]) {
    const found = findRevertData(record[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** An ABI value as the SDK's types promise: enums by name, small integers as numbers. */
function toValue(input: AbiInput, value: unknown): unknown {
  const enumMatch = input.internalType?.match(/^enum (?:\w+\.)?(\w+)$/);
  if (enumMatch && enumMatch[1] in ENUMS) return enumName(enumMatch[1] as EnumName, value as bigint);
  if (input.components && value instanceof Result) {
    const out: Record<string, unknown> = {};
    input.components.forEach((component, i) => {
      out[component.name] = toValue(component, value[i]);
    });
    return out;
  }
  if (typeof value === "bigint") {
    const bits = Number(input.type.match(/^u?int(\d+)$/)?.[1] ?? 256);
    return bits <= 48 ? Number(value) : value;
  }
  if (value instanceof Result) return value.toArray(true);
  return value;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return (error as { shortMessage?: string }).shortMessage ?? error.message;
  return String(error);
}
