/*
 * Holders (SubjectRegistry, in DataSafe): registration, controller changes (by the controller or a
 * completed recovery), recoveries started and cancelled, signature epochs.
 */
import { ponder } from "ponder:registry";
import { subject } from "ponder:schema";

import { subjectEventRow, where } from "./common.js";

ponder.on("DataSafe:SubjectRegistered", async ({ event, context }) => {
  const { subjectId, controller, authority } = event.args;
  const at = where(event);
  await context.db.insert(subject).values({
    subjectId,
    controller,
    authority,
    registeredAt: at.timestamp,
    registeredBlock: at.blockNumber,
    nonceEpoch: 0,
    controllerChanges: 0,
  });
  await subjectEventRow(context, event, subjectId, "registered", { actor: authority, newController: controller });
});

ponder.on("DataSafe:ControllerChanged", async ({ event, context }) => {
  const { subjectId, previousController, newController, by } = event.args;
  const before = await context.db.find(subject, { subjectId });
  // A completed recovery changes the controller to the pending recovery's key.
  const recovery =
    before?.recoveryNewController != null && before.recoveryNewController.toLowerCase() === newController.toLowerCase();
  await context.db.update(subject, { subjectId }).set((row) => ({
    controller: newController,
    controllerChanges: row.controllerChanges + 1,
    recoveryNewController: null,
    recoveryExecutableAt: null,
    recoveryAuthority: null,
  }));
  await subjectEventRow(context, event, subjectId, "controller-changed", {
    actor: by,
    previousController,
    newController,
    detail: { recovery },
  });
});

ponder.on("DataSafe:RecoveryInitiated", async ({ event, context }) => {
  const { subjectId, newController, executableAt, authority } = event.args;
  await context.db.update(subject, { subjectId }).set({
    recoveryNewController: newController,
    recoveryExecutableAt: executableAt,
    recoveryAuthority: authority,
  });
  await subjectEventRow(context, event, subjectId, "recovery-initiated", {
    actor: authority,
    newController,
    detail: { executableAt },
  });
});

ponder.on("DataSafe:RecoveryCancelled", async ({ event, context }) => {
  const { subjectId, by } = event.args;
  await context.db
    .update(subject, { subjectId })
    .set({ recoveryNewController: null, recoveryExecutableAt: null, recoveryAuthority: null });
  await subjectEventRow(context, event, subjectId, "recovery-cancelled", { actor: by });
});

ponder.on("DataSafe:NonceInvalidated", async ({ event, context }) => {
  const { subjectId, newNonce } = event.args;
  await context.db.update(subject, { subjectId }).set({ nonceEpoch: newNonce });
  await subjectEventRow(context, event, subjectId, "nonce-invalidated", { detail: { newNonce } });
});

ponder.on("DataSafe:NoncesCancelled", async ({ event, context }) => {
  const { subjectId, wordPos, mask } = event.args;
  await subjectEventRow(context, event, subjectId, "nonces-cancelled", { detail: { wordPos, mask } });
});
