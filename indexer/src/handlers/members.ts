/*
 * Members (MemberDirectory, in DataSafe), the data catalog (DataCatalog), published encryption keys
 * (KeyDirectory) and the contracts' AccessManager authority changes: current state in their tables,
 * every act in `governance`.
 */
import { ponder } from "ponder:registry";
import { dataType, dataTypeIssuer, encryptionKey, member } from "ponder:schema";

import { MEMBER_KINDS, recordGovernance, subjectEventRow, where } from "./common.js";

ponder.on("DataSafe:MemberRegistered", async ({ event, context }) => {
  const { account, kind, name, metadataURI, by } = event.args;
  const at = where(event);
  await context.db.insert(member).values({
    account,
    kind,
    kindName: MEMBER_KINDS[kind] ?? `kind-${kind}`,
    name,
    metadataUri: metadataURI,
    status: "active",
    registeredBy: by,
    registeredAt: at.timestamp,
    registeredBlock: at.blockNumber,
    updatedAt: at.timestamp,
  });
  await recordGovernance(context, event, {
    kind: "member-registered",
    contract: "dataSafe",
    target: account,
    actor: by,
    detail: { kind: MEMBER_KINDS[kind] ?? kind, name, metadataURI },
  });
});

ponder.on("DataSafe:MemberUpdated", async ({ event, context }) => {
  const { account, name, metadataURI, by } = event.args;
  await context.db
    .update(member, { account })
    .set({ name, metadataUri: metadataURI, updatedAt: Number(event.block.timestamp) });
  await recordGovernance(context, event, {
    kind: "member-updated",
    contract: "dataSafe",
    target: account,
    actor: by,
    detail: { name, metadataURI },
  });
});

ponder.on("DataSafe:MemberSuspended", async ({ event, context }) => {
  const { account, reason, by } = event.args;
  await context.db
    .update(member, { account })
    .set({ status: "suspended", suspendedReason: reason, updatedAt: Number(event.block.timestamp) });
  await recordGovernance(context, event, {
    kind: "member-suspended",
    contract: "dataSafe",
    target: account,
    actor: by,
    detail: { reason },
  });
});

ponder.on("DataSafe:MemberReinstated", async ({ event, context }) => {
  const { account, by } = event.args;
  await context.db
    .update(member, { account })
    .set({ status: "active", suspendedReason: null, updatedAt: Number(event.block.timestamp) });
  await recordGovernance(context, event, {
    kind: "member-reinstated",
    contract: "dataSafe",
    target: account,
    actor: by,
  });
});

ponder.on("DataSafe:RecoveryDelaySet", async ({ event, context }) => {
  await recordGovernance(context, event, {
    kind: "recovery-delay-set",
    contract: "dataSafe",
    target: event.log.address,
    detail: { delay: event.args.delay },
  });
});

ponder.on("DataSafe:AuthorityUpdated", async ({ event, context }) => {
  await recordGovernance(context, event, {
    kind: "authority-updated",
    contract: "dataSafe",
    target: event.log.address,
    detail: { authority: event.args.authority },
  });
});

ponder.on("DataCatalog:AuthorityUpdated", async ({ event, context }) => {
  await recordGovernance(context, event, {
    kind: "authority-updated",
    contract: "dataCatalog",
    target: event.log.address,
    detail: { authority: event.args.authority },
  });
});

ponder.on("DataCatalog:DataTypeDefined", async ({ event, context }) => {
  const { dataType: id, name, schemaHash, schemaURI, by } = event.args;
  const at = where(event);
  await context.db.insert(dataType).values({
    id,
    name,
    schemaHash,
    schemaUri: schemaURI,
    status: "active",
    definedBy: by,
    definedAt: at.timestamp,
    definedBlock: at.blockNumber,
    updatedAt: at.timestamp,
  });
  await recordGovernance(context, event, {
    kind: "data-type-defined",
    contract: "dataCatalog",
    target: String(id),
    actor: by,
    detail: { name, schemaHash, schemaURI },
  });
});

ponder.on("DataCatalog:DataTypeSchemaUpdated", async ({ event, context }) => {
  const { dataType: id, schemaHash, schemaURI, by } = event.args;
  await context.db
    .update(dataType, { id })
    .set({ schemaHash, schemaUri: schemaURI, updatedAt: Number(event.block.timestamp) });
  await recordGovernance(context, event, {
    kind: "data-type-schema-updated",
    contract: "dataCatalog",
    target: String(id),
    actor: by,
    detail: { schemaHash, schemaURI },
  });
});

ponder.on("DataCatalog:DataTypeDeprecated", async ({ event, context }) => {
  const { dataType: id, by } = event.args;
  await context.db.update(dataType, { id }).set({ status: "deprecated", updatedAt: Number(event.block.timestamp) });
  await recordGovernance(context, event, {
    kind: "data-type-deprecated",
    contract: "dataCatalog",
    target: String(id),
    actor: by,
  });
});

ponder.on("DataCatalog:IssuerAuthorised", async ({ event, context }) => {
  const { dataType: id, issuer, by } = event.args;
  const timestamp = Number(event.block.timestamp);
  await context.db
    .insert(dataTypeIssuer)
    .values({ id: `${id}:${issuer.toLowerCase()}`, dataType: id, issuer, authorised: true, authorisedAt: timestamp })
    .onConflictDoUpdate({ authorised: true, authorisedAt: timestamp, deauthorisedAt: null });
  await recordGovernance(context, event, {
    kind: "issuer-authorised",
    contract: "dataCatalog",
    target: issuer,
    actor: by,
    detail: { dataType: id },
  });
});

ponder.on("DataCatalog:IssuerDeauthorised", async ({ event, context }) => {
  const { dataType: id, issuer, by } = event.args;
  await context.db
    .update(dataTypeIssuer, { id: `${id}:${issuer.toLowerCase()}` })
    .set({ authorised: false, deauthorisedAt: Number(event.block.timestamp) });
  await recordGovernance(context, event, {
    kind: "issuer-deauthorised",
    contract: "dataCatalog",
    target: issuer,
    actor: by,
    detail: { dataType: id },
  });
});

ponder.on("KeyDirectory:MemberKeySet", async ({ event, context }) => {
  const { member: account, suite, publicKey } = event.args;
  const at = where(event);
  await context.db
    .insert(encryptionKey)
    .values({
      id: `member:${account.toLowerCase()}`,
      owner: account,
      suite,
      publicKey,
      setAt: at.timestamp,
      setBlock: at.blockNumber,
    })
    .onConflictDoUpdate({ suite, publicKey, setAt: at.timestamp, setBlock: at.blockNumber });
  await recordGovernance(context, event, {
    kind: "member-key-set",
    contract: "keyDirectory",
    target: account,
    actor: account,
    detail: { suite, publicKey },
  });
});

ponder.on("KeyDirectory:HolderKeySet", async ({ event, context }) => {
  const { subjectId, controller, suite, publicKey } = event.args;
  const at = where(event);
  await context.db
    .insert(encryptionKey)
    .values({
      id: `holder:${subjectId.toLowerCase()}`,
      owner: subjectId,
      suite,
      publicKey,
      setAt: at.timestamp,
      setBlock: at.blockNumber,
    })
    .onConflictDoUpdate({ suite, publicKey, setAt: at.timestamp, setBlock: at.blockNumber });
  await subjectEventRow(context, event, subjectId, "holder-key-set", {
    actor: controller,
    detail: { suite, publicKey },
  });
});
