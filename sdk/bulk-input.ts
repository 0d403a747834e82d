import { open } from "node:fs/promises";
import path from "node:path";

import { type CsvError, parse as parseCsv } from "csv-parse/sync";
import { getAddress, isAddress, keccak256 } from "ethers";
import { z } from "zod";

import type { DataSafeClient } from "./client.js";
import { DataSafeError } from "./errors.js";
import type { Address, Hex } from "./types.js";

/*
 * A department's import file, read into rows `importAssets` issues (see bulk.ts). Everything that
 * can be checked before a transaction is sent is checked here, and every problem of every row is
 * reported at once in one `ImportInputError`: a clerk fixes the file in one pass.
 *
 * Format: CSV with a header row, or JSONL (one JSON object a line), the fields of the contract's
 * `NewAsset` by name:
 *
 *   subjectId          required  0x + 64 hex: the holder's pseudonymous id (not zero)
 *   dataType           required  catalog type id, a decimal uint32 (1-4294967295)
 *   contentCommitment  required  0x + 64 hex: salted commitment or Merkle root (not zero)
 *   payloadPointer     optional  0x + 64 hex: locator of the encrypted payload; empty = zero
 *   validUntil         optional  unix seconds (uint40); empty or 0 = no expiry; not in the past
 *   issuer             optional  the department's address: if given it must be the importing
 *                                account (a file prepared for one department is not imported by another)
 *
 * Blank lines are skipped. A row's number is the line it is on in the file (the CSV header is
 * line 1), as a text editor or a spreadsheet shows it.
 */

/** The columns (CSV) or keys (JSONL) of an import file. */
export const IMPORT_COLUMNS = [
  "subjectId",
  "dataType",
  "contentCommitment",
  "payloadPointer",
  "validUntil",
  "issuer",
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];
/** The columns every file must have. */
export const REQUIRED_IMPORT_COLUMNS: readonly ImportColumn[] = ["subjectId", "dataType", "contentCommitment"];

/** The file formats read. */
export type ImportFormat = "csv" | "jsonl";

/** Default limits of an import file (each can be lowered or raised per call). */
export const IMPORT_LIMITS = {
  /** Bytes of the file: 256 MiB, about 1.3 million CSV rows. */
  maxFileBytes: 256 * 1024 * 1024,
  /** Data rows of the file. */
  maxRows: 1_000_000,
} as const;

const ZERO_32 = `0x${"0".repeat(64)}`;

/** One asset to issue, checked, with the id the contract will give it. */
export interface ImportRow {
  /** The line of the file it is on (the CSV header is line 1). */
  row: number;
  subjectId: Hex;
  dataType: number;
  contentCommitment: Hex;
  payloadPointer: Hex;
  /** Unix seconds; 0 = no expiry. */
  validUntil: number;
  /** `keccak256(abi.encode(issuer, subjectId, dataType, contentCommitment))`: content-addressed. */
  assetId: Hex;
}

/** One problem of an import file: which row (0 = the file as a whole), which field, what is wrong. */
export interface ImportIssue {
  row: number;
  /** A column name, or `file` / `record` for what is not one field. */
  field: string;
  message: string;
}

/** Issues listed in an `ImportInputError`'s message; all of them are in `issues`. */
const ISSUES_IN_MESSAGE = 20;

/**
 * An import file was refused before anything was sent: `issues` lists every bad row with its row
 * number, field and message (sorted by row).
 * @example
 * try { await readImportFile("returns.csv", department); }
 * catch (error) { if (error instanceof ImportInputError) for (const i of error.issues) console.log(i.row, i.field, i.message); }
 */
export class ImportInputError extends DataSafeError {
  /** The file (or the name given to the text) read. */
  readonly source: string;
  readonly issues: readonly ImportIssue[];

  constructor(source: string, issues: ImportIssue[]) {
    const sorted = [...issues].sort((a, b) => a.row - b.row);
    const rows = new Set(sorted.map((i) => i.row)).size;
    const shown = sorted.slice(0, ISSUES_IN_MESSAGE).map((i) => `  ${where(i)}: ${i.field}: ${i.message}`);
    if (sorted.length > ISSUES_IN_MESSAGE) shown.push(`  ... and ${sorted.length - ISSUES_IN_MESSAGE} more`);
    super(`${source}: ${sorted.length} ${plural(sorted.length, "problem")} in ${rows} ${plural(rows, "row")}`, {
      details: `nothing was sent\n${shown.join("\n")}`,
    });
    this.name = "ImportInputError";
    this.source = source;
    this.issues = sorted;
  }
}

