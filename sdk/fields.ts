import { InvalidInputError } from "./errors.js";

/**
 * Field-level consent. A request, a grant and a read carry a `uint64` mask over a data type's schema
 * field list: bit i is the i-th field as the catalog's schema document lists them (scripts/catalog.ts
 * for the seed catalog), so a type has at most 64 fields. The mask 0 means the whole record. A read
 * must name fields within its grant's; the payload gateway releases exactly the fields a recorded
 * read names, each with its salt and Merkle proof (see `discloseFields`).
 */

/** Most fields a data type's schema may list: the width of the mask. */
export const MAX_FIELDS = 64;

/** The mask of the whole record. */
export const WHOLE_RECORD = 0n;

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * The mask of `names` in a type's schema field list.
 * @param schemaFields the type's fields, in schema order
 * @param names the fields to select (at least one, each once)
 * @example fieldMask(["householdNumber", "relationToHead", "registrationType", "district"], ["district"]) // 8n
 */
export function fieldMask(schemaFields: readonly string[], names: readonly string[]): bigint {
  checkSchema(schemaFields);
  if (names.length === 0) throw new InvalidInputError("names", "selects no field (the whole record is WHOLE_RECORD)");
  let mask = 0n;
  names.forEach((name, i) => {
    const index = schemaFields.indexOf(name);
    if (index < 0) throw new InvalidInputError(`names[${i}]`, `the schema has no field ${JSON.stringify(name)}`);
    const bit = 1n << BigInt(index);
    if ((mask & bit) !== 0n) throw new InvalidInputError(`names[${i}]`, `${JSON.stringify(name)} is named twice`);
    mask |= bit;
  });
  return mask;
}

/**
 * The field names a mask selects, in schema order; every field for `WHOLE_RECORD`.
 * @example fieldNamesOf(["householdNumber", "relationToHead", "registrationType", "district"], 8n) // ["district"]
 */
export function fieldNamesOf(schemaFields: readonly string[], mask: bigint | number): string[] {
  checkSchema(schemaFields);
  const m = fieldsOf("mask", mask);
  if (m === WHOLE_RECORD) return [...schemaFields];
  if (m >> BigInt(schemaFields.length) !== 0n) {
    throw new InvalidInputError("mask", `selects a field beyond the schema's ${schemaFields.length}`);
  }
  return schemaFields.filter((_, i) => (m >> BigInt(i)) & 1n);
}

/**
 * Whether a grant of `granted` fields covers a read of `read` fields: the contract's rule (a
 * whole-record grant covers any read; a partial grant covers reads of some of its fields only).
 */
export function coversFields(granted: bigint | number, read: bigint | number): boolean {
  const g = fieldsOf("granted", granted);
  const r = fieldsOf("read", read);
  return g === WHOLE_RECORD || (r !== WHOLE_RECORD && (r & ~g) === 0n);
}

/** A mask checked to fit a uint64; `undefined` is the whole record. */
export function fieldsOf(field: string, value: bigint | number | undefined): bigint {
  if (value === undefined) return WHOLE_RECORD;
  const ok = typeof value === "bigint" || Number.isSafeInteger(value);
  const mask = ok ? BigInt(value) : -1n;
  if (mask < 0n || mask > UINT64_MAX)
    throw new InvalidInputError(field, `expected a uint64 mask, got ${String(value)}`);
  return mask;
}

function checkSchema(schemaFields: readonly string[]): void {
  if (schemaFields.length === 0 || schemaFields.length > MAX_FIELDS) {
    throw new InvalidInputError("schemaFields", `expected 1 to ${MAX_FIELDS} fields, got ${schemaFields.length}`);
  }
  if (new Set(schemaFields).size !== schemaFields.length) {
    throw new InvalidInputError("schemaFields", "lists a field twice");
  }
}
