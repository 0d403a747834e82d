import { createCipheriv, createHash, getCiphers, getHashes } from "node:crypto";

import { Aes128Gcm, CipherSuite as HpkeSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { expect } from "chai";
import { sm3, sm4 } from "sm-crypto-v2";

import { KeySuite, cipherSuite } from "../../sdk/crypto/index.js";
import { hpkeOpen, hpkeSeal, hpkeSuite } from "../../sdk/crypto/hpke.js";
import { hex, toHex } from "./helpers.js";

// Published vectors: RFC 9180 Appendix A.1.1 and A.2.1, GB/T 32905-2016 and GB/T 32907-2016 Appendix A,
// RFC 8998 Appendix A.1 (SM4-GCM).

const A2_1 = {
  info: hex("4f6465206f6e2061204772656369616e2055726e"),
  ikmE: hex("909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b"),
  pkEm: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
  skEm: "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600",
  ikmR: hex("1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df"),
  pkRm: "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
  skRm: "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
  enc: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
  sharedSecret: "0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7",
  pt: hex("4265617574792069732074727574682c20747275746820626561757479"),
  aad: hex("436f756e742d30"),
  ct: "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
};

const A1_1 = {
  info: hex("4f6465206f6e2061204772656369616e2055726e"),
  ikmE: hex("7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234"),
  pkEm: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
  skEm: "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
  ikmR: hex("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037"),
  pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
  skRm: "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
  sharedSecret: "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc",
  pt: hex("4265617574792069732074727574682c20747275746820626561757479"),
  sequence: [
    {
      aad: hex("436f756e742d30"),
      ct: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
    },
    {
      aad: hex("436f756e742d31"),
      ct: "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84",
    },
  ],
  exporter: "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee",
};

async function derived(ikm: Uint8Array) {
  const pair = await hpkeSuite.kem.deriveKeyPair(ikm);
  return {
    pair,
    privateKey: toHex(new Uint8Array(await hpkeSuite.kem.serializePrivateKey(pair.privateKey))),
    publicKey: toHex(new Uint8Array(await hpkeSuite.kem.serializePublicKey(pair.publicKey))),
  };
}

describe("crypto: published test vectors", () => {
  describe("RFC 9180 A.2.1, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode", () => {
    it("test_deriveKeyPair_givesVectorKeys", async () => {
      const recipient = await derived(A2_1.ikmR);
      expect(recipient.privateKey).to.equal(A2_1.skRm);
      expect(recipient.publicKey).to.equal(A2_1.pkRm);
      const ephemeral = await derived(A2_1.ikmE);
      expect(ephemeral.privateKey).to.equal(A2_1.skEm);
      expect(ephemeral.publicKey).to.equal(A2_1.pkEm);
      // The suite's own key derivation from the private key agrees.
      const publicKey = await cipherSuite(KeySuite.X25519Hpke).publicKeyOf(hex(A2_1.skRm));
      expect(toHex(publicKey)).to.equal(A2_1.pkRm);
    });

    it("test_kem_encapAndDecap_giveVectorSharedSecret", async () => {
      const recipient = await derived(A2_1.ikmR);
      const ekm = await hpkeSuite.kem.deriveKeyPair(A2_1.ikmE);
      const { sharedSecret, enc } = await hpkeSuite.kem.encap({ recipientPublicKey: recipient.pair.publicKey, ekm });
      expect(toHex(new Uint8Array(enc))).to.equal(A2_1.enc);
      expect(toHex(new Uint8Array(sharedSecret))).to.equal(A2_1.sharedSecret);
      const decapsulated = await hpkeSuite.kem.decap({ recipientKey: recipient.pair, enc: hex(A2_1.enc) });
      expect(toHex(new Uint8Array(decapsulated))).to.equal(A2_1.sharedSecret);
    });

    it("test_hpkeOpen_vectorCiphertext_givesPlaintext", async () => {
      const plaintext = await hpkeOpen(hex(A2_1.skRm), hex(A2_1.enc), hex(A2_1.ct), A2_1.aad, A2_1.info);
      expect(toHex(plaintext)).to.equal(toHex(A2_1.pt));
    });

    it("test_hpkeSeal_fixedEphemeralKey_reproducesVectorCiphertext", async () => {
      const { enc, ciphertext } = await hpkeSeal(hex(A2_1.pkRm), A2_1.pt, A2_1.aad, A2_1.info, A2_1.ikmE);
      expect(toHex(enc)).to.equal(A2_1.enc);
      expect(toHex(ciphertext)).to.equal(A2_1.ct);
    });
  });

  describe("RFC 9180 A.1.1, the same KEM and KDF with AES-128-GCM (checks the key schedule apart from the AEAD)", () => {
    it("test_deriveKeyPairAndEncap_giveVectorKeysAndSharedSecret", async () => {
      const recipient = await derived(A1_1.ikmR);
      expect([recipient.privateKey, recipient.publicKey]).to.deep.equal([A1_1.skRm, A1_1.pkRm]);
      const ephemeral = await derived(A1_1.ikmE);
      expect([ephemeral.privateKey, ephemeral.publicKey]).to.deep.equal([A1_1.skEm, A1_1.pkEm]);
      const { sharedSecret } = await hpkeSuite.kem.encap({
        recipientPublicKey: recipient.pair.publicKey,
        ekm: ephemeral.pair,
      });
      expect(toHex(new Uint8Array(sharedSecret))).to.equal(A1_1.sharedSecret);
    });

    it("test_senderContext_sequenceAndExporter_matchVector", async () => {
      const suite = new HpkeSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
      const recipient = await suite.kem.deriveKeyPair(A1_1.ikmR);
      const sender = await suite.createSenderContext({
        recipientPublicKey: recipient.publicKey,
        info: A1_1.info,
        ekm: await suite.kem.deriveKeyPair(A1_1.ikmE),
      });
      expect(toHex(new Uint8Array(sender.enc))).to.equal(A1_1.pkEm);
      for (const { aad, ct } of A1_1.sequence) {
        expect(toHex(new Uint8Array(await sender.seal(A1_1.pt, aad)))).to.equal(ct);
      }
      expect(toHex(new Uint8Array(await sender.export(new Uint8Array(0), 32)))).to.equal(A1_1.exporter);
    });
  });

  describe("GB/T 32905-2016 SM3, Appendix A", () => {
    const vectors = [
      { input: "abc", digest: "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" },
      { input: "abcd".repeat(16), digest: "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732" },
    ];

    it("test_sm3_library_givesVectorDigests", () => {
      for (const { input, digest } of vectors) {
        expect(sm3(new TextEncoder().encode(input))).to.equal(digest);
      }
    });

    it("test_sm3_nodeOpenSsl_givesVectorDigests", function () {
      if (!getHashes().includes("sm3")) this.skip(); // this Node's OpenSSL is built without SM3
      for (const { input, digest } of vectors) {
        expect(createHash("sm3").update(input).digest("hex")).to.equal(digest);
      }
    });
  });

  describe("GB/T 32907-2016 SM4, Appendix A", () => {
    const key = hex("0123456789abcdeffedcba9876543210");
    const block = hex("0123456789abcdeffedcba9876543210");

    it("test_sm4_library_oneEncryptionAndAMillionIterations_giveVectorBlocks", function () {
      this.timeout(20_000);
      const once = sm4.encrypt(block, key, { mode: "ecb", padding: "none", output: "array" });
      expect(toHex(once)).to.equal("681edf34d206965e86b3e94f536e4246");
      let state = block;
      for (let i = 0; i < 1_000_000; i++)
        state = sm4.encrypt(state, key, { mode: "ecb", padding: "none", output: "array" });
      expect(toHex(state)).to.equal("595298c7c6fd271f0402f804c33d3f66");
      const back = sm4.decrypt(once, key, { mode: "ecb", padding: "none", output: "array" });
      expect(toHex(back)).to.equal(toHex(block));
    });

    it("test_sm4_nodeOpenSsl_aMillionIterations_giveVectorBlock", function () {
      if (!getCiphers().includes("sm4-ecb")) this.skip(); // this Node's OpenSSL is built without SM4
      const cipher = createCipheriv("sm4-ecb", key, null).setAutoPadding(false);
      let state = Buffer.from(block);
      for (let i = 0; i < 1_000_000; i++) state = cipher.update(state);
      expect(state.toString("hex")).to.equal("595298c7c6fd271f0402f804c33d3f66");
    });
  });

  describe("RFC 8998 A.1, SM4-GCM", () => {
    const vector = {
      key: hex("0123456789abcdeffedcba9876543210"),
      iv: hex("00001234567800000000abcd"),
      aad: hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
      plaintext: hex(
        "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa",
      ),
      ciphertext:
        "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d",
      tag: "83de3541e4c2b58177e065a9bf7b62ec",
    };

    it("test_sm4Gcm_library_givesVectorCiphertextAndTag_andOpensIt", () => {
      const { output, tag } = sm4.encrypt(vector.plaintext, vector.key, {
        mode: "gcm",
        iv: vector.iv,
        associatedData: vector.aad,
        output: "array",
        outputTag: true,
      });
      expect(toHex(output)).to.equal(vector.ciphertext);
      expect(toHex(tag ?? new Uint8Array(0))).to.equal(vector.tag);
      const opened = sm4.decrypt(hex(vector.ciphertext), vector.key, {
        mode: "gcm",
        iv: vector.iv,
        associatedData: vector.aad,
        tag: hex(vector.tag),
        output: "array",
      });
      expect(toHex(opened)).to.equal(toHex(vector.plaintext));
    });
  });
});
