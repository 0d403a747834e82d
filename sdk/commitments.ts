import { AbiCoder, type BytesLike, concat, hexlify, isHexString, keccak256, randomBytes, toUtf8Bytes } from "ethers";

import { InvalidInputError } from "./errors.js";
import type { Hex } from "./types.js";

/**
 * Commitments to data that stays off chain. The chain holds only these; whoever holds the record
 * and the salt can show it matches, and nobody can guess a record from its commitment, however
 * predictable the fields, without the salt.
 *
 * - Whole record: `commitment = keccak256(abi.encode(salt, keccak256(canonicalJson(record))))`.
 * - Per field, for selective disclosure: each top-level field is a leaf
 *   `keccak256(keccak256(abi.encode(fieldSalt, name, keccak256(canonicalJson(value)))))` with
 *   `fieldSalt = keccak256(abi.encode(salt, name))`; the commitment is the Merkle root of the leaves
 *   (sorted-pair hashing, leaves sorted), verifiable on chain with OpenZeppelin's `MerkleProof`.
 *   Disclosing a field reveals its value, its own salt and a proof, and nothing of the others.
 * - Subject ids: `keccak256(abi.encode(pepper, scheme, identifier))`, the identity authority's
 *   pepper keeping ID numbers from being enumerated.
 */

const coder = AbiCoder.defaultAbiCoder();

/**
 * A fresh random 32-byte salt (or pepper).
 * @example const salt = newSalt();
 */
export function newSalt(): Hex {
  return hexlify(randomBytes(32));
}

/**
 * The canonical JSON of a value: object keys sorted by UTF-16 code units, no whitespace, numbers as
 * ECMAScript prints them (RFC 8785 style). Accepts null, booleans, finite numbers, strings, arrays
 * and plain objects; anything else (undefined, bigint, Date, NaN...) is an `InvalidInputError`,
 * because two parties would not agree on how to write it.
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown, path = "value"): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new InvalidInputError(path, `${value} has no JSON form`);
      return JSON.stringify(value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((item, i) => canonicalJson(item, `${path}[${i}]`)).join(",")}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new InvalidInputError(
          path,
          `a ${proto?.constructor?.name ?? "non-plain object"} has no canonical JSON form`,
        );
      }
      const entries = Object.keys(value)
        .sort()
        .map(
          (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key], `${path}.${key}`)}`,
        );
      return `{${entries.join(",")}}`;
    }
    default:
      throw new InvalidInputError(path, `a ${typeof value} has no canonical JSON form`);
  }
}

/** keccak256 of the canonical JSON of a record. */
export function recordDigest(record: unknown): Hex {
  return keccak256(toUtf8Bytes(canonicalJson(record, "record")));
}

/** A record's salted commitment and what it is made of. */
export interface RecordCommitment {
  /** What goes on chain as the asset's `contentCommitment`. */
  commitment: Hex;
  /** Keep it with the record: without it nobody can check the commitment. */
  salt: Hex;
  /** keccak256 of the record's canonical JSON. */
  digest: Hex;
}

/**
 * Commits to a whole record.
 * @param salt 32 bytes; a fresh random one by default
 * @example
 * const { commitment, salt } = commitRecord({ householdNumber: "DEMO-HH-0001", registration: "local" });
 */
export function commitRecord(record: unknown, salt: Hex = newSalt()): RecordCommitment {
  const digest = recordDigest(record);
  return { commitment: saltedCommitment(saltOf(salt), digest), salt, digest };
}

/**
 * Whether `record` with `salt` is what `commitment` commits to.
 * @example verifyRecord(record, salt, commitment) // true
 */
export function verifyRecord(record: unknown, salt: Hex, commitment: Hex): boolean {
  return commitRecord(record, salt).commitment === commitment.toLowerCase();
}

/** One field's commitment, kept by the issuer and the holder. */
export interface FieldCommitment {
  name: string;
  /** The field's own salt, revealed when the field is disclosed. */
  salt: Hex;
  leaf: Hex;
}

/** A record committed field by field. */
export interface FieldCommitments {
  /** Merkle root of the field leaves: the asset's `contentCommitment`. */
  root: Hex;
  /** The master salt each field's salt derives from; never disclosed. */
  salt: Hex;
  fields: FieldCommitment[];
}

/** One disclosed field with what proves it. */
export interface DisclosedField {
  name: string;
  value: unknown;
  salt: Hex;
  proof: Hex[];
}

/** Some fields of a committed record, as the holder hands them to a consumer. */
export interface Disclosure {
  /** The root the fields prove membership of; check it against the chain. */
  root: Hex;
  fields: DisclosedField[];
}

/**
 * Commits to a record field by field (its top-level keys), for selective disclosure.
 * @param salt master salt; a fresh random one by default
 * @example
 * const committed = commitFields(record);
 * await (await department.assets.issue({ subjectId, dataType, contentCommitment: committed.root })).wait();
 */
export function commitFields(record: Record<string, unknown>, salt: Hex = newSalt()): FieldCommitments {
  const master = saltOf(salt);
  const names = fieldNamesOf(record);
  const fields = names.map((name) => {
    const fieldSalt = fieldSaltOf(master, name);
    return { name, salt: fieldSalt, leaf: fieldLeafOf(name, record[name], fieldSalt) };
  });
  return { root: merkleRoot(fields.map((f) => f.leaf)), salt: master, fields };
}