/** Options of `parseImportText`. */
export interface ParseImportOptions {
  format: ImportFormat;
  /** The importing department: asset ids are computed for it, an `issuer` column must name it. */
  issuer: Address;
  /** Name of the text in errors (a file name). */
  source?: string;
  /** Maximum data rows (default `IMPORT_LIMITS.maxRows`). */
  maxRows?: number;
  /** Unix seconds: a `validUntil` before it is refused (the chain's time; default the clock's). */
  now?: number;
}

/** Options of `readImportFile`. */
export interface ReadImportOptions {
  /** Default: from the extension, `.csv` or `.jsonl`/`.ndjson`. */
  format?: ImportFormat;
  /** Maximum bytes of the file (default `IMPORT_LIMITS.maxFileBytes`). */
  maxFileBytes?: number;
  /** Maximum data rows (default `IMPORT_LIMITS.maxRows`). */
  maxRows?: number;
}

/**
 * Reads a department's import file and checks it: syntax, columns, every field (hex lengths,
 * addresses, numbers), duplicates inside the file, the file's size and row count, and against the
 * chain once per data type: defined and active in the catalog, and the importing account an active
 * department authorised for it; a `validUntil` not before the chain's time.
 * @param department a client connected to the department's signer
 * @returns the rows, in file order
 * @throws ImportInputError listing every problem; nothing is sent
 * @example
 * const rows = await readImportFile("returns-2026-11.csv", safe.connect(departmentWallet));
 * const report = await importAssets(safe.connect(departmentWallet), rows, { journal: "returns-2026-11.journal" });
 */
export async function readImportFile(
  file: string,
  department: DataSafeClient,
  options: ReadImportOptions = {},
): Promise<ImportRow[]> {
  const source = path.basename(file);
  const format = options.format ?? formatOf(file);
  const maxFileBytes = options.maxFileBytes ?? IMPORT_LIMITS.maxFileBytes;
  const issuer = await signerAddressOf(department);
  const handle = await open(file, "r");
  let text: string;
  try {
    const { size } = await handle.stat();
    if (size > maxFileBytes) {
      throw new ImportInputError(source, [
        { row: 0, field: "file", message: `${size} bytes, more than the limit of ${maxFileBytes}` },
      ]);
    }
    text = await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
  const now = await chainTime(department);
  const { rows, issues } = checkText(text, { format, issuer, source, maxRows: options.maxRows, now });
  issues.push(...(await chainIssues(rows, department, issuer)));
  if (issues.length > 0) throw new ImportInputError(source, issues);
  return rows;
}

/**
 * Parses and checks an import file's text offline (no chain): syntax, columns, fields, duplicates,
 * row count. `readImportFile` also checks the catalog; use this for a dry run without a node.
 * @throws ImportInputError listing every problem
 */
export function parseImportText(text: string, options: ParseImportOptions): ImportRow[] {
  const { rows, issues } = checkText(text, options);
  if (issues.length > 0) throw new ImportInputError(options.source ?? "input", issues);
  return rows;
}

/** The format an import file's extension names. */
export function formatOf(file: string): ImportFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  throw new ImportInputError(path.basename(file), [
    { row: 0, field: "file", message: `unknown format "${ext}": expected .csv, .jsonl or .ndjson (or pass format)` },
  ]);
}

// ---------------------------------------------------------------------------------------------

const hex32 = z
  .string()
  .trim()
  .regex(/^0x[0-9a-fA-F]{64}$/, "expected 32 bytes as 0x followed by 64 hex digits")
  .transform((v) => v.toLowerCase());
