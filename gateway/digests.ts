import { type TypedDataDomain, TypedDataEncoder, concat, getBytes, keccak256, toBeHex, zeroPadValue } from "ethers";

import { DELIVERY_TYPES, type DeliveryPrimaryType } from "../sdk/delivery-protocol.js";

/**
 * The EIP-712 digests of the gateway's messages, computed the fast way: every field of these
 * messages is a static 32-byte word, so the struct hash is keccak256 of the typehash and the words,
 * and the domain separator is computed once. ethers' generic encoder parses the types on every call
 * and costs ten times as much per request; the tests hold the two equal.
 */
export class GatewayDigests {
  readonly #prefix: Uint8Array;
  readonly #typeHashes: Record<DeliveryPrimaryType, string>;

  constructor(domain: TypedDataDomain) {
    this.#prefix = getBytes(concat(["0x1901", TypedDataEncoder.hashDomain(domain)]));
    const typeHash = (primaryType: DeliveryPrimaryType) =>
      keccak256(
        new TextEncoder().encode(
          TypedDataEncoder.from({ [primaryType]: [...DELIVERY_TYPES[primaryType]] }).encodeType(primaryType),
        ),
      );
    this.#typeHashes = {
      UploadPayload: typeHash("UploadPayload"),
      HolderFetch: typeHash("HolderFetch"),
      ConsumerFetch: typeHash("ConsumerFetch"),
    };
  }

  upload(m: { assetId: string; deadline: number }): string {
    return this.#digest("UploadPayload", [m.assetId, word(m.deadline)]);
  }

  holderFetch(m: { assetId: string; subjectId: string; nonce: string; deadline: number }): string {
    return this.#digest("HolderFetch", [m.assetId, m.subjectId, m.nonce, word(m.deadline)]);
  }

  consumerFetch(m: { accessId: string; transactionHash: string; assetId: string; deadline: number }): string {
    return this.#digest("ConsumerFetch", [m.accessId, m.transactionHash, m.assetId, word(m.deadline)]);
  }

  #digest(primaryType: DeliveryPrimaryType, words: string[]): string {
    const structHash = keccak256(concat([this.#typeHashes[primaryType], ...words.map((w) => zeroPadValue(w, 32))]));
    return keccak256(concat([this.#prefix, structHash]));
  }
}

function word(value: number): string {
  return toBeHex(value, 32);
}