/**
 * Discloses some fields of a record committed with `commitFields`.
 * @param names the fields to reveal; the others stay hidden
 * @example const disclosure = discloseFields(record, salt, ["registration"]);
 */
export function discloseFields(record: Record<string, unknown>, salt: Hex, names: string[]): Disclosure {
  const committed = commitFields(record, salt);
  const leaves = committed.fields.map((f) => f.leaf);
  const fields = names.map((name) => {
    const field = committed.fields.find((f) => f.name === name);
    if (field === undefined) throw new InvalidInputError(`names`, `the record has no field ${JSON.stringify(name)}`);
    return { name, value: record[name], salt: field.salt, proof: merkleProof(leaves, field.leaf) };
  });
  return { root: committed.root, fields };
}

/**
 * Whether every disclosed field belongs to the record committed to by `root` (take the root from
 * the chain: the asset's content commitment, checked with `verifyAsset`).
 * @example verifyDisclosure(disclosure, asset.contentCommitment) // true
 */
export function verifyDisclosure(disclosure: Disclosure, root: Hex): boolean {
  if (disclosure.root.toLowerCase() !== root.toLowerCase() || disclosure.fields.length === 0) return false;
  return disclosure.fields.every((field) => {
    if (!isHexString(field.salt, 32) || !field.proof.every((p) => isHexString(p, 32))) return false;
    let leaf: Hex;
    try {
      leaf = fieldLeafOf(field.name, field.value, field.salt);
    } catch {
      return false;
    }
    return field.proof.reduce(hashPair, leaf) === root.toLowerCase();
  });
}

/**
 * A pseudonymous subject id: `keccak256(abi.encode(pepper, scheme, identifier))`. The identifier is
 * trimmed and upper-cased first (ID numbers may end in "x" or "X").
 * @param pepper the identity authority's secret 32 bytes
 * @param scheme what the identifier is, e.g. "resident-id" or "uscc" (unified social credit code)
 * @example deriveSubjectId(pepper, "resident-id", "DEMO-0001")
 */
export function deriveSubjectId(pepper: Hex, scheme: string, identifier: string): Hex {
  const normalised = identifier.trim().toUpperCase();
  if (normalised.length === 0) throw new InvalidInputError("identifier", "is empty");
  return keccak256(coder.encode(["bytes32", "string", "string"], [saltOf(pepper, "pepper"), scheme, normalised]));
}

/**
 * The payload pointer of an encrypted payload: its keccak256 content digest, so the recipient
 * checks the ciphertext it fetched is the one the chain points to.
 */
export function payloadPointerOf(ciphertext: BytesLike): Hex {
  return keccak256(ciphertext);
}

function saltOf(salt: string, field = "salt"): Hex {
  if (!isHexString(salt, 32)) throw new InvalidInputError(field, "expected 32 bytes as 0x-hex");
  return salt.toLowerCase();
}

function saltedCommitment(salt: Hex, digest: Hex): Hex {
  return keccak256(coder.encode(["bytes32", "bytes32"], [salt, digest]));
}

function fieldNamesOf(record: Record<string, unknown>): string[] {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new InvalidInputError("record", "expected an object whose keys are the fields");
  }
  const names = Object.keys(record).sort();
  if (names.length === 0) throw new InvalidInputError("record", "has no fields");
  return names;
}

function fieldSaltOf(master: Hex, name: string): Hex {
  return keccak256(coder.encode(["bytes32", "string"], [master, name]));
}

/** Double-hashed like OpenZeppelin's StandardMerkleTree, so a leaf is never mistaken for an inner node. */
function fieldLeafOf(name: string, value: unknown, fieldSalt: Hex): Hex {
  const digest = keccak256(toUtf8Bytes(canonicalJson(value, name)));
  return keccak256(concat([keccak256(coder.encode(["bytes32", "string", "bytes32"], [fieldSalt, name, digest]))]));
}

/** OpenZeppelin's commutative pair hash: keccak256 of the two nodes in ascending order. */
function hashPair(a: Hex, b: Hex): Hex {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** Layers of the tree from the sorted leaves up; an odd node is carried up unchanged. */
function merkleLayers(leaves: Hex[]): Hex[][] {
  const layers = [[...leaves].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0))];
  while (layers[layers.length - 1].length > 1) {
    const below = layers[layers.length - 1];
    const above: Hex[] = [];
    for (let i = 0; i < below.length; i += 2)
      above.push(i + 1 < below.length ? hashPair(below[i], below[i + 1]) : below[i]);
    layers.push(above);
  }
  return layers;
}

function merkleRoot(leaves: Hex[]): Hex {
  const layers = merkleLayers(leaves);
  return layers[layers.length - 1][0];
}

function merkleProof(leaves: Hex[], leaf: Hex): Hex[] {
  const layers = merkleLayers(leaves);
  let index = layers[0].indexOf(leaf);
  const proof: Hex[] = [];
  for (const layer of layers.slice(0, -1)) {
    const sibling = index ^ 1;
    if (sibling < layer.length) proof.push(layer[sibling]);
    index >>= 1;
  }
  return proof;
}