const nonZeroHex32 = hex32.refine((v) => v !== ZERO_32, "must not be zero");
/** An optional field: an empty CSV cell or a JSON null means the default, as an absent key does. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" || v === null ? undefined : v), schema.optional());
/** A decimal unsigned integer of `bits` bits, given as a JSON number or a string of digits. */
const uintOf = (bits: number) =>
  z
    .union([z.number(), z.string().trim()])
    .refine((v) => (typeof v === "number" ? Number.isSafeInteger(v) && v >= 0 : /^\d+$/.test(v)), {
      message: "expected a decimal whole number",
    })
    .transform((v) => BigInt(v))
    .refine((v) => v < 1n << BigInt(bits), { message: `expected a uint${bits} (below 2^${bits})` })
    .transform((v) => Number(v));

const recordSchema = z.strictObject({
  subjectId: nonZeroHex32,
  dataType: uintOf(32).refine((v) => v > 0, "expected a type id above 0"),
  contentCommitment: nonZeroHex32,
  payloadPointer: optional(hex32).transform((v) => v ?? ZERO_32),
  validUntil: optional(uintOf(40)).transform((v) => v ?? 0),
  issuer: optional(
    z
      .string()
      .trim()
      .refine((v) => isAddress(v), "expected an address (0x followed by 40 hex digits, checksum if mixed case)")
      .transform((v) => getAddress(v)),
  ),
});

interface RawRecord {
  row: number;
  value: unknown;
}

function checkText(text: string, options: ParseImportOptions): { rows: ImportRow[]; issues: ImportIssue[] } {
  const maxRows = options.maxRows ?? IMPORT_LIMITS.maxRows;
  const issuer = getAddress(options.issuer);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const issuerWord = issuer.slice(2).toLowerCase().padStart(64, "0");
  const issues: ImportIssue[] = [];
  const records = options.format === "csv" ? csvRecords(text, issues) : jsonlRecords(text, issues);
  if (records.length === 0 && issues.length === 0) issues.push({ row: 0, field: "file", message: "has no rows" });
  if (records.length > maxRows) {
    // Past the limit nothing more is checked: the file is refused whatever its rows hold.
    return {
      rows: [],
      issues: [{ row: 0, field: "file", message: `${records.length} rows, more than the limit of ${maxRows}` }],
    };
  }

  const rows: ImportRow[] = [];
  const firstRowOf = new Map<Hex, number>();
  for (const { row, value } of records) {
    const parsed = recordSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "record";
        const message =
          issue.code === "unrecognized_keys" ? `unknown ${plural(issue.keys.length, "key")}` : issue.message;
        if (issue.code === "unrecognized_keys") {
          for (const key of issue.keys) issues.push({ row, field: key, message });
        } else {
          issues.push({ row, field, message });
        }
      }
      continue;
    }
    const record = parsed.data;
    let bad = false;
    if (record.issuer !== undefined && record.issuer !== issuer) {
      issues.push({ row, field: "issuer", message: `names ${record.issuer}, but ${issuer} is importing` });
      bad = true;
    }
    if (record.validUntil !== 0 && record.validUntil < now) {
      issues.push({ row, field: "validUntil", message: `${record.validUntil} is in the past (now ${now})` });
      bad = true;
    }
    // assetIdOf's hash, without the ABI coder (ten times faster on large files): four static words.
    const assetId = keccak256(
      `0x${issuerWord}${record.subjectId.slice(2)}${record.dataType.toString(16).padStart(64, "0")}${record.contentCommitment.slice(2)}`,
    );
    const first = firstRowOf.get(assetId);
    if (first !== undefined) {
      issues.push({
        row,
        field: "contentCommitment",
        message: `duplicate of row ${first}: same subjectId, dataType and contentCommitment (asset ${assetId})`,
      });
      bad = true;
    } else {
      firstRowOf.set(assetId, row);
    }
    if (!bad) {
      rows.push({
        row,
        subjectId: record.subjectId,
        dataType: record.dataType,
        contentCommitment: record.contentCommitment,
        payloadPointer: record.payloadPointer,
        validUntil: record.validUntil,
        assetId,
      });
    }
  }
  return { rows, issues };
}

