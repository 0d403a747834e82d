import {
  type TransactionReceipt,
  type TypedDataDomain,
  type TypedDataField,
  TypedDataEncoder,
  getBytes,
  hexlify,
  id,
  isHexString,
} from "ethers";

import {
  DEFAULT_SIGNATURE_LIFETIME,
  KEY_DIRECTORY_EIP712_NAME,
  KEY_DIRECTORY_EIP712_VERSION,
  type KeySuite,
  enumName,
  enumValue,
} from "./constants.js";
import type { TypedDataSigner } from "./consent.js";
import type { Context } from "./context.js";
import { DomainMismatchError, InvalidInputError } from "./errors.js";
import { address, bytes32 } from "./requests.js";
import { type PendingTransaction, eventIn } from "./transaction.js";
import type { Address, EncryptionKey, Hex } from "./types.js";

/** A suite a key can be set in. */
export type SettableKeySuite = Exclude<KeySuite, "None">;

/** A public key and its suite. */
export interface PublicKeyInput {
  /** `"X25519Hpke"` (HPKE, RFC 9180) or `"Sm2"` (GB/T 32918). */
  suite: SettableKeySuite;
  /**
   * The public key as 0x-hex: 32 bytes for X25519; 64 bytes x || y for SM2 (an uncompressed point
   * without its 0x04 prefix; `publicKeyOf` drops the prefix for you).
   */
  publicKey: Hex;
}

/** A holder key to set for a subject. */
export interface HolderKeyInput extends PublicKeyInput {
  subjectId: Hex;
}

/** Nonce and deadline of a holder-key signature; read from the chain when not given. */
export interface KeySignOptions {
  /** Default: the controller's current nonce in the key directory. */
  nonce?: bigint | number;
  /** Default: the chain's time plus an hour. */
  deadline?: bigint | number;
}

/** A controller's signature of a holder-key change, ready to be relayed by anyone. */
export interface HolderKeyAuthorization {
  nonce: bigint;
  deadline: bigint;
  signature: Hex;
}

/** Length in bytes of a public key of each suite, as the contract checks it. */
export const PUBLIC_KEY_LENGTH: Record<SettableKeySuite, number> = { X25519Hpke: 32, Sm2: 64 };

