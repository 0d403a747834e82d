import { Signature, type SigningKey, getAddress, keccak256 } from "ethers";

/*
 * Signing a large transaction without ethers' general path: `Wallet.signTransaction` copies and
 * re-encodes the calldata as hex several times and hashes it twice through those copies, about
 * 60-90 ms for a 70 KB `issueAssets` on a busy machine. Here the calldata stays bytes, RLP is
 * written once into one buffer, and only the two hashes (unsigned, signed) touch every byte. The
 * bytes are the same as ethers' (RFC 6979 signatures are deterministic): tested against it.
 */

/** The fields of a transaction the bulk path signs: a call with no value and no access list. */
export interface RawTransactionFields {
  chainId: bigint;
  nonce: number;
  to: string;
  gasLimit: number;
  data: Uint8Array;
  fees: { gasPrice: bigint } | { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
}

/** A signed transaction: the raw bytes as 0x-hex (for `eth_sendRawTransaction`) and its hash. */
export interface SignedRaw {
  raw: string;
  hash: string;
}

/**
 * Signs `fields` with `key`: an EIP-1559 (type 2) transaction for `maxFeePerGas` fees, a legacy
 * EIP-155 one for `gasPrice`.
 */
export function signRawTransaction(key: SigningKey, fields: RawTransactionFields): SignedRaw {
  const nonce = uintBytes(BigInt(fields.nonce));
  const gasLimit = uintBytes(BigInt(fields.gasLimit));
  const to = hexBytes(getAddress(fields.to));
  const value = new Uint8Array(0);
  if ("gasPrice" in fields.fees) {
    const call = [nonce, uintBytes(fields.fees.gasPrice), gasLimit, to, value, fields.data];
    const unsigned = rlp([...call, uintBytes(fields.chainId), new Uint8Array(0), new Uint8Array(0)]);
    const signature = Signature.from(key.sign(keccak256(unsigned)));
    const v = fields.chainId * 2n + 35n + BigInt(signature.yParity);
    const raw = rlp([...call, uintBytes(v), trimmed(signature.r), trimmed(signature.s)]);
    return { raw: toHex(raw), hash: keccak256(raw) };
  }
  const { maxPriorityFeePerGas, maxFeePerGas } = fields.fees;
  const body: RlpItem[] = [
    uintBytes(fields.chainId),
    nonce,
    uintBytes(maxPriorityFeePerGas),
    uintBytes(maxFeePerGas),
    gasLimit,
    to,
    value,
    fields.data,
    [], // access list
  ];
  const signature = Signature.from(key.sign(keccak256(typed(2, rlp(body)))));
  const raw = typed(
    2,
    rlp([...body, uintBytes(BigInt(signature.yParity)), trimmed(signature.r), trimmed(signature.s)]),
  );
  return { raw: toHex(raw), hash: keccak256(raw) };
}

type RlpItem = Uint8Array | RlpItem[];

/** RLP of `item`, written into one buffer. */
function rlp(item: RlpItem): Uint8Array {
  const out = new Uint8Array(rlpLength(item));
  const end = write(item, out, 0);
  if (end !== out.length) throw new Error("RLP length mismatch");
  return out;
}

function payloadLength(item: RlpItem): number {
  if (item instanceof Uint8Array) return item.length === 1 && item[0] < 0x80 ? 0 : item.length;
  return item.reduce((sum, child) => sum + rlpLength(child), 0);
}

function rlpLength(item: RlpItem): number {
  if (item instanceof Uint8Array && item.length === 1 && item[0] < 0x80) return 1;
  const length = payloadLength(item);
  return headerLength(length) + length;
}

function headerLength(length: number): number {
  return length < 56 ? 1 : 1 + byteLength(length);
}

function byteLength(n: number): number {
  let bytes = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes++;
  return bytes;
}

function write(item: RlpItem, out: Uint8Array, offset: number): number {
  if (item instanceof Uint8Array && item.length === 1 && item[0] < 0x80) {
    out[offset] = item[0];
    return offset + 1;
  }
  const length = payloadLength(item);
  const base = item instanceof Uint8Array ? 0x80 : 0xc0;
  if (length < 56) {
    out[offset++] = base + length;
  } else {
    const n = byteLength(length);
    out[offset++] = base + 55 + n;
    for (let i = n - 1; i >= 0; i--) out[offset++] = Math.floor(length / 256 ** i) % 256;
  }
  if (item instanceof Uint8Array) {
    out.set(item, offset);
    return offset + item.length;
  }
  for (const child of item) offset = write(child, out, offset);
  return offset;
}

function typed(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = type;
  out.set(payload, 1);
  return out;
}

/** A quantity as RLP wants it: big-endian, no leading zeros, empty for zero. */
function uintBytes(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, "hex");
}

function trimmed(word: string): Uint8Array {
  return uintBytes(BigInt(word));
}

function hexBytes(hex: string): Uint8Array {
  return Buffer.from(hex.slice(2), "hex");
}

function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")}`;
}
