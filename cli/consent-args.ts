/*
 * What the holder and consumer commands share: parsers for durations, data-type targets and field
 * lists; the schema documents a phone checks field names with; the purpose wording; the way a
 * checked request is shown; and the mapping of the QR flow's SDK errors to the CLI's exit codes
 * (a malformed URI or QR is bad input, a counter screen that lies or a request that cannot be
 * approved is a refusal).
 */
import { readFile } from "node:fs/promises";

import { DATA_TYPES, PURPOSES, schemaOf } from "../scripts/catalog.js";
import { type DataSafeClient, fieldMask, fieldNamesOf } from "../sdk/index.js";
import { type CheckedRequest, RequestNotApprovableError, type SchemaSource, UriMismatchError } from "../sdk/scan.js";
import { UriFormatError } from "../sdk/uri.js";
import { BadInputError, RefusedError } from "./errors.js";
import { QrTooLargeError } from "./qr.js";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** A duration: seconds, or a number with a unit (`90s`, `15m`, `12h`, `30d`). */
export function duration(field: string): (value: string) => number {
  return (value) => {
    const match = /^(\d+)([smhd]?)$/.exec(value);
    if (match === null) throw new BadInputError(`expected seconds or a number with s/m/h/d, got ${value}`, { field });
    const seconds = Number(match[1]) * UNIT_SECONDS[match[2] === "" ? "s" : match[2]];
    if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds >= 2 ** 40) {
      throw new BadInputError(`expected a positive duration, got ${value}`, { field });
    }
    return seconds;
  };
}

/** A data type, optionally with its department: `8` or `8@0xIssuer`. Repeatable. */
export interface TypeArg {
  dataType: number;
  issuer: string | undefined;
}

export function typeArg(field: string): (value: string, previous: TypeArg[] | undefined) => TypeArg[] {
  return (value, previous) => {
    const match = /^(\d{1,10})(?:@(0x[0-9a-fA-F]{40}))?$/.exec(value);
    const dataType = match === null ? NaN : Number(match[1]);
    if (match === null || dataType < 1 || dataType >= 2 ** 32) {
      throw new BadInputError(`expected a data type id, optionally @department address (8 or 8@0x…), got ${value}`, {
        field,
      });
    }
    return [...(previous ?? []), { dataType, issuer: match[2] }];
  };
}

/** A repeatable 32-byte id. */
export function ids(field: string): (value: string, previous: string[] | undefined) => string[] {
  return (value, previous) => {
    if (!/^0x[0-9a-fA-F]{64}$/.test(value)) {
      throw new BadInputError(`expected a 0x-prefixed 32-byte hex id, got ${value}`, { field });
    }
    return [...(previous ?? []), value.toLowerCase()];
  };
}

/** A comma-separated list of field names. */
export function names(field: string): (value: string) => string[] {
  return (value) => {
    const list = value.split(",").map((name) => name.trim());
    if (list.some((name) => name === "")) throw new BadInputError(`has an empty field name: ${value}`, { field });
    return list;
  };
}

/** Each type's department: the one given, or the only department the catalog authorises for it. */
export async function withIssuers(
  client: DataSafeClient,
  types: TypeArg[],
  field: string,
): Promise<{ dataType: number; issuer: string }[]> {
  return Promise.all(
    types.map(async ({ dataType, issuer }) => {
      if (issuer !== undefined) return { dataType, issuer };
      const issuers = await client.catalog.issuersOf(dataType);
      if (issuers.length !== 1) {
        throw new BadInputError(
          `data type ${dataType} has ${issuers.length} authorised departments: name one as ${dataType}@0x…`,
          { field },
        );
      }
      return { dataType, issuer: issuers[0] };
    }),
  );
}

/** Schema documents by type: from `--schemas FILE` (a JSON array of documents with `id` and `fields`), else the seed catalog. */
export async function schemaSource(file: string | undefined): Promise<SchemaSource> {
  let documents: unknown[];
  if (file === undefined) documents = DATA_TYPES.map(schemaOf);
  else {
    try {
      documents = JSON.parse(await readFile(file, "utf8")) as unknown[];
    } catch (error) {
      throw new BadInputError(`cannot read a JSON array of schema documents (${(error as Error).message})`, {
        field: "--schemas",
        file,
      });
    }
    if (!Array.isArray(documents)) throw new BadInputError("expected a JSON array", { field: "--schemas", file });
  }
  const byType = new Map<number, unknown>();
  for (const doc of documents) {
    const id = (doc as { id?: unknown } | null)?.id;
    if (typeof id === "number") byType.set(id, doc);
  }
  return (dataType) => byType.get(dataType);
}

