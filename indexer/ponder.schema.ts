/*
 * The audit tables. Every table is an `onchainTable`: Ponder journals its writes per block, so a
 * reorg rolls back exactly the rows of the orphaned blocks and a restart resumes after the last
 * committed checkpoint. Column names are snake_case in SQL (`blockNumber` → block_number).
 *
 * Conventions: ids, hashes and addresses are lowercase 0x-hex (`hex`), times are unix seconds and
 * block numbers plain integers (`int8` in number mode: exact up to 2^53), uint64 field masks are
 * `bigint` (numeric), enums are their lowercase names as text. Every row made by an event carries
 * the block, time and transaction of that event.
 */
import { index, onchainTable } from "ponder";

/** Members of the network (MemberDirectory): one row per account, current state. */
export const member = onchainTable(
  "member",
  (t) => ({
    account: t.hex().primaryKey(),
    /** MemberKind code: 1 department, 2 consumer, 3 regulator, 4 operator, 5 identity authority. */
    kind: t.integer().notNull(),
    kindName: t.text().notNull(),
    name: t.text().notNull(),
    metadataUri: t.text().notNull(),
    /** "active" or "suspended". */
    status: t.text().notNull(),
    /** Reason code of the current suspension, null when active. */
    suspendedReason: t.integer(),
    registeredBy: t.hex().notNull(),
    registeredAt: t.int8({ mode: "number" }).notNull(),
    registeredBlock: t.int8({ mode: "number" }).notNull(),
    updatedAt: t.int8({ mode: "number" }).notNull(),
  }),
  (table) => ({ kindIdx: index().on(table.kind), nameIdx: index().on(table.name) }),
);

/** Data types of the catalog (DataCatalog), current state. */
export const dataType = onchainTable("data_type", (t) => ({
  id: t.integer().primaryKey(),
  name: t.text().notNull(),
  schemaHash: t.hex().notNull(),
  schemaUri: t.text().notNull(),
  /** "active" or "deprecated". */
  status: t.text().notNull(),
  definedBy: t.hex().notNull(),
  definedAt: t.int8({ mode: "number" }).notNull(),
  definedBlock: t.int8({ mode: "number" }).notNull(),
  updatedAt: t.int8({ mode: "number" }).notNull(),
}));

/** Which department may issue which data type (IssuerAuthorised / IssuerDeauthorised). */
export const dataTypeIssuer = onchainTable(
  "data_type_issuer",
  (t) => ({
    /** `${dataType}:${issuer}` */
    id: t.text().primaryKey(),
    dataType: t.integer().notNull(),
    issuer: t.hex().notNull(),
    authorised: t.boolean().notNull(),
    authorisedAt: t.int8({ mode: "number" }).notNull(),
    deauthorisedAt: t.int8({ mode: "number" }),
  }),
  (table) => ({ dataTypeIdx: index().on(table.dataType), issuerIdx: index().on(table.issuer) }),
);

/** Holders (SubjectRegistry), current state; their history is in `subject_event`. */
export const subject = onchainTable(
  "subject",
  (t) => ({
    subjectId: t.hex().primaryKey(),
    controller: t.hex().notNull(),
    authority: t.hex().notNull(),
    registeredAt: t.int8({ mode: "number" }).notNull(),
    registeredBlock: t.int8({ mode: "number" }).notNull(),
    /** Signature epoch (NonceInvalidated). */
    nonceEpoch: t.int8({ mode: "number" }).notNull(),
    recoveryNewController: t.hex(),
    recoveryExecutableAt: t.int8({ mode: "number" }),
    recoveryAuthority: t.hex(),
    controllerChanges: t.integer().notNull(),
  }),
  (table) => ({ controllerIdx: index().on(table.controller) }),
);

/**
 * What happened to a holder's identity and keys: registered, controller-changed (by the holder or
 * by a completed recovery), recovery-initiated, recovery-cancelled, nonce-invalidated,
 * nonces-cancelled, holder-key-set.
 */
export const subjectEvent = onchainTable(
  "subject_event",
  (t) => ({
    /** Ponder's event id (orders events chain-wide). */
    id: t.text().primaryKey(),
    subjectId: t.hex().notNull(),
    kind: t.text().notNull(),
    actor: t.hex(),
    previousController: t.hex(),
    newController: t.hex(),
    detail: t.json(),
    blockNumber: t.int8({ mode: "number" }).notNull(),
    timestamp: t.int8({ mode: "number" }).notNull(),
    txHash: t.hex().notNull(),
  }),
  (table) => ({ subjectBlockIdx: index().on(table.subjectId, table.blockNumber) }),
);

