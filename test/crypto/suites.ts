import { expect } from "chai";
import fc from "fast-check";

import {
  DecryptionError,
  ENVELOPE_VERSION,
  InvalidKeyError,
  KeySuite,
  UnsupportedSuiteError,
  cipherSuite,
  envelopeHeader,
  openWith,
  sealTo,
  type KeyPair,
} from "../../sdk/crypto/index.js";
import { DataSafeError, InvalidInputError } from "../../sdk/errors.js";
import type { EncryptionKey } from "../../sdk/types.js";
import { expectDecryptionError, flipped, hex, payload, rejection, runs, toHex, utf8 } from "./helpers.js";

const MB = 1024 * 1024;

/** What each suite adds to the plaintext: header, then enc + tag (HPKE) or C1 C3 C2 + nonce + tag (SM2). */
const OVERHEAD = { [KeySuite.X25519Hpke]: 2 + 32 + 16, [KeySuite.Sm2]: 2 + 64 + 32 + 16 + 12 + 16 };

const ACCESS_ID = hex("5f0ad3c3a1b7e4d2c9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6");

for (const suite of [KeySuite.X25519Hpke, KeySuite.Sm2] as const) {
  const name = KeySuite[suite];

  describe(`crypto: ${name} suite`, function () {
    this.timeout(60_000);
    let alice: KeyPair;
    let bob: KeyPair;

    before(async () => {
      alice = await cipherSuite(suite).generateKeyPair();
      bob = await cipherSuite(suite).generateKeyPair();
    });

    describe("round trip", () => {
      it("test_sealOpen_randomSmallPayloadsAndAad_roundTrip", async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.uint8Array({ maxLength: 4096 }),
            fc.uint8Array({ maxLength: 64 }),
            async (plaintext, aad) => {
              const envelope = await sealTo(alice, plaintext, aad);
              expect(envelope.length).to.equal(plaintext.length + OVERHEAD[suite]);
              expect(envelopeHeader(envelope)).to.deep.equal({ version: ENVELOPE_VERSION, suite });
              expect(toHex(await openWith(alice, envelope, aad))).to.equal(toHex(plaintext));
            },
          ),
          runs(100),
        );
      });

      it("test_sealOpen_randomSizesUpTo1MB_roundTrip", async () => {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 4097, max: MB }), fc.integer(), async (size, seed) => {
            const plaintext = payload(size, seed);
            const envelope = await sealTo(alice, plaintext, ACCESS_ID);
            const opened = await openWith(alice, envelope, ACCESS_ID);
            expect(Buffer.compare(opened, plaintext)).to.equal(0);
          }),
          runs(6),
        );
      });

      it("test_sealOpen_emptyAnd10MB_roundTrip", async () => {
        for (const size of [0, 10 * MB]) {
          const plaintext = payload(size, size);
          const envelope = await sealTo(alice, plaintext, ACCESS_ID);
          expect(envelope.length).to.equal(size + OVERHEAD[suite]);
          expect(Buffer.compare(await openWith(alice, envelope, ACCESS_ID), plaintext)).to.equal(0);
        }
      });

      it("test_sealOpen_subarrayInputs_roundTrip", async () => {
        // Views into a larger buffer: the suites must read byteOffset/length, not the whole buffer.
        const backing = payload(300, 7);
        const plaintext = backing.subarray(17, 217);
        const aad = backing.subarray(250, 282);
        const envelope = await sealTo(alice, plaintext, aad);
        const copy = new Uint8Array(envelope.length + 9);
        copy.set(envelope, 5);
        expect(toHex(await openWith(alice, copy.subarray(5, 5 + envelope.length), aad.slice()))).to.equal(
          toHex(plaintext),
        );
      });

      it("test_seal_samePlaintextTwice_givesDifferentEnvelopes", async () => {
        const plaintext = utf8("household register, district 7");
        const first = await sealTo(alice, plaintext);
        const second = await sealTo(alice, plaintext);
        expect(toHex(first)).to.not.equal(toHex(second));
        expect(toHex(await openWith(alice, second))).to.equal(toHex(plaintext));
      });

      it("test_open_missingAadEqualsEmptyAad", async () => {
        const envelope = await sealTo(alice, utf8("x"));
        expect(toHex(await openWith(alice, envelope, new Uint8Array(0)))).to.equal(toHex(utf8("x")));
      });

      it("test_generateKeyPair_publicKeyOfPrivateKey_matches", async () => {
        const { publicKey, privateKey } = await cipherSuite(suite).generateKeyPair();
        expect(publicKey.length).to.equal(suite === KeySuite.Sm2 ? 64 : 32);
        expect(privateKey.length).to.equal(32);
        expect(toHex(await cipherSuite(suite).publicKeyOf(privateKey))).to.equal(toHex(publicKey));
      });
    });

    describe("tampering", () => {
      it("test_open_everyByteOfASmallEnvelopeFlipped_throwsDecryptionError", async () => {
        const plaintext = utf8("fund");
        const envelope = await sealTo(alice, plaintext, ACCESS_ID);
        for (let index = 0; index < envelope.length; index++) {
          await expectDecryptionError(() => openWith(alice, flipped(envelope, index), ACCESS_ID));
        }
        // Untouched, it still opens: the failures above come from the flips.
        expect(toHex(await openWith(alice, envelope, ACCESS_ID))).to.equal(toHex(plaintext));
      });

      it("test_open_randomByteChangedAnywhere_throwsDecryptionError", async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.uint8Array({ maxLength: 2048 }),
            fc.nat(),
            fc.integer({ min: 1, max: 255 }),
            async (plaintext, position, mask) => {
              const envelope = await sealTo(alice, plaintext, ACCESS_ID);
              const index = position % envelope.length;
              await expectDecryptionError(() => openWith(alice, flipped(envelope, index, mask), ACCESS_ID));
            },
          ),
          runs(100),
        );
      });

      it("test_open_truncatedOrExtended_throwsDecryptionError", async () => {
        const envelope = await sealTo(alice, utf8("record"), ACCESS_ID);
        for (let length = 0; length < envelope.length; length++) {
          await expectDecryptionError(() => openWith(alice, envelope.slice(0, length), ACCESS_ID));
        }
        const extended = new Uint8Array(envelope.length + 1);
        extended.set(envelope);
        await expectDecryptionError(() => openWith(alice, extended, ACCESS_ID), "authentication");
      });

      it("test_open_headerChanged_namesVersionOrSuite", async () => {
        const envelope = await sealTo(alice, utf8("record"));
        await expectDecryptionError(() => openWith(alice, flipped(envelope, 0, 0x02)), "version");
        await expectDecryptionError(() => openWith(alice, flipped(envelope, 1, 0x03)), "suite");
        await expectDecryptionError(() => openWith(alice, new Uint8Array(1)), "malformed");
      });

      it("test_open_wrongKey_throwsDecryptionError", async () => {
        await fc.assert(
          fc.asyncProperty(fc.uint8Array({ maxLength: 1024 }), async (plaintext) => {
            const envelope = await sealTo(alice, plaintext, ACCESS_ID);
            await expectDecryptionError(() => openWith(bob, envelope, ACCESS_ID), "authentication");
          }),
          runs(25),
        );
      });

      it("test_open_wrongAad_throwsDecryptionError", async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.uint8Array({ maxLength: 256 }),
            fc.uint8Array({ maxLength: 64 }),
            fc.uint8Array({ maxLength: 64 }),
            async (plaintext, aad, other) => {
              fc.pre(toHex(aad) !== toHex(other));
              const envelope = await sealTo(alice, plaintext, aad);
              await expectDecryptionError(() => openWith(alice, envelope, other), "authentication");
            },
          ),
          runs(50),
        );
      });

      it("test_open_envelopeOfTheOtherSuite_throwsDecryptionError", async () => {
        const other = suite === KeySuite.Sm2 ? KeySuite.X25519Hpke : KeySuite.Sm2;
        const recipient = await cipherSuite(other).generateKeyPair();
        const envelope = await sealTo(recipient, utf8("record"));
        await expectDecryptionError(() => openWith(alice, envelope), "suite");
      });
    });

    describe("bad input", () => {
      const keyLength = suite === KeySuite.Sm2 ? 64 : 32;

      it("test_seal_publicKeyOfWrongLength_throwsInvalidKeyError", async () => {
        await fc.assert(
          fc.asyncProperty(fc.uint8Array({ maxLength: 100 }), async (key) => {
            fc.pre(key.length !== keyLength);
            const error = await rejection(() => cipherSuite(suite).seal(key, utf8("x")));
            expect(error).to.be.instanceOf(InvalidKeyError);
            expect(error).to.include({ suite, key: "publicKey" });
          }),
          runs(30),
        );
      });

      it("test_open_privateKeyOfWrongLength_throwsInvalidKeyError", async () => {
        const envelope = await sealTo(alice, utf8("x"));
        for (const length of [0, 16, 31, 33, 64]) {
          const error = await rejection(() => cipherSuite(suite).open(new Uint8Array(length).fill(1), envelope));
          expect(error).to.be.instanceOf(InvalidKeyError);
          expect(error).to.include({ suite, key: "privateKey" });
        }
      });

      it("test_seal_notBytes_throwsTypedErrors", async () => {
        const keyError = await rejection(() => cipherSuite(suite).seal("04ab" as unknown as Uint8Array, utf8("x")));
        expect(keyError).to.be.instanceOf(InvalidKeyError);
        const inputError = await rejection(() => sealTo(alice, "record" as unknown as Uint8Array));
        expect(inputError).to.be.instanceOf(InvalidInputError);
        expect(inputError).to.include({ field: "plaintext" });
      });
    });
  });
}

