/*
 * Data assets and return requests (AssetRegistry, in DataSafe).
 */
import { ponder } from "ponder:registry";
import { asset, returnRequest } from "ponder:schema";

import { where } from "./common.js";

ponder.on("DataSafe:AssetIssued", async ({ event, context }) => {
  const { assetId, subjectId, issuer, dataType, contentCommitment, payloadPointer, validUntil } = event.args;
  const at = where(event);
  await context.db.insert(asset).values({
    assetId,
    subjectId,
    issuer,
    dataType,
    contentCommitment,
    payloadPointer,
    validUntil,
    status: "valid",
    issuedAt: at.timestamp,
    issuedBlock: at.blockNumber,
    issuedTx: at.txHash,
  });
});

ponder.on("DataSafe:AssetRevoked", async ({ event, context }) => {
  const { assetId, by, reason } = event.args;
  await context.db
    .update(asset, { assetId })
    .set({ status: "revoked", revokedAt: Number(event.block.timestamp), revokedBy: by, revokeReason: reason });
});

// Emitted after the new asset's AssetIssued in the same transaction.
ponder.on("DataSafe:AssetSuperseded", async ({ event, context }) => {
  const { previousAssetId, newAssetId } = event.args;
  await context.db.update(asset, { assetId: previousAssetId }).set({ status: "superseded", supersededBy: newAssetId });
  await context.db.update(asset, { assetId: newAssetId }).set({ supersedes: previousAssetId });
});

ponder.on("DataSafe:ReturnRequested", async ({ event, context }) => {
  const { requestId, subjectId, department, dataType } = event.args;
  const at = where(event);
  await context.db.insert(returnRequest).values({
    requestId,
    subjectId,
    department,
    dataType,
    status: "open",
    requestedAt: at.timestamp,
    requestedBlock: at.blockNumber,
    requestedTx: at.txHash,
  });
});

function resolved(event: Parameters<typeof where>[0], by: `0x${string}`) {
  const at = where(event);
  return { resolvedAt: at.timestamp, resolvedBlock: at.blockNumber, resolvedTx: at.txHash, resolvedBy: by };
}

ponder.on("DataSafe:ReturnRequestFulfilled", async ({ event, context }) => {
  const { requestId, assetId, department } = event.args;
  await context.db
    .update(returnRequest, { requestId })
    .set({ status: "fulfilled", assetId, ...resolved(event, department) });
  await context.db.update(asset, { assetId }).set({ returnRequestId: requestId });
});

ponder.on("DataSafe:ReturnRequestDeclined", async ({ event, context }) => {
  const { requestId, department, reason } = event.args;
  await context.db
    .update(returnRequest, { requestId })
    .set({ status: "declined", declineReason: reason, ...resolved(event, department) });
});

ponder.on("DataSafe:ReturnRequestCancelled", async ({ event, context }) => {
  const { requestId, by } = event.args;
  await context.db.update(returnRequest, { requestId }).set({ status: "cancelled", ...resolved(event, by) });
});
