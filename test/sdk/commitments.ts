import { expect } from "chai";
import { AbiCoder, concat, keccak256, toUtf8Bytes } from "ethers";

import {
  InvalidInputError,
  canonicalJson,
  commitFields,
  commitRecord,
  deriveSubjectId,
  discloseFields,
  newSalt,
  payloadPointerOf,
  recordDigest,
  verifyDisclosure,
  verifyRecord,
} from "../../sdk/index.js";

const coder = AbiCoder.defaultAbiCoder();

describe("sdk: commitments", () => {
  describe("canonicalJson", () => {
    it("test_canonicalJson_sortsKeysRecursivelyWithoutWhitespace", () => {
      expect(canonicalJson({ b: 1, a: { d: [3, { f: null, e: true }], c: "x" } })).to.equal(
        '{"a":{"c":"x","d":[3,{"e":true,"f":null}]},"b":1}',
      );
      expect(canonicalJson({ 名: "户口", n: -0, x: 1.5e21 })).to.equal('{"n":0,"x":1.5e+21,"名":"户口"}');
    });

    it("test_canonicalJson_keyOrderDoesNotChangeTheCommitment", () => {
      const salt = newSalt();
      expect(commitRecord({ a: 1, b: [1, 2] }, salt).commitment).to.equal(
        commitRecord({ b: [1, 2], a: 1 }, salt).commitment,
      );
      expect(commitRecord({ a: 1, b: [1, 2] }, salt).commitment).to.not.equal(
        commitRecord({ a: 1, b: [2, 1] }, salt).commitment,
      );
    });

    for (const [label, value, path] of [
      ["undefined", { a: undefined }, "record.a"],
      ["a bigint", { a: 1n }, "record.a"],
      ["NaN", { a: [NaN] }, "record.a[0]"],
      ["Infinity", { a: Infinity }, "record.a"],
      ["a Date", { a: new Date(0) }, "record.a"],
      ["a Map", new Map(), "record"],
      ["a function", { f: () => 1 }, "record.f"],
    ] as const) {
      it(`test_canonicalJson_${label.replace(/\W/g, "")}_rejectedWithItsPath`, () => {
        let error: unknown;
        try {
          commitRecord(value);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).to.equal(path);
      });
    }
  });

  describe("whole-record commitments", () => {
    const record = { householdNumber: "TEST-HH-1", registrationType: "local" };

    it("test_commitRecord_isSaltedHashOfCanonicalJson", () => {
      const salt = newSalt();
      const { commitment, digest } = commitRecord(record, salt);
      const expectedDigest = keccak256(toUtf8Bytes('{"householdNumber":"TEST-HH-1","registrationType":"local"}'));
      expect(digest).to.equal(expectedDigest);
      expect(recordDigest(record)).to.equal(expectedDigest);
      expect(commitment).to.equal(keccak256(coder.encode(["bytes32", "bytes32"], [salt, expectedDigest])));
    });

    it("test_verifyRecord_trueOnlyForTheRecordAndItsSalt", () => {
      const { commitment, salt } = commitRecord(record);
      expect(verifyRecord(record, salt, commitment)).to.equal(true);
      expect(verifyRecord(record, newSalt(), commitment)).to.equal(false);
      expect(verifyRecord({ ...record, registrationType: "non-local" }, salt, commitment)).to.equal(false);
    });

    it("test_commitRecord_freshSaltsHideEqualRecords", () => {
      expect(commitRecord(record).commitment).to.not.equal(commitRecord(record).commitment);
    });

    it("test_commitRecord_malformedSalt_rejected", () => {
      expect(() => commitRecord(record, "0x1234")).to.throw(InvalidInputError);
    });
  });

  describe("per-field commitments and selective disclosure", () => {
    const recordOf = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`field${i}`, { value: i, text: `v${i}` }]));

    for (const n of [1, 2, 3, 4, 5, 7, 8, 9]) {
      it(`test_discloseFields_${n}Fields_everyFieldAndAllFieldsVerify`, () => {
        const record = recordOf(n);
        const committed = commitFields(record);
        for (const name of Object.keys(record)) {
          expect(verifyDisclosure(discloseFields(record, committed.salt, [name]), committed.root)).to.equal(true);
        }
        expect(verifyDisclosure(discloseFields(record, committed.salt, Object.keys(record)), committed.root)).to.equal(
          true,
        );
      });
    }

    it("test_commitFields_leafIsDoubleHashedSaltedField", () => {
      const committed = commitFields({ only: "one" });
      const [field] = committed.fields;
      expect(field.salt).to.equal(keccak256(coder.encode(["bytes32", "string"], [committed.salt, "only"])));
      const inner = keccak256(
        coder.encode(["bytes32", "string", "bytes32"], [field.salt, "only", keccak256(toUtf8Bytes('"one"'))]),
      );
      expect(field.leaf).to.equal(keccak256(concat([inner])));
      expect(committed.root).to.equal(field.leaf);
    });

    it("test_verifyDisclosure_tamperedValueProofOrRoot_false", () => {
      const record = recordOf(5);
      const { root, salt } = commitFields(record);
      const disclosure = discloseFields(record, salt, ["field2"]);
      const field = disclosure.fields[0];
      expect(
        verifyDisclosure({ ...disclosure, fields: [{ ...field, value: { value: 2, text: "forged" } }] }, root),
      ).to.equal(false);
      expect(verifyDisclosure({ ...disclosure, fields: [{ ...field, name: "field3" }] }, root)).to.equal(false);
      expect(verifyDisclosure({ ...disclosure, fields: [{ ...field, proof: field.proof.slice(1) }] }, root)).to.equal(
        false,
      );
      expect(verifyDisclosure({ ...disclosure, fields: [{ ...field, salt: newSalt() }] }, root)).to.equal(false);
      expect(verifyDisclosure(disclosure, commitFields(record).root)).to.equal(false);
      expect(verifyDisclosure({ ...disclosure, fields: [] }, root)).to.equal(false);
    });

    it("test_discloseFields_revealsNothingOfTheOtherFields", () => {
      const record = { registrationType: "local", householdNumber: "TEST-HH-SECRET", district: "Lixia" };
      const { salt } = commitFields(record);
      const disclosure = discloseFields(record, salt, ["registrationType"]);
      const text = JSON.stringify(disclosure);
      expect(text).to.not.contain("TEST-HH-SECRET");
      expect(text).to.not.contain("Lixia");
      expect(text).to.not.contain(salt.slice(2));
    });

    it("test_commitFields_anyValueChangeChangesTheRoot", () => {
      const record = recordOf(4);
      const salt = newSalt();
      const root = commitFields(record, salt).root;
      expect(commitFields({ ...record, field3: "changed" }, salt).root).to.not.equal(root);
      expect(commitFields({ ...record }, salt).root).to.equal(root);
    });

    it("test_discloseFields_unknownOrEmpty_rejected", () => {
      expect(() => discloseFields({ a: 1 }, newSalt(), ["b"])).to.throw(InvalidInputError);
      expect(() => commitFields({})).to.throw(InvalidInputError);
    });
  });

  describe("subject ids and payload pointers", () => {
    it("test_deriveSubjectId_pepperedAndNormalised", () => {
      const pepper = newSalt();
      const id = deriveSubjectId(pepper, "resident-id", " demo-0001x ");
      expect(id).to.equal(deriveSubjectId(pepper, "resident-id", "DEMO-0001X"));
      expect(id).to.equal(
        keccak256(coder.encode(["bytes32", "string", "string"], [pepper, "resident-id", "DEMO-0001X"])),
      );
      expect(id).to.not.equal(deriveSubjectId(newSalt(), "resident-id", "DEMO-0001X"));
      expect(id).to.not.equal(deriveSubjectId(pepper, "uscc", "DEMO-0001X"));
      expect(() => deriveSubjectId(pepper, "resident-id", "  ")).to.throw(InvalidInputError);
    });

    it("test_payloadPointerOf_isContentDigest", () => {
      expect(payloadPointerOf("0x010203")).to.equal(keccak256("0x010203"));
    });
  });
});