/** EIP-712 types of the key directory; field order and types exactly as `SET_HOLDER_KEY_TYPEHASH`. */
export const KEY_DIRECTORY_TYPES = {
  SetHolderKey: [
    { name: "subjectId", type: "bytes32" },
    { name: "suite", type: "uint8" },
    { name: "publicKey", type: "bytes" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const satisfies Record<string, readonly TypedDataField[]>;

// The SM2 recommended curve (GB/T 32918.5-2017): y^2 = x^3 + ax + b over F_p, with a = p - 3.
const SM2_P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
const SM2_A = SM2_P - 3n;
const SM2_B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;

/**
 * Whether a 64-byte x || y is a point of the SM2 curve. The contract checks only the length;
 * encrypting to a point off the curve would leak, so the SDK checks before it sets or uses a key.
 */
export function isSm2Point(publicKey: Hex): boolean {
  const bytes = getBytes(publicKey);
  if (bytes.length !== 64) return false;
  const x = BigInt(hexlify(bytes.slice(0, 32)));
  const y = BigInt(hexlify(bytes.slice(32)));
  if (x >= SM2_P || y >= SM2_P) return false;
  return (y * y) % SM2_P === (((x * x) % SM2_P) * x + SM2_A * x + SM2_B) % SM2_P;
}

/**
 * A public key checked for its suite: the length the contract wants, not all zero, and for SM2 a
 * point of the curve. An SM2 key given as a 65-byte uncompressed point (0x04 || x || y, as OpenSSL
 * and most libraries export it) loses its prefix. Every 32-byte string is an X25519 u-coordinate;
 * the HPKE library refuses the few low-order ones when it encrypts.
 * @returns the key as lower-case 0x-hex; throws `InvalidInputError` otherwise
 * @example publicKeyOf("Sm2", "0x04" + x + y) // "0x" + x + y
 */
export function publicKeyOf(suite: SettableKeySuite, publicKey: Hex, field = "publicKey"): Hex {
  const length = PUBLIC_KEY_LENGTH[suite];
  if (length === undefined)
    throw new InvalidInputError("suite", `expected "X25519Hpke" or "Sm2", got ${String(suite)}`);
  if (!isHexString(publicKey)) throw new InvalidInputError(field, `expected 0x-hex, got ${String(publicKey)}`);
  let key = publicKey.toLowerCase();
  if (suite === "Sm2" && key.length === 2 + 2 * 65 && key.startsWith("0x04")) key = "0x" + key.slice(4);
  if (key.length !== 2 + 2 * length) {
    throw new InvalidInputError(field, `a ${suite} key is ${length} bytes, got ${(key.length - 2) / 2}`);
  }
  if (/^0x0*$/.test(key)) throw new InvalidInputError(field, "is all zero bytes");
  if (suite === "Sm2" && !isSm2Point(key)) throw new InvalidInputError(field, "is not a point of the SM2 curve");
  return key;
}

/**
 * The EIP-712 domain of a key directory.
 * @example const domain = keyDirectoryDomain(1337n, keyDirectoryAddress);
 */
export function keyDirectoryDomain(chainId: bigint | number, verifyingContract: Address): TypedDataDomain {
  return {
    name: KEY_DIRECTORY_EIP712_NAME,
    version: KEY_DIRECTORY_EIP712_VERSION,
    chainId,
    verifyingContract,
  };
}

/**
 * The holder-key change a subject's controller signs (`SetHolderKey`), ready for `signTypedData`.
 * @example
 * const { domain, types, message } = setHolderKeyTypedData(domain, { subjectId, suite: "X25519Hpke", publicKey }, { nonce, deadline });
 */
export function setHolderKeyTypedData(
  domain: TypedDataDomain,
  input: HolderKeyInput,
  terms: { nonce: bigint | number; deadline: bigint | number },
) {
  return {
    domain,
    types: { SetHolderKey: KEY_DIRECTORY_TYPES.SetHolderKey.map((field) => ({ ...field })) },
    primaryType: "SetHolderKey" as const,
    message: {
      subjectId: input.subjectId,
      suite: enumValue("KeySuite", input.suite),
      publicKey: input.publicKey,
      nonce: terms.nonce,
      deadline: terms.deadline,
    },
  };
}

/** The typehash of `SetHolderKey`; equal to the contract's `SET_HOLDER_KEY_TYPEHASH`. */
export function setHolderKeyTypeHash(): Hex {
  return id(TypedDataEncoder.from({ SetHolderKey: [...KEY_DIRECTORY_TYPES.SetHolderKey] }).encodeType("SetHolderKey"));
}

/**
 * The key directory: the public keys payloads are released to. A member sets and rotates its own
 * key; a holder's key is set by the subject's current controller, by transaction or by a signature
 * anyone relays, and is empty again after a hand-over or recovery until the new controller sets
 * one. Needs the client to know the key directory's address.
 *
 * @example
 * await (await bank.keys.setMemberKey({ suite: "X25519Hpke", publicKey })).wait();
 * const authorization = await safe.keys.signHolderKey(phone, { subjectId, suite: "X25519Hpke", publicKey: safeBoxKey });
 * await (await app.keys.setHolderKeyBySig({ subjectId, suite: "X25519Hpke", publicKey: safeBoxKey }, authorization)).wait();
 */
export class Keys {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** The key directory's address. */
  get address(): Address {
    return String(this.#ctx.keyDirectory.target);
  }

  /**
   * Sets or rotates the caller's own member key; payloads released from then on are encrypted to
   * it. Caller: a member of the deployment.
   * @returns a transaction whose `wait()` gives the member and the key as set
   */
  async setMemberKey(
    input: PublicKeyInput,
  ): Promise<PendingTransaction<{ member: Address; suite: KeySuite; publicKey: Hex }>> {
    const publicKey = publicKeyOf(input.suite, input.publicKey);
    const directory = this.#ctx.keyDirectory;
    return this.#ctx.write(
      "setMemberKey",
      () => directory.setMemberKey(enumValue("KeySuite", input.suite), publicKey),
      (receipt) => {
        const { args } = eventIn(receipt, directory, directory.getEvent("MemberKeySet"));
        return { member: args.member, suite: enumName("KeySuite", args.suite), publicKey: args.publicKey };
      },
    );
  }

  /**
   * Sets or rotates a holder's key. Caller: the subject's current controller.
   * @returns a transaction whose `wait()` gives the controller the key is bound to
   */
  async setHolderKey(input: HolderKeyInput): Promise<PendingTransaction<HolderKeySet>> {
    const h = holderKeyOf(input);
    const directory = this.#ctx.keyDirectory;
    return this.#ctx.write(
      "setHolderKey",
      () => directory.setHolderKey(h.subjectId, enumValue("KeySuite", h.suite), h.publicKey),
      (receipt) => this.#holderKeySet(receipt),
    );
  }

  /**
   * Sets a holder's key with the controller's signature (see `signHolderKey`). Anyone may relay:
   * the holder's phone pays no gas.
   */
  async setHolderKeyBySig(
    input: HolderKeyInput,
    authorization: HolderKeyAuthorization,
  ): Promise<PendingTransaction<HolderKeySet>> {
    const h = holderKeyOf(input);
    const directory = this.#ctx.keyDirectory;
    return this.#ctx.write(
      "setHolderKeyBySig",
      () =>
        directory.setHolderKeyBySig(
          h.subjectId,
          enumValue("KeySuite", h.suite),
          h.publicKey,
          authorization.nonce,
          authorization.deadline,
          authorization.signature,
        ),
      (receipt) => this.#holderKeySet(receipt),
    );
  }

  /**
   * Has the subject's controller sign a holder-key change; the signer needs no provider and no funds.
   * @param signer the subject's current controller (any `signTypedData` wallet)
   */
  async signHolderKey(
    signer: TypedDataSigner,
    input: HolderKeyInput,
    options: KeySignOptions = {},
  ): Promise<HolderKeyAuthorization> {
    const h = holderKeyOf(input);
    let nonce = options.nonce;
    if (nonce === undefined) {
      const controller = await this.#ctx.read("controllerOf", () => this.#ctx.dataSafe.controllerOf(h.subjectId));
      nonce = await this.nonceOf(controller);
    }
    const deadline = options.deadline ?? (await this.#ctx.now()) + DEFAULT_SIGNATURE_LIFETIME;
    const terms = { nonce: BigInt(nonce), deadline: BigInt(deadline) };
    const p = setHolderKeyTypedData(await this.domain(), h, terms);
    return { ...terms, signature: await signer.signTypedData(p.domain, p.types, p.message) };
  }

  /** The member's current key, or `undefined` if it has set none. */
  async memberKey(account: Address): Promise<EncryptionKey | undefined> {
    const who = address("account", account);
    const directory = this.#ctx.keyDirectory;
    return keyOf(await this.#ctx.read("memberKey", () => directory.memberKey(who)));
  }

  /**
   * The holder key set by the subject's current controller, or `undefined` if it has set none (as
   * after a hand-over or recovery) or the subject is unknown.
   */
  async holderKey(subjectId: Hex): Promise<EncryptionKey | undefined> {
    const id = bytes32("subjectId", subjectId);
    const directory = this.#ctx.keyDirectory;
    return keyOf(await this.#ctx.read("holderKey", () => directory.holderKey(id)));
  }

  /** The nonce a controller's next holder-key signature must carry. */
  async nonceOf(controller: Address): Promise<bigint> {
    const who = address("controller", controller);
    const directory = this.#ctx.keyDirectory;
    return this.#ctx.read("nonces", () => directory.nonces(who));
  }

  /** The EIP-712 domain of the key directory on the connected chain. */
  async domain(): Promise<TypedDataDomain> {
    return keyDirectoryDomain(await this.#ctx.chainId(), this.address);
  }

  /**
   * Checks the domain the SDK signs in against the contract's `domainSeparator()`.
   * @returns the domain; throws `DomainMismatchError` if the chain or contract disagree
   */
  async checkDomain(): Promise<TypedDataDomain> {
    const domain = await this.domain();
    const directory = this.#ctx.keyDirectory;
    const expected = await this.#ctx.read("domainSeparator", () => directory.domainSeparator());
    const actual = TypedDataEncoder.hashDomain(domain);
    if (expected !== actual) {
      throw new DomainMismatchError(expected, actual, `key directory domain on chain ${String(domain.chainId)}`);
    }
    return domain;
  }

  #holderKeySet(receipt: TransactionReceipt): HolderKeySet {
    const directory = this.#ctx.keyDirectory;
    const { args } = eventIn(receipt, directory, directory.getEvent("HolderKeySet"));
    return {
      subjectId: args.subjectId,
      controller: args.controller,
      suite: enumName("KeySuite", args.suite),
      publicKey: args.publicKey,
    };
  }
}

/** What a holder-key change's `wait()` gives. */
export interface HolderKeySet {
  subjectId: Hex;
  /** The controller the key is bound to. */
  controller: Address;
  suite: KeySuite;
  publicKey: Hex;
}

function holderKeyOf(input: HolderKeyInput): HolderKeyInput {
  return {
    subjectId: bytes32("subjectId", input.subjectId),
    suite: input.suite,
    publicKey: publicKeyOf(input.suite, input.publicKey),
  };
}

function keyOf(k: { suite: bigint; setAt: bigint; publicKey: string }): EncryptionKey | undefined {
  const suite = enumName("KeySuite", k.suite);
  if (suite === "None") return undefined;
  return { suite, setAt: Number(k.setAt), publicKey: k.publicKey };
}