/** The field names of a schema document. */
export async function schemaFieldsOf(schemas: SchemaSource, dataType: number, field: string): Promise<string[]> {
  const doc = (await schemas(dataType)) as { fields?: { name?: unknown }[] } | undefined;
  if (doc === undefined || !Array.isArray(doc.fields)) {
    throw new BadInputError(`no schema with fields for data type ${dataType} (pass --schemas FILE)`, { field });
  }
  return doc.fields.map((f) => String(f.name));
}

/** The network's wording of a purpose code (the seed convention), or the code. */
export function purposeText(purpose: number): string {
  return PURPOSES[purpose] === undefined ? `purpose ${purpose}` : `${PURPOSES[purpose]} (purpose ${purpose})`;
}

/** What the phone shows before signing: every line read from the chain and equal to the QR's. */
export function describeRequest(checked: CheckedRequest): string {
  const s = checked.shown;
  const days = s.grantDuration % 86_400 === 0 ? `${s.grantDuration / 86_400} day(s)` : `${s.grantDuration} s`;
  const lines = [
    `${s.consumerName} (${checked.consumer}) asks for:`,
    ...checked.targets.map(
      (t) => `  - ${t.dataTypeName || `type ${t.dataType}`} (type ${t.dataType}) issued by ${t.issuerName || t.issuer}`,
    ),
    `  fields:   ${s.fields === 0n ? "the whole record" : s.fieldNames.join(", ")}`,
    `  purpose:  ${purposeText(s.purpose)}`,
    `  for:      ${days} from approval, ${s.maxReads} read(s) per record`,
    `  request:  ${checked.requestId} (open until ${new Date(checked.request.expiresAt * 1000).toISOString()})`,
  ];
  return lines.join("\n");
}

/** A checked request as JSON. */
export function checkedJson(checked: CheckedRequest) {
  return {
    requestId: checked.requestId,
    consumer: checked.consumer,
    consumerName: checked.shown.consumerName,
    purpose: checked.shown.purpose,
    dataTypes: checked.shown.dataTypes,
    fields: checked.shown.fields,
    fieldNames: checked.shown.fieldNames,
    grantDuration: checked.shown.grantDuration,
    maxReads: checked.shown.maxReads,
    targets: checked.targets,
    request: checked.request,
  };
}

/** The field names a mask selects in each type's schema, checked to agree (one mask covers every target). */
export async function maskOf(
  schemas: SchemaSource,
  dataTypes: number[],
  fields: string[] | undefined,
): Promise<{ mask: bigint; names: string[] }> {
  if (fields === undefined) return { mask: 0n, names: [] };
  let mask: bigint | undefined;
  for (const dataType of dataTypes) {
    const schema = await schemaFieldsOf(schemas, dataType, "--fields");
    let m: bigint;
    try {
      m = fieldMask(schema, fields);
    } catch (error) {
      throw new BadInputError(`${(error as Error).message} (type ${dataType} has ${schema.join(", ")})`, {
        field: "--fields",
      });
    }
    if (mask !== undefined && m !== mask) {
      throw new BadInputError("the fields sit at different positions in the types' schemas: request them separately", {
        field: "--fields",
      });
    }
    mask = m;
  }
  const first = dataTypes[0];
  return { mask: mask ?? 0n, names: fieldNamesOf(await schemaFieldsOf(schemas, first, "--fields"), mask ?? 0n) };
}

/** The QR flow's SDK errors as the CLI's: bad input (2) or refused (3). */
export function asCliError(error: unknown, field: string): unknown {
  if (error instanceof UriFormatError) {
    return new BadInputError(error.shortMessage, { field: `${field} (${error.part})` }, { cause: error });
  }
  if (error instanceof QrTooLargeError) return new BadInputError(error.message, { field }, { cause: error });
  if (error instanceof UriMismatchError) {
    return new RefusedError(`${error.shortMessage}: not signing`, { field: error.part }, { cause: error });
  }
  if (error instanceof RequestNotApprovableError) return new RefusedError(error.shortMessage, {}, { cause: error });
  return error;
}