/** Data assets (AssetRegistry): issued, revoked, superseded. */
export const asset = onchainTable(
  "asset",
  (t) => ({
    assetId: t.hex().primaryKey(),
    subjectId: t.hex().notNull(),
    issuer: t.hex().notNull(),
    dataType: t.integer().notNull(),
    contentCommitment: t.hex().notNull(),
    payloadPointer: t.hex().notNull(),
    /** Unix seconds; 0 = no expiry. */
    validUntil: t.int8({ mode: "number" }).notNull(),
    /** "valid", "revoked" or "superseded". */
    status: t.text().notNull(),
    issuedAt: t.int8({ mode: "number" }).notNull(),
    issuedBlock: t.int8({ mode: "number" }).notNull(),
    issuedTx: t.hex().notNull(),
    revokedAt: t.int8({ mode: "number" }),
    revokedBy: t.hex(),
    revokeReason: t.integer(),
    supersededBy: t.hex(),
    supersedes: t.hex(),
    /** The return request this asset fulfilled, if any. */
    returnRequestId: t.hex(),
  }),
  (table) => ({
    subjectIdx: index().on(table.subjectId, table.issuedBlock),
    issuerIdx: index().on(table.issuer, table.issuedBlock),
    dataTypeIdx: index().on(table.dataType),
  }),
);

/** A holder's request to a department to return data (ReturnRequested and its fate). */
export const returnRequest = onchainTable(
  "return_request",
  (t) => ({
    requestId: t.hex().primaryKey(),
    subjectId: t.hex().notNull(),
    department: t.hex().notNull(),
    dataType: t.integer().notNull(),
    /** "open", "fulfilled", "declined" or "cancelled". */
    status: t.text().notNull(),
    requestedAt: t.int8({ mode: "number" }).notNull(),
    requestedBlock: t.int8({ mode: "number" }).notNull(),
    requestedTx: t.hex().notNull(),
    resolvedAt: t.int8({ mode: "number" }),
    resolvedBlock: t.int8({ mode: "number" }),
    resolvedTx: t.hex(),
    resolvedBy: t.hex(),
    assetId: t.hex(),
    declineReason: t.integer(),
  }),
  (table) => ({
    subjectIdx: index().on(table.subjectId, table.requestedBlock),
    departmentIdx: index().on(table.department, table.status),
  }),
);

/** A consumer's request for consent (AccessRequested carries its whole content) and its fate. */
export const accessRequest = onchainTable(
  "access_request",
  (t) => ({
    requestId: t.hex().primaryKey(),
    subjectId: t.hex().notNull(),
    consumer: t.hex().notNull(),
    /** "asset" or "dataType". */
    scope: t.text().notNull(),
    /** Asset ids, or `issuer << 32 | dataType` words (0x-hex). */
    targets: t.json().$type<`0x${string}`[]>().notNull(),
    fields: t.bigint().notNull(),
    purpose: t.integer().notNull(),
    /** Seconds the grants last from approval, as requested. */
    grantDuration: t.int8({ mode: "number" }).notNull(),
    maxReads: t.int8({ mode: "number" }).notNull(),
    /** After this the request can no longer be approved (unix seconds). */
    expiresAt: t.int8({ mode: "number" }).notNull(),
    nonce: t.bigint().notNull(),
    /** "pending", "approved", "rejected" or "cancelled" (contract: Open = pending). */
    status: t.text().notNull(),
    requestedAt: t.int8({ mode: "number" }).notNull(),
    requestedBlock: t.int8({ mode: "number" }).notNull(),
    requestedTx: t.hex().notNull(),
    resolvedAt: t.int8({ mode: "number" }),
    resolvedBlock: t.int8({ mode: "number" }),
    resolvedTx: t.hex(),
    resolvedBy: t.hex(),
    rejectReason: t.integer(),
  }),
  (table) => ({
    subjectIdx: index().on(table.subjectId, table.requestedBlock),
    consumerIdx: index().on(table.consumer, table.requestedBlock),
    statusIdx: index().on(table.status),
  }),
);

