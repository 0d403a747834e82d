/*
 * Consent (ConsentManager, in DataSafe): access requests with their content and fate, grants and
 * their versions, revocations; the long-grant alert rule.
 */
import { ponder } from "ponder:registry";
import { accessRequest, consentGrant, grantVersion, latestRequest } from "ponder:schema";
import { zeroHash } from "viem";

import { evaluateGrant } from "../alerts.js";
import { GRANT_SCOPES, lower, where } from "./common.js";

ponder.on("DataSafe:AccessRequested", async ({ event, context }) => {
  const { requestId, subjectId, consumer, request } = event.args;
  const at = where(event);
  await context.db.insert(accessRequest).values({
    requestId,
    subjectId,
    consumer,
    scope: GRANT_SCOPES[request.scope] ?? String(request.scope),
    targets: request.targets.map(lower),
    fields: request.fields,
    purpose: request.purpose,
    grantDuration: request.grantDuration,
    maxReads: request.maxReads,
    expiresAt: request.expiresAt,
    nonce: request.nonce,
    status: "pending",
    requestedAt: at.timestamp,
    requestedBlock: at.blockNumber,
    requestedTx: at.txHash,
  });
  // What a direct grant to this consumer for this holder and purpose is compared with (long-grant).
  await context.db
    .insert(latestRequest)
    .values({
      id: `${lower(subjectId)}:${lower(consumer)}:${request.purpose}`,
      requestId,
      grantDuration: request.grantDuration,
    })
    .onConflictDoUpdate({ requestId, grantDuration: request.grantDuration });
});

function resolved(event: Parameters<typeof where>[0], by: `0x${string}`) {
  const at = where(event);
  return { resolvedAt: at.timestamp, resolvedBlock: at.blockNumber, resolvedTx: at.txHash, resolvedBy: by };
}

ponder.on("DataSafe:AccessRequestApproved", async ({ event, context }) => {
  const { requestId, by } = event.args;
  await context.db.update(accessRequest, { requestId }).set({ status: "approved", ...resolved(event, by) });
});

ponder.on("DataSafe:AccessRequestRejected", async ({ event, context }) => {
  const { requestId, reason, by } = event.args;
  await context.db
    .update(accessRequest, { requestId })
    .set({ status: "rejected", rejectReason: reason, ...resolved(event, by) });
});

ponder.on("DataSafe:AccessRequestCancelled", async ({ event, context }) => {
  const { requestId, consumer } = event.args;
  await context.db.update(accessRequest, { requestId }).set({ status: "cancelled", ...resolved(event, consumer) });
});

ponder.on("DataSafe:GrantIssued", async ({ event, context }) => {
  const { grantId, subjectId, consumer, scope, target, fields, purpose, expiresAt, maxReads, version, requestId } =
    event.args;
  const at = where(event);
  const fromRequest = requestId !== zeroHash;
  // The duration asked for: the request answered, else the consumer's latest request to this
  // holder for this purpose (a holder may grant directly what a consumer asked for).
  const asked = fromRequest
    ? await context.db.find(accessRequest, { requestId })
    : await context.db.find(latestRequest, { id: `${lower(subjectId)}:${lower(consumer)}:${purpose}` });
  const requestedDuration = asked?.grantDuration ?? null;
  const grantedDuration = expiresAt - at.timestamp;
  const current = {
    fields,
    maxReads,
    reads: 0,
    version,
    expiresAt,
    requestId: fromRequest ? requestId : null,
    requestedDuration,
    grantedDuration,
    issuedAt: at.timestamp,
    issuedBlock: at.blockNumber,
    issuedTx: at.txHash,
    status: "active",
    revokedAt: null,
    revokedBy: null,
    revokedTx: null,
  };
  await context.db
    .insert(consentGrant)
    .values({
      grantId,
      subjectId,
      consumer,
      scope: GRANT_SCOPES[scope] ?? String(scope),
      target,
      purpose,
      firstIssuedAt: at.timestamp,
      ...current,
    })
    .onConflictDoUpdate(current);
  await context.db.insert(grantVersion).values({
    id: `${lower(grantId)}:${version}`,
    grantId,
    version,
    subjectId,
    consumer,
    fields,
    maxReads,
    reads: 0,
    expiresAt,
    requestId: fromRequest ? requestId : null,
    issuedAt: at.timestamp,
    issuedBlock: at.blockNumber,
    issuedTx: at.txHash,
  });
  await evaluateGrant(context, {
    grantId: lower(grantId),
    version,
    consumer,
    subjectId,
    requestedDuration,
    grantedDuration,
    ...at,
  });
});

ponder.on("DataSafe:GrantRevoked", async ({ event, context }) => {
  const { grantId, version, by } = event.args;
  const at = where(event);
  await context.db
    .update(consentGrant, { grantId })
    .set({ status: "revoked", revokedAt: at.timestamp, revokedBy: by, revokedTx: at.txHash });
  await context.db
    .update(grantVersion, { id: `${lower(grantId)}:${version}` })
    .set({ revokedAt: at.timestamp, revokedBy: by });
});
