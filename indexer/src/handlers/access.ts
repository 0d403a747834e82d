/*
 * Reads and outcomes (AccessLog, in DataSafe): one `access` row per read, joined at index time with
 * the asset's data type and issuing department, the grant's read count, the daily statistics, and
 * the read alert rules.
 */
import { ponder } from "ponder:registry";
import { access, asset, consentGrant, grantVersion, statDaily } from "ponder:schema";
import { zeroAddress } from "viem";

import { ALERT_RULES, evaluateRead, sweepMissingOutcomes } from "../alerts.js";
import { localTime } from "../alerts-rules.js";
import { lower, where } from "./common.js";

/** Outcome code counted as "approved" in the statistics (e.g. loan granted). */
export const APPROVED_OUTCOME = 1;

function statId(day: number, consumer: string, dataType: number, purpose: number, department: string): string {
  return `${day}:${consumer.toLowerCase()}:${dataType}:${purpose}:${department.toLowerCase()}`;
}

ponder.on("DataSafe:AccessRecorded", async ({ event, context }) => {
  const { grantId, subjectId, consumer, accessId, assetId, purpose, fields, readNumber, maxReads, version } =
    event.args;
  const at = where(event);
  const read = await context.db.find(asset, { assetId });
  const { day, dayStart } = localTime(at.timestamp, ALERT_RULES.timeZoneOffsetMinutes);
  await context.db.insert(access).values({
    accessId,
    grantId,
    grantVersion: version,
    subjectId,
    consumer,
    assetId,
    dataType: read?.dataType ?? null,
    issuer: read?.issuer ?? null,
    purpose,
    fields,
    readNumber,
    maxReads,
    logIndex: event.log.logIndex,
    day,
    ...at,
  });
  // The read count of the version read under (a renewal resets the grant's current count).
  await context.db.update(grantVersion, { id: `${lower(grantId)}:${version}` }).set({ reads: readNumber });
  const current = await context.db.find(consentGrant, { grantId });
  if (current !== null && current.version === version) {
    await context.db.update(consentGrant, { grantId }).set({ reads: readNumber });
  }
  const dataType = read?.dataType ?? 0;
  const department = read?.issuer ?? zeroAddress;
  await context.db
    .insert(statDaily)
    .values({
      id: statId(day, consumer, dataType, purpose, department),
      day,
      dayStart,
      consumer,
      dataType,
      purpose,
      department,
      reads: 1,
      outcomes: 0,
      approved: 0,
    })
    .onConflictDoUpdate((row) => ({ reads: row.reads + 1 }));
  await evaluateRead(context, { accessId: lower(accessId), consumer, subjectId, purpose, ...at });
});

ponder.on("DataSafe:AccessOutcomeRecorded", async ({ event, context }) => {
  const { accessId, outcome, outcomeReference } = event.args;
  const at = where(event);
  const read = await context.db.update(access, { accessId }).set({
    outcome,
    outcomeReference,
    outcomeAt: at.timestamp,
    outcomeBlock: at.blockNumber,
    outcomeTx: at.txHash,
  });
  // Counted on the day of the read, in the read's cell: outcomes / reads is that cohort's ratio.
  await context.db
    .update(statDaily, {
      id: statId(read.day, read.consumer, read.dataType ?? 0, read.purpose, read.issuer ?? zeroAddress),
    })
    .set((row) => ({
      outcomes: row.outcomes + 1,
      approved: row.approved + (outcome === APPROVED_OUTCOME ? 1 : 0),
    }));
  await sweepMissingOutcomes(context, at);
});

ponder.on("AlertClock:block", async ({ event, context }) => {
  await sweepMissingOutcomes(context, {
    blockNumber: Number(event.block.number),
    timestamp: Number(event.block.timestamp),
  });
});