function csvRecords(text: string, issues: ImportIssue[]): RawRecord[] {
  const records: RawRecord[] = [];
  let header: string[] | undefined;
  try {
    const parsed = parseCsv(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      trim: true,
      // Every malformed record is reported, not only the first; `on_skip` names its line.
      skip_records_with_error: true,
      on_skip: (error) => {
        if (error !== undefined) issues.push({ row: csvLine(error), field: "record", message: csvMessage(error) });
        return undefined;
      },
    }) as unknown as { record: string[]; info: { lines: number } }[];
    for (const { record, info } of parsed) {
      if (header === undefined) {
        header = record;
        const headerIssues = checkHeader(header, info.lines);
        if (headerIssues.length > 0) {
          issues.push(...headerIssues);
          return [];
        }
        continue;
      }
      if (record.length !== header.length) {
        issues.push({
          row: info.lines,
          field: "record",
          message: `${record.length} fields, the header has ${header.length}`,
        });
        continue;
      }
      records.push({ row: info.lines, value: Object.fromEntries(header.map((name, i) => [name, record[i]])) });
    }
  } catch (error) {
    // An unclosed quote ends parsing: the rows before it are still checked.
    const csvError = error as CsvError;
    issues.push({ row: csvLine(csvError), field: "record", message: csvMessage(csvError) });
  }
  return records;
}

function checkHeader(header: string[], line: number): ImportIssue[] {
  const issues: ImportIssue[] = [];
  const known = new Set<string>(IMPORT_COLUMNS);
  const seen = new Set<string>();
  for (const name of header) {
    if (!known.has(name)) {
      issues.push({ row: line, field: name, message: `unknown column (expected ${IMPORT_COLUMNS.join(", ")})` });
    } else if (seen.has(name)) {
      issues.push({ row: line, field: name, message: "column given twice" });
    }
    seen.add(name);
  }
  for (const name of REQUIRED_IMPORT_COLUMNS) {
    if (!seen.has(name)) issues.push({ row: line, field: name, message: "required column missing" });
  }
  return issues;
}

function jsonlRecords(text: string, issues: ImportIssue[]): RawRecord[] {
  const records: RawRecord[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      issues.push({ row: i + 1, field: "record", message: `not JSON: ${(error as Error).message}` });
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      issues.push({ row: i + 1, field: "record", message: "expected a JSON object" });
      return;
    }
    records.push({ row: i + 1, value });
  });
  return records;
}

/** The catalog's verdict on each data type of the rows, read once per type. */
async function chainIssues(rows: ImportRow[], department: DataSafeClient, issuer: Address): Promise<ImportIssue[]> {
  const types = [...new Set(rows.map((r) => r.dataType))];
  const verdicts = new Map<number, string | undefined>();
  await Promise.all(
    types.map(async (dataType) => {
      const [type, canIssue] = await Promise.all([
        department.catalog.get(dataType),
        department.assets.canIssue(dataType, issuer),
      ]);
      verdicts.set(
        dataType,
        type.status === "None"
          ? `unknown data type ${dataType}: not defined in the catalog`
          : type.status === "Deprecated"
            ? `data type ${dataType} (${type.name}) is deprecated`
            : canIssue
              ? undefined
              : `${issuer} may not issue data type ${dataType} (${type.name}): not an active department authorised for it in the catalog`,
      );
    }),
  );
  return rows.flatMap((r) => {
    const message = verdicts.get(r.dataType);
    return message === undefined ? [] : [{ row: r.row, field: "dataType", message }];
  });
}

async function signerAddressOf(client: DataSafeClient): Promise<Address> {
  const runner = client.runner as { getAddress?: () => Promise<string> };
  if (typeof runner.getAddress !== "function") {
    throw new DataSafeError("importing needs the department's signer", {
      details: "connect the client to the department's Signer: safe.connect(departmentSigner)",
    });
  }
  return getAddress(await runner.getAddress());
}

async function chainTime(client: DataSafeClient): Promise<number> {
  const provider = client.runner.provider;
  const block = provider === null ? null : await provider.getBlock("latest");
  return block?.timestamp ?? Math.floor(Date.now() / 1000);
}

function csvLine(error: CsvError): number {
  return typeof error.lines === "number" ? error.lines : 0;
}

function csvMessage(error: CsvError): string {
  return `malformed CSV (${error.code}): ${error.message}`;
}

function where(issue: ImportIssue): string {
  return issue.row === 0 ? "file" : `row ${issue.row}`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
