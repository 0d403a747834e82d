import { execFileSync } from "node:child_process";
import {
  createCipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  getCiphers,
  getHashes,
} from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import fc from "fast-check";
import { sm3, sm4 } from "sm-crypto-v2";

import { KeySuite, cipherSuite, openWith, sealTo } from "../../sdk/crypto/index.js";
import { ENVELOPE_LABEL } from "../../sdk/crypto/envelope.js";
import { hex, payload, runs, toHex, utf8 } from "./helpers.js";

// No published SM2 encryption vector on the recommended curve is at hand (GB/T 32918.4's worked
// example uses another curve), so the SM2 suite is checked against an independent implementation:
// OpenSSL (`openssl pkeyutl`, GB/T 32918.4 with C1 C3 C2 in ASN.1) decrypts what the SDK seals and
// the SDK opens what OpenSSL encrypts. SM3 and SM4 are compared with Node's OpenSSL on random inputs.

/** Envelope layout of the SM2 suite (see sdk/crypto/sm2.ts). */
const SM2_PART = { start: 2, c1: 64, c3: 32, c2: 16 };
const SM2_PART_END = SM2_PART.start + SM2_PART.c1 + SM2_PART.c3 + SM2_PART.c2;
const NONCE_END = SM2_PART_END + 12;
const TAG_LENGTH = 16;

describe("crypto: SM2 suite against OpenSSL", function () {
  this.timeout(60_000);
  let dir: string;
  let keyFile: string;
  let publicKeyFile: string;
  let privateKey: Uint8Array;
  let publicKey: Uint8Array;

  before(function () {
    if (!hasOpenSslSm2()) this.skip(); // no `openssl` with SM2 on this machine
    dir = mkdtempSync(join(tmpdir(), "datasafe-sm2-"));
    // The key pair comes from OpenSSL too, so the SDK's key handling is checked as well.
    const pair = generateKeyPairSync("ec", { namedCurve: "SM2" });
    const sec1 = pair.privateKey.export({ format: "der", type: "sec1" });
    privateKey = new Uint8Array(sec1.subarray(7, 39));
    publicKey = new Uint8Array(sec1.subarray(sec1.length - 64));
    keyFile = join(dir, "key.pem");
    publicKeyFile = join(dir, "public.pem");
    writeFileSync(keyFile, pair.privateKey.export({ format: "pem", type: "pkcs8" }));
    writeFileSync(publicKeyFile, pair.publicKey.export({ format: "pem", type: "spki" }));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("test_publicKeyOf_opensslPrivateKey_givesOpensslPublicKey", async () => {
    expect(toHex(await cipherSuite(KeySuite.Sm2).publicKeyOf(privateKey))).to.equal(toHex(publicKey));
    // And the reverse: from the scalar alone, OpenSSL derives the public key the SDK generated.
    const sdkPair = await cipherSuite(KeySuite.Sm2).generateKeyPair();
    const scalarOnly = Buffer.concat([hex("30310201010420"), sdkPair.privateKey, hex("a00a06082a811ccf5501822d")]);
    const spki = createPublicKey(createPrivateKey({ key: scalarOnly, format: "der", type: "sec1" })).export({
      format: "der",
      type: "spki",
    });
    expect(toHex(spki.subarray(spki.length - 64))).to.equal(toHex(sdkPair.publicKey));
  });

  it("test_opensslDecrypt_sdkEnvelope_recoversDataKeyAndPayload", async () => {
    for (const size of [0, 33, 4096]) {
      const plaintext = payload(size, size);
      const aad = utf8(`access ${size}`);
      const envelope = await sealTo({ suite: KeySuite.Sm2, publicKey }, plaintext, aad);

      const c1 = envelope.subarray(SM2_PART.start, SM2_PART.start + SM2_PART.c1);
      const c3 = envelope.subarray(SM2_PART.start + SM2_PART.c1, SM2_PART.start + SM2_PART.c1 + SM2_PART.c3);
      const c2 = envelope.subarray(SM2_PART_END - SM2_PART.c2, SM2_PART_END);
      const der = derSequence([
        derInteger(c1.subarray(0, 32)),
        derInteger(c1.subarray(32)),
        derOctets(c3),
        derOctets(c2),
      ]);
      const dataKey = openssl(["pkeyutl", "-decrypt", "-inkey", keyFile], der);
      expect(dataKey.length).to.equal(16);

      // SM4-GCM encrypts with counter blocks nonce || 2, 3, ...: Node's SM4-CTR recovers the payload.
      const nonce = envelope.subarray(SM2_PART_END, NONCE_END);
      const ciphertext = envelope.subarray(NONCE_END, envelope.length - TAG_LENGTH);
      const ctr = createCipheriv("sm4-ctr", dataKey, Buffer.concat([nonce, hex("00000002")]));
      expect(Buffer.compare(ctr.update(ciphertext), plaintext)).to.equal(0);

      // The tag authenticates the label, the envelope up to the nonce, and the caller's aad.
      const opened = sm4.decrypt(ciphertext, dataKey, {
        mode: "gcm",
        iv: nonce,
        tag: envelope.subarray(envelope.length - TAG_LENGTH),
        associatedData: Buffer.concat([ENVELOPE_LABEL, envelope.subarray(0, SM2_PART_END), aad]),
        output: "array",
      });
      expect(Buffer.compare(opened, plaintext)).to.equal(0);
    }
  });

  it("test_sdkOpen_envelopeAroundOpensslCiphertext_givesPayload", async () => {
    for (let i = 0; i < 6; i++) {
      const dataKey = payload(16, 100 + i);
      const der = openssl(["pkeyutl", "-encrypt", "-pubin", "-inkey", publicKeyFile], dataKey);
      const [x, y, c3, c2] = derSequenceItems(der);
      const head = Buffer.concat([Uint8Array.of(1, KeySuite.Sm2), fixed32(x), fixed32(y), c3, c2]);
      expect(head.length).to.equal(SM2_PART_END);

      const plaintext = payload(1000 + i, i);
      const aad = utf8("access id");
      const nonce = payload(12, 200 + i);
      const { output, tag } = sm4.encrypt(plaintext, dataKey, {
        mode: "gcm",
        iv: nonce,
        associatedData: Buffer.concat([ENVELOPE_LABEL, head, aad]),
        output: "array",
        outputTag: true,
      });
      const envelope = Buffer.concat([head, nonce, output, tag ?? new Uint8Array(0)]);
      const opened = await openWith({ suite: KeySuite.Sm2, privateKey }, envelope, aad);
      expect(Buffer.compare(opened, plaintext)).to.equal(0);
    }
  });
});

describe("crypto: SM3 and SM4 of sm-crypto-v2 against Node's OpenSSL", function () {
  before(function () {
    if (!getHashes().includes("sm3") || !getCiphers().includes("sm4-ctr")) this.skip();
  });

  it("test_sm3_randomInputs_equalOpenSsl", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), (input) => {
        expect(sm3(input)).to.equal(createHash("sm3").update(input).digest("hex"));
      }),
      runs(200),
    );
  });

  it("test_sm4Gcm_randomInputs_ciphertextEqualsOpenSslCtr", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 600 }),
        (key, nonce, plaintext) => {
          const { output } = sm4.encrypt(plaintext, key, { mode: "gcm", iv: nonce, output: "array", outputTag: true });
          const ctr = createCipheriv("sm4-ctr", key, Buffer.concat([nonce, hex("00000002")]));
          expect(toHex(output)).to.equal(toHex(Buffer.concat([ctr.update(plaintext), ctr.final()])));
        },
      ),
      runs(100),
    );
  });
});

