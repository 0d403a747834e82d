/*
 * What commands print: one JSON document on stdout with `--json` (for scripts), a table or lines
 * for people otherwise. Progress and notes go to stderr so stdout stays one parseable document.
 */

/** JSON.stringify that writes bigints as decimal strings (block numbers, amounts, nonces). */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), indent);
}

/** One cell as text. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(cell).join(",");
  if (typeof value === "object") return toJson(value, 0);
  return String(value);
}

/**
 * A plain-text table: a header of the column names, then one line per row, columns padded.
 * @example table([{ account: "0x…", status: "Active" }])
 */
export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  const names = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  if (rows.length === 0) return "(none)";
  const text = rows.map((row) => names.map((name) => cell(row[name])));
  const widths = names.map((name, i) => Math.max(name.length, ...text.map((line) => line[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(names), ...text.map(line)].join("\n");
}

/** `key: value` lines, keys aligned. */
export function fields(record: Record<string, unknown>): string {
  const width = Math.max(0, ...Object.keys(record).map((key) => key.length));
  return Object.entries(record)
    .map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${cell(value)}`)
    .join("\n");
}