/** Grants (ConsentManager), current version. Each version is also a row of `grant_version`.
 * (`grant` is an SQL keyword, hence the name.) */
export const consentGrant = onchainTable(
  "consent_grant",
  (t) => ({
    grantId: t.hex().primaryKey(),
    subjectId: t.hex().notNull(),
    consumer: t.hex().notNull(),
    /** "asset" or "dataType". */
    scope: t.text().notNull(),
    target: t.hex().notNull(),
    purpose: t.integer().notNull(),
    fields: t.bigint().notNull(),
    maxReads: t.int8({ mode: "number" }).notNull(),
    /** Reads used in the current version. */
    reads: t.int8({ mode: "number" }).notNull(),
    version: t.int8({ mode: "number" }).notNull(),
    expiresAt: t.int8({ mode: "number" }).notNull(),
    /** The request the current version answered; null for a grant given without a request. */
    requestId: t.hex(),
    /** grantDuration of that request (for a direct grant: of the consumer's latest request to this
     * holder for this purpose, if any), seconds. */
    requestedDuration: t.int8({ mode: "number" }),
    /** expiresAt − issuedAt of the current version, seconds. */
    grantedDuration: t.int8({ mode: "number" }).notNull(),
    /** Block time of the current version. */
    issuedAt: t.int8({ mode: "number" }).notNull(),
    issuedBlock: t.int8({ mode: "number" }).notNull(),
    issuedTx: t.hex().notNull(),
    firstIssuedAt: t.int8({ mode: "number" }).notNull(),
    /** "active" or "revoked" (expired / exhausted are read from expiresAt and reads ≥ maxReads). */
    status: t.text().notNull(),
    revokedAt: t.int8({ mode: "number" }),
    revokedBy: t.hex(),
    revokedTx: t.hex(),
  }),
  (table) => ({
    subjectIdx: index().on(table.subjectId, table.issuedBlock),
    consumerIdx: index().on(table.consumer, table.issuedBlock),
    requestIdx: index().on(table.requestId),
    statusIdx: index().on(table.status, table.expiresAt),
  }),
);

/** Every version of every grant (GrantIssued), with its revocation. */
export const grantVersion = onchainTable(
  "grant_version",
  (t) => ({
    /** `${grantId}:${version}` */
    id: t.text().primaryKey(),
    grantId: t.hex().notNull(),
    version: t.int8({ mode: "number" }).notNull(),
    subjectId: t.hex().notNull(),
    consumer: t.hex().notNull(),
    fields: t.bigint().notNull(),
    maxReads: t.int8({ mode: "number" }).notNull(),
    reads: t.int8({ mode: "number" }).notNull(),
    expiresAt: t.int8({ mode: "number" }).notNull(),
    requestId: t.hex(),
    issuedAt: t.int8({ mode: "number" }).notNull(),
    issuedBlock: t.int8({ mode: "number" }).notNull(),
    issuedTx: t.hex().notNull(),
    revokedAt: t.int8({ mode: "number" }),
    revokedBy: t.hex(),
  }),
  (table) => ({ grantIdx: index().on(table.grantId) }),
);

/**
 * Reads (AccessRecorded), with what the asset says (data type, issuing department) and the
 * outcome the consumer reported later (AccessOutcomeRecorded).
 */
export const access = onchainTable(
  "access",
  (t) => ({
    accessId: t.hex().primaryKey(),
    grantId: t.hex().notNull(),
    grantVersion: t.int8({ mode: "number" }).notNull(),
    subjectId: t.hex().notNull(),
    consumer: t.hex().notNull(),
    assetId: t.hex().notNull(),
    /** The asset's data type and issuing department (null only if the asset was never indexed). */
    dataType: t.integer(),
    issuer: t.hex(),
    purpose: t.integer().notNull(),
    fields: t.bigint().notNull(),
    readNumber: t.int8({ mode: "number" }).notNull(),
    maxReads: t.int8({ mode: "number" }).notNull(),
    blockNumber: t.int8({ mode: "number" }).notNull(),
    timestamp: t.int8({ mode: "number" }).notNull(),
    txHash: t.hex().notNull(),
    logIndex: t.integer().notNull(),
    /** Local day of the read (see `stat_daily.day`). */
    day: t.integer().notNull(),
    outcome: t.integer(),
    outcomeReference: t.hex(),
    outcomeAt: t.int8({ mode: "number" }),
    outcomeBlock: t.int8({ mode: "number" }),
    outcomeTx: t.hex(),
  }),
  (table) => ({
    subjectBlockIdx: index().on(table.subjectId, table.blockNumber, table.logIndex),
    consumerBlockIdx: index().on(table.consumer, table.blockNumber, table.logIndex),
    grantIdx: index().on(table.grantId),
    dataTypeBlockIdx: index().on(table.dataType, table.blockNumber),
    issuerBlockIdx: index().on(table.issuer, table.blockNumber),
    purposeBlockIdx: index().on(table.purpose, table.blockNumber),
    blockIdx: index().on(table.blockNumber, table.logIndex),
    assetIdx: index().on(table.assetId),
    timestampIdx: index().on(table.timestamp),
  }),
);