describe("crypto: key validation per suite", () => {
  const le = (value: bigint) => {
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    return bytes;
  };
  const be = (value: bigint, length = 32) => hex(value.toString(16).padStart(2 * length, "0"));
  const P25519 = (1n << 255n) - 19n;
  const SM2_P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
  const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

  it("test_x25519Seal_lowOrderPublicKeys_throwInvalidKeyError", async () => {
    // u = 0, 1, p - 1 and their non-canonical forms p, p + 1 give an all-zero shared secret.
    for (const u of [0n, 1n, P25519 - 1n, P25519, P25519 + 1n]) {
      const error = await rejection(() => cipherSuite(KeySuite.X25519Hpke).seal(le(u), utf8("x")));
      expect(error, `u = ${u}`).to.be.instanceOf(InvalidKeyError);
      expect(error).to.include({ key: "publicKey" });
    }
  });

  it("test_sm2Seal_pointsOffTheCurve_throwInvalidKeyError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 64, maxLength: 64 }), async (key) => {
        const error = await rejection(() => cipherSuite(KeySuite.Sm2).seal(key, utf8("x")));
        expect(error).to.be.instanceOf(InvalidKeyError);
        expect(error).to.include({ suite: KeySuite.Sm2, key: "publicKey" });
      }),
      runs(30),
    );
    // The point at infinity has no affine form; a coordinate equal to p is out of the field.
    const { publicKey } = await cipherSuite(KeySuite.Sm2).generateKeyPair();
    const xIsP = new Uint8Array([...be(SM2_P), ...publicKey.subarray(32)]);
    for (const key of [new Uint8Array(64), xIsP]) {
      expect(await rejection(() => cipherSuite(KeySuite.Sm2).seal(key, utf8("x")))).to.be.instanceOf(InvalidKeyError);
    }
  });

  it("test_sm2Open_privateKeysOutOfRange_throwInvalidKeyError", async () => {
    const pair = await cipherSuite(KeySuite.Sm2).generateKeyPair();
    const envelope = await sealTo(pair, utf8("x"));
    for (const d of [0n, SM2_N - 1n, SM2_N, (1n << 256n) - 1n]) {
      const error = await rejection(() => cipherSuite(KeySuite.Sm2).open(be(d), envelope));
      expect(error, `d = ${d}`).to.be.instanceOf(InvalidKeyError);
      expect(error).to.include({ key: "privateKey" });
      expect(await rejection(() => cipherSuite(KeySuite.Sm2).publicKeyOf(be(d)))).to.be.instanceOf(InvalidKeyError);
    }
    // The bounds themselves are keys: 1 and n - 2 open (and fail only on authentication).
    for (const d of [1n, SM2_N - 2n]) {
      await expectDecryptionError(() => cipherSuite(KeySuite.Sm2).open(be(d), envelope), "authentication");
    }
  });
});

