import { type TypedDataDomain, TypedDataEncoder, getBytes, keccak256 } from "ethers";

import { DELIVERY_TYPES, type DeliveryPrimaryType } from "../sdk/delivery-protocol.js";

/**
 * The EIP-712 digests of the gateway's messages, computed the fast way: every field of these
 * messages is a static 32-byte word, so the struct hash is keccak256 of the typehash and the words,
 * and the domain separator is computed once. The words are written into one buffer by Node's hex
 * decoder and hashed as bytes: ethers' generic encoder parses the types on every call and costs
 * ten times as much per request, and its hex `concat`/`zeroPadValue` three times as much as this;
 * the tests hold all of them equal.
 */
export class GatewayDigests {
  /** "\x19\x01" ‖ domain separator, and room for the struct hash. */
  readonly #prefix: Buffer;
  readonly #typeHashes: Record<DeliveryPrimaryType, Buffer>;

  constructor(domain: TypedDataDomain) {
    this.#prefix = Buffer.concat([Buffer.from([0x19, 0x01]), getBytes(TypedDataEncoder.hashDomain(domain))]);
    const typeHash = (primaryType: DeliveryPrimaryType) =>
      Buffer.from(
        getBytes(
          keccak256(
            new TextEncoder().encode(
              TypedDataEncoder.from({ [primaryType]: [...DELIVERY_TYPES[primaryType]] }).encodeType(primaryType),
            ),
          ),
        ),
      );
    this.#typeHashes = {
      UploadPayload: typeHash("UploadPayload"),
      HolderFetch: typeHash("HolderFetch"),
      ConsumerFetch: typeHash("ConsumerFetch"),
    };
  }

  upload(m: { assetId: string; deadline: number }): string {
    return this.#digest("UploadPayload", [m.assetId], m.deadline);
  }

  holderFetch(m: { assetId: string; subjectId: string; nonce: string; deadline: number }): string {
    return this.#digest("HolderFetch", [m.assetId, m.subjectId, m.nonce], m.deadline);
  }

  consumerFetch(m: { accessId: string; transactionHash: string; assetId: string; deadline: number }): string {
    return this.#digest("ConsumerFetch", [m.accessId, m.transactionHash, m.assetId], m.deadline);
  }

  /** keccak256("\x19\x01" ‖ domainSeparator ‖ keccak256(typeHash ‖ words ‖ uint256(deadline))). */
  #digest(primaryType: DeliveryPrimaryType, words: string[], deadline: number): string {
    const struct = Buffer.alloc(32 * (words.length + 2));
    this.#typeHashes[primaryType].copy(struct, 0);
    words.forEach((word, i) => {
      if (!BYTES32.test(word)) throw new TypeError(`expected 32 bytes as 0x-hex, got ${word}`);
      struct.write(word.slice(2), 32 * (i + 1), 32, "hex");
    });
    if (!Number.isSafeInteger(deadline) || deadline < 0) throw new TypeError(`invalid deadline ${deadline}`);
    // The deadline is the last word: a uint256, here at most 2^53, in its low 8 bytes.
    struct.writeBigUInt64BE(BigInt(deadline), struct.length - 8);
    const message = Buffer.concat([this.#prefix, getBytes(keccak256(struct))]);
    return keccak256(message);
  }
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
