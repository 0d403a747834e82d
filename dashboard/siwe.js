/*
 * The sign-in message (EIP-4361, "Sign-In with Ethereum") the API verifies with viem's siwe helpers,
 * written field for field as EIP-4361 lays it out, and the small encodings around it: EIP-55
 * checksummed addresses (the message must carry one; ethers' browser build, served from
 * node_modules as /dashboard/vendor/ethers.min.js, computes them), UTF-8 to hex for `personal_sign`,
 * and the base64url JSON of the `#signin=` fragment. The server does the verification that matters.
 */

import { getAddress } from "./vendor/ethers.min.js";

/** True for 0x and 40 hex digits, any case. */
export function isAddress(value) {
  return /^0x[0-9a-fA-F]{40}$/.test(value);
}

/** The EIP-55 checksummed form of an address (ethers' `getAddress`). */
export function checksumAddress(address) {
  if (!isAddress(address)) throw new Error(`not an address: ${address}`);
  return getAddress(address.toLowerCase());
}

/** The EIP-4361 message text of `fields` (the same text as viem's `createSiweMessage`). */
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
