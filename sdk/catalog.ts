import { keccak256, toUtf8Bytes } from "ethers";

import { canonicalJson } from "./commitments.js";
import { enumName } from "./constants.js";
import type { Context } from "./context.js";
import { address, bytes32, uint } from "./requests.js";
import type { PendingTransaction } from "./transaction.js";
import type { Address, DataType, Hex } from "./types.js";

/** A data type to define. Give `schemaHash`, or `schema` (the document) and the SDK hashes it. */
export interface DefineDataTypeInput {
  dataType: number;
  /** e.g. "household-register". */
  name: string;
  /** Where the schema document lives. */
  schemaURI: string;
  /** The schema document (fields and encodings); hashed with `schemaHashOf`. */
  schema?: unknown;
  /** Hash of the schema document, if already computed. */
  schemaHash?: Hex;
}

/**
 * The hash of a schema document: keccak256 of its canonical JSON, so the same schema hashes the
 * same whatever the key order.
 */
export function schemaHashOf(schema: unknown): Hex {
  return keccak256(toUtf8Bytes(canonicalJson(schema)));
}

/**
 * The data catalog (data dictionary): data types, their schemas and the departments authorised to
 * issue each. Changes are for the CATALOG_ADMIN role.
 */
export class Catalog {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** The catalog contract's address. */
  get address(): Address {
    return String(this.#ctx.catalog.target);
  }

  /**
   * Adds a type. Caller: CATALOG_ADMIN.
   * @returns a transaction whose `wait()` gives the `dataType` id and its `schemaHash`
   * @example
   * await (await catalogAdmin.catalog.define({ dataType: 1, name: "household-register", schemaURI, schema })).wait();
   */
  async define(input: DefineDataTypeInput): Promise<PendingTransaction<{ dataType: number; schemaHash: Hex }>> {
    const dataType = uint("dataType", input.dataType, 32);
    const schemaHash = bytes32("schemaHash", input.schemaHash ?? schemaHashOf(input.schema));
    return this.#ctx.write(
      "defineDataType",
      () => this.#ctx.catalog.defineDataType(dataType, input.name, schemaHash, input.schemaURI),
      () => ({ dataType, schemaHash }),
    );
  }

  /** Points a type at a new schema version. Caller: CATALOG_ADMIN. */
  async updateSchema(
    dataType: number,
    schema: { schemaURI: string; schema?: unknown; schemaHash?: Hex },
  ): Promise<PendingTransaction<{ dataType: number; schemaHash: Hex }>> {
    const id = uint("dataType", dataType, 32);
    const schemaHash = bytes32("schemaHash", schema.schemaHash ?? schemaHashOf(schema.schema));
    return this.#ctx.write(
      "updateDataTypeSchema",
      () => this.#ctx.catalog.updateDataTypeSchema(id, schemaHash, schema.schemaURI),
      () => ({ dataType: id, schemaHash }),
    );
  }

  /** Deprecates a type (final): no new assets, its issuers deauthorised. Caller: CATALOG_ADMIN. */
  async deprecate(dataType: number): Promise<PendingTransaction<{ dataType: number }>> {
    const id = uint("dataType", dataType, 32);
    return this.#ctx.write(
      "deprecateDataType",
      () => this.#ctx.catalog.deprecateDataType(id),
      () => ({ dataType: id }),
    );
  }

  /** Authorises a department to issue a type. Caller: CATALOG_ADMIN. */
  async authoriseIssuer(
    dataType: number,
    issuer: Address,
  ): Promise<PendingTransaction<{ dataType: number; issuer: Address }>> {
    const id = uint("dataType", dataType, 32);
    const who = address("issuer", issuer);
    return this.#ctx.write(
      "authoriseIssuer",
      () => this.#ctx.catalog.authoriseIssuer(id, who),
      () => ({ dataType: id, issuer: who }),
    );
  }

  /** Withdraws a department's authority to issue a type. Caller: CATALOG_ADMIN. */
  async deauthoriseIssuer(
    dataType: number,
    issuer: Address,
  ): Promise<PendingTransaction<{ dataType: number; issuer: Address }>> {
    const id = uint("dataType", dataType, 32);
    const who = address("issuer", issuer);
    return this.#ctx.write(
      "deauthoriseIssuer",
      () => this.#ctx.catalog.deauthoriseIssuer(id, who),
      () => ({ dataType: id, issuer: who }),
    );
  }

  /** The type `dataType` (status `"None"` if undefined). */
  async get(dataType: number): Promise<DataType> {
    const id = uint("dataType", dataType, 32);
    const t = await this.#ctx.read("getDataType", () => this.#ctx.catalog.getDataType(id));
    return {
      dataType: id,
      status: enumName("DataTypeStatus", t.status),
      definedAt: Number(t.definedAt),
      schemaHash: t.schemaHash,
      name: t.name,
      schemaURI: t.schemaURI,
    };
  }

  /** The departments authorised for a type. */
  async issuersOf(dataType: number): Promise<Address[]> {
    const id = uint("dataType", dataType, 32);
    return this.#ctx.read("issuersOf", () => this.#ctx.catalog.issuersOf(id));
  }

  /** Whether `issuer` may issue `dataType` according to the catalog. */
  async isAuthorisedIssuer(dataType: number, issuer: Address): Promise<boolean> {
    const id = uint("dataType", dataType, 32);
    return this.#ctx.read("isAuthorisedIssuer", () =>
      this.#ctx.catalog.isAuthorisedIssuer(id, address("issuer", issuer)),
    );
  }
}
