/*
 * The sign-in message (EIP-4361, "Sign-In with Ethereum") the API verifies with viem's siwe helpers,
 * written field for field as EIP-4361 lays it out, and the small encodings around it: EIP-55
 * checksummed addresses (the message must carry one), UTF-8 to hex for `personal_sign`, and the
 * base64url JSON of the `#signin=` fragment. The page has no bundler, so these few lines live here
 * instead of pulling a library into the browser; the server does the verification that matters.
 */

const MASK64 = (1n << 64n) - 1n;
/** Keccak-f[1600] round constants. */
const ROUND_CONSTANTS = [
  0x0000000000000001n,
  0x0000000000008082n,
  0x800000000000808an,
  0x8000000080008000n,
  0x000000000000808bn,
  0x0000000080000001n,
  0x8000000080008081n,
  0x8000000000008009n,
  0x000000000000008an,
  0x0000000000000088n,
  0x0000000080008009n,
  0x000000008000000an,
  0x000000008000808bn,
  0x800000000000008bn,
  0x8000000000008089n,
  0x8000000000008003n,
  0x8000000000008002n,
  0x8000000000000080n,
  0x000000000000800an,
  0x800000008000000an,
  0x8000000080008081n,
  0x8000000000008080n,
  0x0000000080000001n,
  0x8000000080008008n,
];
/** Rotation of lane x + 5y. */
const ROTATIONS = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14].map(
  BigInt,
);

function rotl(value, n) {
  return n === 0n ? value : ((value << n) | (value >> (64n - n))) & MASK64;
}

function keccakF(state) {
  const c = new Array(5);
  const b = new Array(25);
  for (const rc of ROUND_CONSTANTS) {
    for (let x = 0; x < 5; x++) c[x] = state[x] ^ state[x + 5] ^ state[x + 10] ^ state[x + 15] ^ state[x + 20];
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1n);
      for (let y = 0; y < 25; y += 5) state[x + y] ^= d;
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(state[x + 5 * y], ROTATIONS[x + 5 * y]);
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) state[x + y] = b[x + y] ^ (~b[((x + 1) % 5) + y] & MASK64 & b[((x + 2) % 5) + y]);
    }
    state[0] ^= rc;
  }
}

/** Keccak-256 (Ethereum's, not SHA3-256) of `bytes`, as a Uint8Array of 32. */
export function keccak256(bytes) {
  const rate = 136;
  const padded = new Uint8Array(Math.floor(bytes.length / rate) * rate + rate);
  padded.set(bytes);
  padded[bytes.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const state = new Array(25).fill(0n);
  for (let offset = 0; offset < padded.length; offset += rate) {
    for (let lane = 0; lane < rate / 8; lane++) {
      let value = 0n;
      for (let i = 7; i >= 0; i--) value = (value << 8n) | BigInt(padded[offset + lane * 8 + i]);
      state[lane] ^= value;
    }
    keccakF(state);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((state[i >> 3] >> BigInt(8 * (i & 7))) & 0xffn);
  return out;
}

/** True for 0x and 40 hex digits, any case. */
export function isAddress(value) {
  return /^0x[0-9a-fA-F]{40}$/.test(value);
}

/** The EIP-55 checksummed form of an address. */
export function checksumAddress(address) {
  if (!isAddress(address)) throw new Error(`not an address: ${address}`);
  const lower = address.slice(2).toLowerCase();
  const hash = keccak256(new TextEncoder().encode(lower));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    out += nibble >= 8 ? lower[i].toUpperCase() : lower[i];
  }
  return out;
}

/**
 * The EIP-4361 message for signing in to this page.
 * @param {{ domain: string, address: string, statement?: string, uri: string, chainId: number,
 *   nonce: string, issuedAt: Date, expirationTime?: Date }} fields
 */
export function siweMessage(fields) {
  const lines = [
    `${fields.domain} wants you to sign in with your Ethereum account:`,
    checksumAddress(fields.address),
    "",
  ];
  if (fields.statement) lines.push(fields.statement, "");
  lines.push(
    `URI: ${fields.uri}`,
    "Version: 1",
    `Chain ID: ${fields.chainId}`,
    `Nonce: ${fields.nonce}`,
    `Issued At: ${fields.issuedAt.toISOString()}`,
  );
  if (fields.expirationTime) lines.push(`Expiration Time: ${fields.expirationTime.toISOString()}`);
  return lines.join("\n");
}

/** The 0x-hex of a string's UTF-8 bytes (what `personal_sign` takes). */
export function utf8Hex(text) {
  let hex = "0x";
  for (const byte of new TextEncoder().encode(text)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Decodes base64url (no padding needed) to a UTF-8 string. */
export function base64urlDecode(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
}

/**
 * The `{ message, signature }` of a `#signin=<base64url JSON>` fragment, or undefined when the
 * fragment holds none. Throws on a fragment that names sign-in but does not decode.
 */
export function signInFromFragment(hash) {
  const match = /^#signin=([A-Za-z0-9_-]+)$/.exec(hash);
  if (!match) return undefined;
  const parsed = JSON.parse(base64urlDecode(match[1]));
  if (typeof parsed?.message !== "string" || typeof parsed?.signature !== "string") {
    throw new Error("the #signin fragment must hold { message, signature }");
  }
  return { message: parsed.message, signature: parsed.signature };
}