/**
 * Pre-aggregated statistics: reads, outcomes reported and outcomes "approved" (code 1) per local
 * day × consumer × data type × purpose × department (the asset's issuer). An outcome counts on the
 * day of its read, so outcomes/reads is the ratio of that day's reads.
 */
export const statDaily = onchainTable(
  "stat_daily",
  (t) => ({
    /** `${day}:${consumer}:${dataType}:${purpose}:${department}` */
    id: t.text().primaryKey(),
    /** Days since 1970-01-01 in the rules file's time zone (timeZoneOffsetMinutes). */
    day: t.integer().notNull(),
    /** Unix seconds of that local day's start. */
    dayStart: t.int8({ mode: "number" }).notNull(),
    consumer: t.hex().notNull(),
    dataType: t.integer().notNull(),
    purpose: t.integer().notNull(),
    department: t.hex().notNull(),
    reads: t.int8({ mode: "number" }).notNull(),
    outcomes: t.int8({ mode: "number" }).notNull(),
    approved: t.int8({ mode: "number" }).notNull(),
  }),
  (table) => ({
    dayIdx: index().on(table.dayStart),
    consumerIdx: index().on(table.consumer, table.dayStart),
    dataTypeIdx: index().on(table.dataType, table.dayStart),
    purposeIdx: index().on(table.purpose, table.dayStart),
    departmentIdx: index().on(table.department, table.dayStart),
  }),
);

/**
 * Governance acts, one row per event: member-registered/-updated/-suspended/-reinstated,
 * data-type-defined/-schema-updated/-deprecated, issuer-authorised/-deauthorised,
 * recovery-delay-set, member-key-set, authority-updated, and the AccessManager's
 * operation-scheduled/-executed/-canceled, role-granted/-revoked/-label/-admin-changed/
 * -guardian-changed/-grant-delay-changed, target-function-role-updated, target-admin-delay-updated,
 * target-closed.
 */
export const governance = onchainTable(
  "governance",
  (t) => ({
    id: t.text().primaryKey(),
    kind: t.text().notNull(),
    /** The contract that emitted it: dataSafe, dataCatalog, keyDirectory or accessManager. */
    contract: t.text().notNull(),
    /** Who acted (the `by` of the event, or the transaction's sender where the event names none). */
    actor: t.hex().notNull(),
    /** What it acted on: a member, data type id, role id, operation id, target contract... */
    target: t.text().notNull(),
    detail: t.json().notNull(),
    blockNumber: t.int8({ mode: "number" }).notNull(),
    logIndex: t.integer().notNull(),
    timestamp: t.int8({ mode: "number" }).notNull(),
    txHash: t.hex().notNull(),
  }),
  (table) => ({
    blockIdx: index().on(table.blockNumber, table.logIndex),
    kindIdx: index().on(table.kind, table.blockNumber),
    targetIdx: index().on(table.target),
  }),
);

/** AccessManager operations (delayed governance calls): scheduled, executed or canceled. */
export const managerOperation = onchainTable(
  "manager_operation",
  (t) => ({
    /** `${opId}:${nonce}` */
    id: t.text().primaryKey(),
    /** The AccessManager's operation id (`operation_id` is a column name Ponder reserves). */
    opId: t.hex().notNull(),
    nonce: t.int8({ mode: "number" }).notNull(),
    caller: t.hex().notNull(),
    target: t.hex().notNull(),
    data: t.hex().notNull(),
    /** Unix seconds from which it may execute. */
    schedule: t.int8({ mode: "number" }).notNull(),
    /** "scheduled", "executed" or "canceled". */
    status: t.text().notNull(),
    scheduledBlock: t.int8({ mode: "number" }).notNull(),
    scheduledTx: t.hex().notNull(),
    closedBlock: t.int8({ mode: "number" }),
    closedTx: t.hex(),
  }),
  (table) => ({ operationIdx: index().on(table.opId) }),
);