function hasOpenSslSm2(): boolean {
  try {
    return execFileSync("openssl", ["ecparam", "-list_curves"], { encoding: "utf8" }).includes("SM2");
  } catch {
    return false;
  }
}

function openssl(args: string[], input: Uint8Array): Buffer {
  return execFileSync("openssl", args, { input });
}

// Minimal DER for the SM2 ciphertext of GB/T 32918.4: SEQUENCE { INTEGER x, INTEGER y, OCTET STRING
// C3, OCTET STRING C2 }. All parts are shorter than 128 bytes, so lengths are one byte.

function derSequence(items: Uint8Array[]): Buffer {
  const body = Buffer.concat(items);
  return Buffer.concat([Uint8Array.of(0x30, body.length), body]);
}

function derInteger(unsigned: Uint8Array): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0 && unsigned[start + 1] < 0x80) start++;
  const trimmed = unsigned.subarray(start);
  const value = trimmed[0] >= 0x80 ? Buffer.concat([Uint8Array.of(0), trimmed]) : Buffer.from(trimmed);
  return Buffer.concat([Uint8Array.of(0x02, value.length), value]);
}

function derOctets(bytes: Uint8Array): Buffer {
  return Buffer.concat([Uint8Array.of(0x04, bytes.length), bytes]);
}

function derSequenceItems(der: Uint8Array): Uint8Array[] {
  expect(der[0]).to.equal(0x30);
  const [length, start] = der[1] === 0x81 ? [der[2], 3] : [der[1], 2];
  expect(start + length).to.equal(der.length);
  const items: Uint8Array[] = [];
  for (let offset = start; offset < der.length;) {
    const itemLength = der[offset + 1];
    items.push(der.subarray(offset + 2, offset + 2 + itemLength));
    offset += 2 + itemLength;
  }
  return items;
}

/** A DER INTEGER's value as 32 big-endian bytes. */
function fixed32(integer: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  const value = integer.length > 32 ? integer.subarray(integer.length - 32) : integer;
  out.set(value, 32 - value.length);
  return out;
}