describe("crypto: SM2 recipient precomputation", () => {
  it("test_sm2Seal_firstSecondAndLaterSealsToOneKey_allOpen", async () => {
    // The first seal to a key multiplies its point directly; from the second on, by precomputed
    // multiples. Each path must give envelopes the recipient opens, and no other key does.
    const recipient = await cipherSuite(KeySuite.Sm2).generateKeyPair();
    const other = await cipherSuite(KeySuite.Sm2).generateKeyPair();
    for (let i = 0; i < 4; i++) {
      const envelope = await sealTo(recipient, utf8(`record ${i}`), ACCESS_ID);
      expect(toHex(await openWith(recipient, envelope, ACCESS_ID))).to.equal(toHex(utf8(`record ${i}`)));
      await expectDecryptionError(() => openWith(other, envelope, ACCESS_ID), "authentication");
    }
  });
});

describe("crypto: suite numbers", () => {
  it("test_cipherSuite_knownNumbers_giveTheirSuites", () => {
    expect(cipherSuite(KeySuite.X25519Hpke)).to.include({ suite: 1, name: "HPKE-X25519-SHA256-ChaCha20Poly1305" });
    expect(cipherSuite(KeySuite.Sm2)).to.include({ suite: 2, name: "SM2-SM3-SM4GCM" });
  });

  it("test_cipherSuite_unknownNumbers_throwUnsupportedSuiteError", async () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double()), (suite) => {
        fc.pre(suite !== 1 && suite !== 2);
        let error: unknown;
        try {
          cipherSuite(suite);
        } catch (caught) {
          error = caught;
        }
        expect(error).to.be.instanceOf(UnsupportedSuiteError);
        expect(Object.is((error as UnsupportedSuiteError).suite, suite)).to.equal(true);
      }),
      runs(200),
    );
    const none = { suite: KeySuite.None, publicKey: new Uint8Array(32), privateKey: new Uint8Array(32) };
    expect(await rejection(() => sealTo(none, utf8("x")))).to.be.instanceOf(UnsupportedSuiteError);
    expect(await rejection(() => openWith({ ...none, suite: 3 as KeySuite }, new Uint8Array(60)))).to.be.instanceOf(
      UnsupportedSuiteError,
    );
  });

  it("test_sealToOpenWith_suiteByNameAndHexKey_roundTrip", async () => {
    for (const name of ["X25519Hpke", "Sm2"] as const) {
      const pair = await cipherSuite(name).generateKeyPair();
      expect(pair.suite).to.equal(KeySuite[name]);
      // As safe.keys returns a key: suite by name, public key as 0x-hex.
      const envelope = await sealTo(
        { suite: name, publicKey: "0x" + toHex(pair.publicKey) },
        utf8("record"),
        ACCESS_ID,
      );
      expect(envelopeHeader(envelope).suite).to.equal(KeySuite[name]);
      expect(toHex(await openWith({ suite: name, privateKey: pair.privateKey }, envelope, ACCESS_ID))).to.equal(
        toHex(utf8("record")),
      );
      for (const bad of ["", "0x1", toHex(pair.publicKey), "0x" + toHex(pair.publicKey) + "zz"]) {
        const error = await rejection(() => sealTo({ suite: name, publicKey: bad }, utf8("x")));
        expect(error, JSON.stringify(bad)).to.be.instanceOf(InvalidKeyError);
      }
    }
  });

  it("test_sealTo_keyAsSafeKeysReturnsIt_opens", async () => {
    const pair = await cipherSuite(KeySuite.Sm2).generateKeyPair();
    const onChain: EncryptionKey = { suite: "Sm2", setAt: 1_700_000_000, publicKey: "0x" + toHex(pair.publicKey) };
    const envelope = await sealTo(onChain, utf8("record"));
    expect(toHex(await openWith(pair, envelope))).to.equal(toHex(utf8("record")));
  });

  it("test_cipherSuite_unknownNames_throwUnsupportedSuiteError", async () => {
    for (const name of ["None", "sm2", "Aes", "toString", "__proto__"]) {
      const error = await rejection(async () => cipherSuite(name as "Sm2"));
      expect(error, name).to.be.instanceOf(UnsupportedSuiteError);
      expect((error as UnsupportedSuiteError).suite).to.equal(name);
    }
  });

  it("test_errors_areDataSafeErrors", async () => {
    expect(new DecryptionError("authentication")).to.be.instanceOf(DataSafeError);
    expect(new UnsupportedSuiteError(9)).to.be.instanceOf(DataSafeError);
    expect(new InvalidKeyError(KeySuite.Sm2, "publicKey", "x")).to.be.instanceOf(DataSafeError);
  });
});
