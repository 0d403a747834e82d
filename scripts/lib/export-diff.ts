import { EXPORT_COLUMNS, type ExportDataset, type ExportRow } from "../../sdk/supervision.js";

/**
 * Where an export (the database's account) and the chain's account of the same range differ: rows
 * the chain has and the export lacks, rows the export has and the chain does not, and rows present
 * in both whose fields differ, field by field.
 */

export type RowDifference =
  | { kind: "missing"; key: string; chain: ExportRow }
  | { kind: "extra"; key: string; exported: ExportRow }
  | { kind: "changed"; key: string; fields: { column: string; exported: string; chain: string }[] };

/** The identity of a row: what says "the same fact" on both sides. */
export function rowKey(dataset: ExportDataset, row: ExportRow): string {
  switch (dataset) {
    case "reads":
      return row.accessId;
    case "grants":
      return `${row.grantId}/${row.version}`;
    case "requests":
      return row.requestId;
    default:
      return `${row.blockNumber}/${row.logIndex ?? row.id}`;
  }
}

export function diffExport(dataset: ExportDataset, exported: ExportRow[], chain: ExportRow[]): RowDifference[] {
  const columns = EXPORT_COLUMNS[dataset];
  const fromChain = new Map(chain.map((row) => [rowKey(dataset, row), row]));
  const differences: RowDifference[] = [];
  const seen = new Set<string>();
  for (const row of exported) {
    const key = rowKey(dataset, row);
    const truth = fromChain.get(key);
    if (truth === undefined || seen.has(key)) {
      differences.push({ kind: "extra", key, exported: row });
      continue;
    }
    seen.add(key);
    const fields = columns
      .filter((column) => (row[column] ?? "") !== (truth[column] ?? ""))
      .map((column) => ({ column, exported: row[column] ?? "", chain: truth[column] ?? "" }));
    if (fields.length > 0) differences.push({ kind: "changed", key, fields });
  }
  for (const [key, row] of fromChain) if (!seen.has(key)) differences.push({ kind: "missing", key, chain: row });
  return differences;
}

/** One line per difference, for a person. */
export function describeDifference(dataset: ExportDataset, difference: RowDifference): string {
  switch (difference.kind) {
    case "missing":
      return `${dataset} ${difference.key}: MISSING from the export (on chain at block ${difference.chain.blockNumber})`;
    case "extra":
      return `${dataset} ${difference.key}: EXTRA in the export (not on chain): ${JSON.stringify(difference.exported)}`;
    case "changed":
      return `${dataset} ${difference.key}: CHANGED ${difference.fields
        .map((f) => `${f.column} export=${JSON.stringify(f.exported)} chain=${JSON.stringify(f.chain)}`)
        .join("; ")}`;
  }
}
