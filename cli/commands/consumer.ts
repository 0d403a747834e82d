/*
 * consumer: what a bank's counter does. `request` asks a holder for consent and shows the request
 * as a QR code (in the terminal, and as a PNG for the counter screen) that the holder's phone
 * scans; `relay` sends an approval that came back as a QR; `read` records a read under the grant;
 * `outcome` reports what came of it; `reads` lists the consumer's own reads.
 */
import type { Command } from "commander";

import { address, bytes32, integer } from "../args.js";
import {
  asCliError,
  duration,
  ids,
  maskOf,
  names,
  purposeText,
  schemaFieldsOf,
  schemaSource,
  type TypeArg,
  typeArg,
  withIssuers,
} from "../consent-args.js";
import { BadInputError, RefusedError } from "../errors.js";
import { readQrPng, terminalQr, writeQrPng } from "../qr.js";
import type { Runtime } from "../runtime.js";
import { type DataSafeClient, type HolderAsset, approveUri, dataTypeTarget, fieldMask } from "../../sdk/index.js";
import { relayApprovalUri } from "../../sdk/scan.js";

interface RequestOptions {
  subject: string;
  dataType?: TypeArg[];
  asset?: string[];
  purpose: number;
  duration: number;
  maxReads: number;
  fields?: string[];
  expiresIn?: number;
  png?: string;
  schemas?: string;
  terminalQr: boolean;
}

