/*
 * What every handler shares: the block/time/transaction of an event as row columns, enum names,
 * and the governance log.
 */
import type { Context } from "ponder:registry";
import { governance, subjectEvent } from "ponder:schema";

/** The parts of a Ponder log event the handlers read. */
export interface LogEvent {
  id: string;
  block: { number: bigint; timestamp: bigint };
  log: { logIndex: number };
  transaction: { hash: `0x${string}`; from: `0x${string}` };
}

/** Block number, time and transaction of an event, as stored. */
export function where(event: LogEvent): { blockNumber: number; timestamp: number; txHash: `0x${string}` } {
  return {
    blockNumber: Number(event.block.number),
    timestamp: Number(event.block.timestamp),
    txHash: event.transaction.hash,
  };
}

/** Lowercase hex, as Ponder's hex columns store it: keys built from it match stored ids. */
export function lower(value: `0x${string}`): `0x${string}` {
  return value.toLowerCase() as `0x${string}`;
}

/** MemberKind (contracts/Common.sol) by code. */
export const MEMBER_KINDS = ["none", "department", "consumer", "regulator", "operator", "identity-authority"] as const;

/** GrantScope by code. */
export const GRANT_SCOPES = ["asset", "dataType"] as const;

/** Contract names as the governance log records them. */
export type GovernanceContract = "dataSafe" | "dataCatalog" | "keyDirectory" | "accessManager";

/** Values of `detail` are JSON: bigints become decimal strings. */
function jsonSafe(detail: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(detail).map(([key, value]) => [key, typeof value === "bigint" ? value.toString() : value]),
  );
}

/** Appends a governance act. `actor` defaults to the transaction's sender. */
export async function recordGovernance(
  context: Context,
  event: LogEvent,
  act: {
    kind: string;
    contract: GovernanceContract;
    target: string;
    actor?: `0x${string}`;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  await context.db.insert(governance).values({
    id: event.id,
    kind: act.kind,
    contract: act.contract,
    actor: act.actor ?? event.transaction.from,
    target: act.target.toLowerCase(),
    detail: jsonSafe(act.detail ?? {}),
    logIndex: event.log.logIndex,
    ...where(event),
  });
}

/** Appends to a holder's history (`subject_event`). */
export async function subjectEventRow(
  context: Context,
  event: LogEvent,
  subjectId: `0x${string}`,
  kind: string,
  extra: {
    actor?: `0x${string}`;
    previousController?: `0x${string}`;
    newController?: `0x${string}`;
    detail?: Record<string, unknown>;
  } = {},
): Promise<void> {
  await context.db.insert(subjectEvent).values({
    id: event.id,
    subjectId,
    kind,
    actor: extra.actor ?? event.transaction.from,
    previousController: extra.previousController ?? null,
    newController: extra.newController ?? null,
    detail: extra.detail === undefined ? null : jsonSafe(extra.detail),
    ...where(event),
  });
}
