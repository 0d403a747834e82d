/*
 * Governance through the suite's AccessManager (OpenZeppelin): delayed operations scheduled,
 * executed or canceled, role membership, and the settings of roles and targets. Every event is a
 * governance act; operations and role members also keep their current state.
 */
import { ponder } from "ponder:registry";
import { managerOperation, managerRoleMember } from "ponder:schema";

import { lower, recordGovernance, where } from "./common.js";

ponder.on("AccessManager:OperationScheduled", async ({ event, context }) => {
  const { operationId, nonce, schedule, caller, target, data } = event.args;
  const at = where(event);
  await context.db.insert(managerOperation).values({
    id: `${lower(operationId)}:${nonce}`,
    opId: operationId,
    nonce,
    caller,
    target,
    data,
    schedule,
    status: "scheduled",
    scheduledBlock: at.blockNumber,
    scheduledTx: at.txHash,
  });
  await recordGovernance(context, event, {
    kind: "operation-scheduled",
    contract: "accessManager",
    target: operationId,
    actor: caller,
    detail: { nonce, schedule, target, selector: data.slice(0, 10), data },
  });
});

async function closeOperation(
  context: Parameters<typeof recordGovernance>[0],
  event: Parameters<typeof recordGovernance>[1],
  operationId: `0x${string}`,
  nonce: number,
  status: "executed" | "canceled",
): Promise<void> {
  const at = where(event);
  const id = `${lower(operationId)}:${nonce}`;
  const scheduled = await context.db.find(managerOperation, { id });
  if (scheduled !== null) {
    await context.db.update(managerOperation, { id }).set({ status, closedBlock: at.blockNumber, closedTx: at.txHash });
  }
  await recordGovernance(context, event, {
    kind: `operation-${status}`,
    contract: "accessManager",
    target: operationId,
    detail: { nonce, target: scheduled?.target ?? null, selector: scheduled?.data.slice(0, 10) ?? null },
  });
}

ponder.on("AccessManager:OperationExecuted", async ({ event, context }) => {
  await closeOperation(context, event, event.args.operationId, event.args.nonce, "executed");
});

ponder.on("AccessManager:OperationCanceled", async ({ event, context }) => {
  await closeOperation(context, event, event.args.operationId, event.args.nonce, "canceled");
});

ponder.on("AccessManager:RoleGranted", async ({ event, context }) => {
  const { roleId, account, delay, since, newMember } = event.args;
  const at = where(event);
  await context.db
    .insert(managerRoleMember)
    .values({
      id: `${roleId}:${lower(account)}`,
      roleId,
      account,
      active: true,
      executionDelay: delay,
      since,
      grantedBlock: at.blockNumber,
    })
    .onConflictDoUpdate({
      active: true,
      executionDelay: delay,
      since,
      grantedBlock: at.blockNumber,
      revokedBlock: null,
    });
  await recordGovernance(context, event, {
    kind: "role-granted",
    contract: "accessManager",
    target: account,
    detail: { roleId, delay, since, newMember },
  });
});

ponder.on("AccessManager:RoleRevoked", async ({ event, context }) => {
  const { roleId, account } = event.args;
  const id = `${roleId}:${lower(account)}`;
  if ((await context.db.find(managerRoleMember, { id })) !== null) {
    await context.db.update(managerRoleMember, { id }).set({ active: false, revokedBlock: Number(event.block.number) });
  }
  await recordGovernance(context, event, {
    kind: "role-revoked",
    contract: "accessManager",
    target: account,
    detail: { roleId },
  });
});

ponder.on("AccessManager:RoleLabel", async ({ event, context }) => {
  const { roleId, label } = event.args;
  await recordGovernance(context, event, {
    kind: "role-label",
    contract: "accessManager",
    target: String(roleId),
    detail: { label },
  });
});

ponder.on("AccessManager:RoleAdminChanged", async ({ event, context }) => {
  const { roleId, admin } = event.args;
  await recordGovernance(context, event, {
    kind: "role-admin-changed",
    contract: "accessManager",
    target: String(roleId),
    detail: { admin },
  });
});

ponder.on("AccessManager:RoleGuardianChanged", async ({ event, context }) => {
  const { roleId, guardian } = event.args;
  await recordGovernance(context, event, {
    kind: "role-guardian-changed",
    contract: "accessManager",
    target: String(roleId),
    detail: { guardian },
  });
});

ponder.on("AccessManager:RoleGrantDelayChanged", async ({ event, context }) => {
  const { roleId, delay, since } = event.args;
  await recordGovernance(context, event, {
    kind: "role-grant-delay-changed",
    contract: "accessManager",
    target: String(roleId),
    detail: { delay, since },
  });
});

ponder.on("AccessManager:TargetFunctionRoleUpdated", async ({ event, context }) => {
  const { target, selector, roleId } = event.args;
  await recordGovernance(context, event, {
    kind: "target-function-role-updated",
    contract: "accessManager",
    target,
    detail: { selector, roleId },
  });
});

ponder.on("AccessManager:TargetAdminDelayUpdated", async ({ event, context }) => {
  const { target, delay, since } = event.args;
  await recordGovernance(context, event, {
    kind: "target-admin-delay-updated",
    contract: "accessManager",
    target,
    detail: { delay, since },
  });
});

ponder.on("AccessManager:TargetClosed", async ({ event, context }) => {
  const { target, closed } = event.args;
  await recordGovernance(context, event, {
    kind: "target-closed",
    contract: "accessManager",
    target,
    detail: { closed },
  });
});