export function register(program: Command, runtime: Runtime): void {
  const consumer = program
    .command("consumer")
    .description("a consumer (a bank, a school): request consent with a QR code, read, report outcomes");

  consumer
    .command("request")
    .description("ask a holder for consent; print the request as a QR code and write it as a PNG")
    .requiredOption("--subject <id>", "the holder's subject id (0x + 64 hex)", bytes32("--subject"))
    .option(
      "--data-type <type[@department]>",
      "a data type asked for (repeatable): 8, or 8@0xDepartment",
      typeArg("--data-type"),
    )
    .option("--asset <id>", "an asset asked for by id (repeatable; instead of --data-type)", ids("--asset"))
    .requiredOption(
      "--purpose <code>",
      "purpose code (1 = personal loan in the seed network)",
      integer("--purpose", 0, 65_535),
    )
    .requiredOption(
      "--duration <time>",
      "how long the grants last from approval: seconds or 90s, 15m, 12h, 30d",
      duration("--duration"),
    )
    .option("--max-reads <n>", "reads allowed per grant", integer("--max-reads", 1, 2 ** 32 - 1), 1)
    .option("--fields <names>", "only these fields, comma-separated (default: the whole record)", names("--fields"))
    .option("--expires-in <time>", "how long the holder has to approve (default 7d)", duration("--expires-in"))
    .option("--png <file>", "write the QR code to this PNG file (what the counter screen shows)")
    .option("--schemas <file>", "JSON array of schema documents for --fields (default: the seed catalog)")
    .option("--no-terminal-qr", "do not draw the QR code in the terminal")
    .action(async (options: RequestOptions) => {
      const types = options.dataType ?? [];
      const assets = options.asset ?? [];
      if ((types.length === 0) === (assets.length === 0)) {
        throw new BadInputError("name what is asked: --data-type (repeatable) or --asset (repeatable), not both", {
          field: "--data-type",
        });
      }
      const client = await runtime.client(true);
      const me = await (await runtime.signer()).getAddress();
      const member = await client.members.get(me);
      if (member.kind !== "Consumer" || member.status !== "Active") {
        throw new RefusedError(`${me} is not an active consumer (${member.kind}, ${member.status})`, {
          field: "--keystore",
        });
      }
      const targets =
        types.length > 0
          ? (await withIssuers(client, types, "--data-type")).map((t) => ({
              ...t,
              target: dataTypeTarget(t.issuer, t.dataType),
            }))
          : await assetTargets(client, options.subject, assets);
      const dataTypes = [...new Set(targets.map((t) => t.dataType))].sort((a, b) => a - b);
      const schemas = await schemaSource(options.schemas);
      const { mask, names: fieldNames } = await maskOf(schemas, dataTypes, options.fields);
      const expiresAt = options.expiresIn === undefined ? undefined : (await latestTime(runtime)) + options.expiresIn;
      const { requestId, request, receipt } = await (
        await client.consent.requestAccess({
          subjectId: options.subject,
          scope: types.length > 0 ? "DataType" : "Asset",
          targets: targets.map((t) => t.target),
          fields: mask,
          purpose: options.purpose,
          grantDuration: options.duration,
          maxReads: options.maxReads,
          expiresAt,
        })
      ).wait();
      const { chainId } = await (await runtime.provider()).getNetwork();
      const uri = approveUri({
        chainId,
        dataSafe: client.address,
        requestId,
        shown: {
          consumerName: member.name,
          purpose: request.purpose,
          dataTypes,
          fields: request.fields,
          fieldNames,
          grantDuration: request.grantDuration,
          maxReads: request.maxReads,
        },
      });
      const png =
        options.png === undefined
          ? undefined
          : await writeQrPng(options.png, uri).catch((e) => Promise.reject(asCliError(e, "--png")));
      const drawn = await terminalQr(uri).catch((e) => Promise.reject(asCliError(e, "uri")));
      runtime.emit(
        { requestId, uri, qrVersion: drawn.version, png: options.png, transactionHash: receipt.hash, request },
        () =>
          [
            ...(options.terminalQr ? [drawn.drawing] : []),
            `Request ${requestId} sent (transaction ${receipt.hash}).`,
            `${member.name} asks for ${fieldNames.length === 0 ? "the whole record" : fieldNames.join(", ")} of ` +
              `type(s) ${dataTypes.join(", ")} for ${purposeText(request.purpose)}.`,
            `Scan with the holder's app: ${uri}`,
            `QR version ${drawn.version} (error correction M)${png === undefined ? "" : `, written to ${options.png}`}.`,
          ].join("\n"),
      );
    });

  consumer
    .command("relay")
    .description("send the holder's approval that came back as a QR code or URI (the consumer pays)")
    .option("--uri <uri>", "the datasafe:1/approval URI")
    .option("--qr <file>", "a PNG of the approval QR code")
    .action(async (options: { uri?: string; qr?: string }) => {
      const uri = await uriFrom(options);
      const client = await runtime.client(true);
      const { requestId, grants, receipt } = await (
        await relayApprovalUri(client, uri).catch((e) => Promise.reject(asCliError(e, "--uri")))
      ).wait();
      runtime.emit(
        { requestId, grantIds: grants.map((g) => g.grantId), grants, transactionHash: receipt.hash },
        `Request ${requestId} approved: ${grants.length} grant(s) ${grants.map((g) => g.grantId).join(", ")}.`,
      );
    });

  consumer
    .command("read")
    .description("record a read of a holder's record under the consumer's grant")
    .requiredOption("--subject <id>", "the holder's subject id", bytes32("--subject"))
    .option(
      "--data-type <type[@department]>",
      "read that department's current record of the type (a data-type grant)",
      typeArg("--data-type"),
    )
    .option("--asset <id>", "read this asset (an asset grant)", bytes32("--asset"))
    .requiredOption("--purpose <code>", "the grant's purpose code", integer("--purpose", 0, 65_535))
    .option("--fields <names>", "only these fields (default: the whole record)", names("--fields"))
    .option("--schemas <file>", "JSON array of schema documents for --fields (default: the seed catalog)")
    .action(
      async (options: {
        subject: string;
        dataType?: TypeArg[];
        asset?: string;
        purpose: number;
        fields?: string[];
        schemas?: string;
      }) => {
        const types = options.dataType ?? [];
        if ((types.length === 0) === (options.asset === undefined) || types.length > 1) {
          throw new BadInputError("name one record: --data-type TYPE[@department] or --asset ID", {
            field: "--data-type",
          });
        }
        const client = await runtime.client(true);
        const held = await client.events.assetsOf(options.subject);
        let asset: HolderAsset | undefined;
        if (options.asset !== undefined) {
          asset = held.find((a) => a.assetId === options.asset);
          if (asset === undefined)
            throw new BadInputError(`the holder has no asset ${options.asset}`, { field: "--asset" });
        } else {
          const [{ dataType, issuer }] = await withIssuers(client, types, "--data-type");
          asset = held.find(
            (a) => a.valid && a.key.dataType === dataType && a.key.issuer.toLowerCase() === issuer.toLowerCase(),
          );
          if (asset === undefined) {
            throw new RefusedError(`the holder has no valid record of type ${dataType} from ${issuer}`, {
              field: "--data-type",
            });
          }
        }
        const fields =
          options.fields === undefined
            ? 0n
            : fieldMask(await schemaFieldsFor(options.schemas, asset.key.dataType), options.fields);
        const access = await (
          await client.accessLog.recordAccess({
            asset: asset.key,
            scope: options.asset !== undefined ? "Asset" : "DataType",
            purpose: options.purpose,
            fields,
          })
        ).wait();
        runtime.emit(
          {
            accessId: access.accessId,
            assetId: access.assetId,
            grantId: access.grantId,
            version: access.version,
            readNumber: access.readNumber,
            maxReads: access.maxReads,
            fields: access.fields,
            transactionHash: access.receipt.hash,
          },
          `Read ${access.readNumber} of ${access.maxReads} recorded: access ${access.accessId} ` +
            `(${asset.dataTypeName || `type ${asset.key.dataType}`} from ${asset.issuerName || asset.key.issuer}).`,
        );
      },
    );

  consumer
    .command("outcome")
    .description("report the outcome of a read (once per read)")
    .requiredOption("--subject <id>", "the holder's subject id", bytes32("--subject"))
    .requiredOption("--access <id>", "the access id `consumer read` printed", bytes32("--access"))
    .requiredOption(
      "--outcome <code>",
      "outcome code, non-zero (1 = loan approved in the seed network)",
      integer("--outcome", 1, 65_535),
    )
    .option("--reference <hash>", "commitment to the consumer's own business record", bytes32("--reference"))
    .action(async (options: { subject: string; access: string; outcome: number; reference?: string }) => {
      const client = await runtime.client(true);
      const me = await (await runtime.signer()).getAddress();
      const read = (await client.events.usageOf(options.subject)).find((u) => u.accessId === options.access);
      if (read === undefined)
        throw new BadInputError(`no read ${options.access} of this holder`, { field: "--access" });
      if (read.consumer.toLowerCase() !== me.toLowerCase()) {
        throw new BadInputError(`read ${options.access} is ${read.consumer}'s, not yours`, { field: "--access" });
      }
      const grant = (await client.events.grantsOf(options.subject)).find((g) => g.grantId === read.grantId);
      if (grant === undefined)
        throw new BadInputError(`no grant ${read.grantId} of this holder`, { field: "--access" });
      const { accessId, outcome, receipt } = await (
        await client.accessLog.recordOutcome(
          { key: grant.key, version: read.grantVersion, readNumber: read.readNumber },
          options.outcome,
          options.reference,
        )
      ).wait();
      runtime.emit(
        { accessId, outcome, transactionHash: receipt.hash },
        `Outcome ${outcome} recorded for access ${accessId}.`,
      );
    });

  consumer
    .command("reads")
    .description("the consumer's own reads (of one holder with --subject), oldest first")
    .option("--subject <id>", "only this holder's", bytes32("--subject"))
    .option("--consumer <address>", "whose reads (default: the keystore's account)", address("--consumer"))
    .action(async (options: { subject?: string; consumer?: string }) => {
      const who = options.consumer ?? (await (await runtime.signer()).getAddress());
      const client = await runtime.client(false);
      const reads = await client.events.accessTrail({ consumer: who, subjectId: options.subject });
      runtime.emit(reads, () =>
        reads.length === 0
          ? "(no reads)"
          : reads
              .map(
                (r) =>
                  `${new Date(r.readAt * 1000).toISOString()}  ${r.dataTypeName || `type ${r.dataType}`} from ${r.issuerName || r.issuer}` +
                  `  read ${r.readNumber}/${r.maxReads}  ${purposeText(r.purpose)}` +
                  `  outcome ${r.outcome ?? "-"}  access ${r.accessId}`,
              )
              .join("\n"),
      );
    });
}

/** A URI from --uri or the QR code in --qr (exactly one). */
export async function uriFrom(options: { uri?: string; qr?: string }): Promise<string> {
  if ((options.uri === undefined) === (options.qr === undefined)) {
    throw new BadInputError("give the request as --uri URI or --qr FILE.png (one of them)", { field: "--uri" });
  }
  return options.uri ?? (await readQrPng(options.qr as string, "--qr")).text;
}

async function assetTargets(client: DataSafeClient, subjectId: string, assets: string[]) {
  const held = await client.events.assetsOf(subjectId);
  return assets.map((assetId) => {
    const found = held.find((a) => a.assetId === assetId);
    if (found === undefined) throw new BadInputError(`the holder has no asset ${assetId}`, { field: "--asset" });
    return { target: assetId, dataType: found.key.dataType, issuer: found.key.issuer };
  });
}

async function schemaFieldsFor(file: string | undefined, dataType: number): Promise<string[]> {
  return schemaFieldsOf(await schemaSource(file), dataType, "--fields");
}

async function latestTime(runtime: Runtime): Promise<number> {
  const block = await (await runtime.provider()).getBlock("latest");
  if (block === null) throw new BadInputError("the node returned no latest block", { field: "--rpc" });
  return block.timestamp;
}
