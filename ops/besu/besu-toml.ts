/**
 * Reads the TOML files of the kit: Besu node configs (config/*.toml) and the local permissioning
 * file (permissions_config.toml). Both are flat `key=value` lines whose values are TOML strings,
 * integers, booleans or arrays of strings; an array may span several lines and end with a comma
 * before its `]`. Each such value, once the trailing comma is gone, is also valid JSON, which is
 * how it is read. Anything else (tables, inline tables, single quotes) is refused, not guessed at.
 */
import { readFileSync } from "node:fs";

export type TomlValue = string | number | boolean | string[];

/** A flat Besu TOML file as key → value, with the line each key was set on. */
export interface BesuToml {
  values: Record<string, TomlValue>;
  lines: Record<string, number>;
}

/** Parses a flat Besu TOML file; throws naming the file and line of anything it cannot read. */
export function parseBesuToml(file: string, text = readFileSync(file, "utf8")): BesuToml {
  const values: Record<string, TomlValue> = {};
  const lines: Record<string, number> = {};
  const rows = text.split("\n");
  for (let index = 0; index < rows.length; index++) {
    const line = rows[index].trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-z0-9-]+)\s*=\s*(.+)$/.exec(line);
    if (match === null) throw new Error(`${file}:${index + 1}: not a flat key=value line`);
    const [, key] = match;
    let value = match[2];
    const start = index;
    // An array written over several lines: gather them up to the closing bracket.
    if (value.startsWith("[")) {
      while (!value.replace(/#.*$/, "").trimEnd().endsWith("]")) {
        index += 1;
        if (index >= rows.length) throw new Error(`${file}:${start + 1}: array of ${key} is never closed`);
        const next = rows[index].trim();
        if (next === "" || next.startsWith("#")) continue;
        value += next;
      }
      value = value.replace(/,\s*\]$/, "]");
    }
    if (key in values) throw new Error(`${file}:${start + 1}: ${key} set twice (first on line ${lines[key]})`);
    try {
      values[key] = JSON.parse(value) as TomlValue;
    } catch {
      throw new Error(`${file}:${start + 1}: value of ${key} is not a plain string, number, boolean or string array`);
    }
    lines[key] = start + 1;
  }
  return { values, lines };
}

/** Reads a Besu config file as key → value. */
export function readBesuToml(file: string): Record<string, TomlValue> {
  return parseBesuToml(file).values;
}

/** A TOML array of strings, one entry a line, so that a change to a list reads as a one-line diff. */
export function tomlStringArray(entries: readonly string[]): string {
  if (entries.length === 0) return "[]";
  return `[\n${entries.map((entry) => `  ${JSON.stringify(entry)},`).join("\n")}\n]`;
}