/** Current members of the AccessManager's roles. */
export const managerRoleMember = onchainTable(
  "manager_role_member",
  (t) => ({
    /** `${roleId}:${account}` */
    id: t.text().primaryKey(),
    roleId: t.bigint().notNull(),
    account: t.hex().notNull(),
    active: t.boolean().notNull(),
    executionDelay: t.int8({ mode: "number" }).notNull(),
    since: t.int8({ mode: "number" }).notNull(),
    grantedBlock: t.int8({ mode: "number" }).notNull(),
    revokedBlock: t.int8({ mode: "number" }),
  }),
  (table) => ({ accountIdx: index().on(table.account) }),
);

/** Encryption keys published in the KeyDirectory (current; history in governance/subject_event). */
export const encryptionKey = onchainTable("encryption_key", (t) => ({
  /** `member:${address}` or `holder:${subjectId}` */
  id: t.text().primaryKey(),
  owner: t.hex().notNull(),
  /** KeySuite code: 0 none, 1 X25519Hpke, 2 Sm2. */
  suite: t.integer().notNull(),
  publicKey: t.hex().notNull(),
  setAt: t.int8({ mode: "number" }).notNull(),
  setBlock: t.int8({ mode: "number" }).notNull(),
}));

/**
 * Alerts raised by the rules file. One row per rule × subject of the rule × window: the first event
 * raises it, later events of the same window are added to it (count, up to 100 events listed).
 */
export const alert = onchainTable(
  "alert",
  (t) => ({
    /** `${rule}:${key}:${window}` */
    id: t.text().primaryKey(),
    rule: t.text().notNull(),
    /** The rule's kind (reads-per-hour, off-hours, many-holders, missing-outcome, long-grant). */
    kind: t.text().notNull(),
    severity: t.text().notNull(),
    summary: t.text().notNull(),
    consumer: t.hex(),
    subjectId: t.hex(),
    /** Block and time of the event that raised it. */
    blockNumber: t.int8({ mode: "number" }).notNull(),
    timestamp: t.int8({ mode: "number" }).notNull(),
    /** Start of the window the alert covers (unix seconds). */
    windowStart: t.int8({ mode: "number" }).notNull(),
    /** Events counted in it (may exceed the events listed). */
    count: t.int8({ mode: "number" }).notNull(),
    /** [{ kind, id, txHash }]: the events that raised it. */
    events: t.json().$type<{ kind: string; id: string; txHash: string }[]>().notNull(),
    updatedBlock: t.int8({ mode: "number" }).notNull(),
  }),
  (table) => ({
    ruleIdx: index().on(table.rule, table.blockNumber),
    blockIdx: index().on(table.blockNumber),
    consumerIdx: index().on(table.consumer),
  }),
);

/** Working state of the alert rules: counters per window (not for auditors). */
export const alertCounter = onchainTable("alert_counter", (t) => ({
  /** `${rule}:${key}:${window}` */
  id: t.text().primaryKey(),
  count: t.int8({ mode: "number" }).notNull(),
}));

/** Working state of the many-holders rule: which holders a consumer read in a window. */
export const alertSeen = onchainTable("alert_seen", (t) => ({
  /** `${rule}:${consumer}:${purpose}:${window}:${subjectId}` */
  id: t.text().primaryKey(),
}));

/** Working state: the consumer's latest access request per holder and purpose (for long-grant). */
export const latestRequest = onchainTable("latest_request", (t) => ({
  /** `${subjectId}:${consumer}:${purpose}` */
  id: t.text().primaryKey(),
  requestId: t.hex().notNull(),
  grantDuration: t.int8({ mode: "number" }).notNull(),
}));

/** Working state: how far the missing-outcome rule has looked (one row per rule). */
export const alertSweep = onchainTable("alert_sweep", (t) => ({
  rule: t.text().primaryKey(),
  /** Reads at or before this time have been checked. */
  checkedUntil: t.int8({ mode: "number" }).notNull(),
  lastRunAt: t.int8({ mode: "number" }).notNull(),
}));
