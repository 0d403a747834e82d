/**
 * The SDK's per-field commitments verify on chain with OpenZeppelin's MerkleProof: what the payload
 * gateway releases for a field-level read (a field, its salt, its proof) can be checked by a
 * contract, not only by the SDK.
 */
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";

import { canonicalJson, commitFields, discloseFields, newSalt, verifyDisclosure } from "../../sdk/index.js";
import type { FieldProofVerifier } from "../../typechain-types/index.js";
import { ethers } from "../helpers/fixtures.js";

const valueHash = (value: unknown) => keccak256(toUtf8Bytes(canonicalJson(value)));

describe("field disclosures verified on chain (OpenZeppelin MerkleProof)", () => {
  let verifier: FieldProofVerifier;

  before(async () => {
    verifier = (await ethers.deployContract("FieldProofVerifier")) as unknown as FieldProofVerifier;
  });

  // One to seven fields: single leaf, even and odd layers, a node carried up unpaired.
  for (const count of [1, 2, 3, 4, 5, 7]) {
    it(`test_verifyField_${count}Fields_everyDisclosedFieldVerifies`, async () => {
      const record = Object.fromEntries(
        Array.from({ length: count }, (_, i) => [`field${i}`, i % 2 === 0 ? `value ${i}` : { n: i, list: [i, null] }]),
      );
      const salt = newSalt();
      const { root } = commitFields(record, salt);
      const disclosure = discloseFields(record, salt, Object.keys(record));
      expect(verifyDisclosure(disclosure, root)).to.equal(true);
      for (const field of disclosure.fields) {
        expect(await verifier.verifyField(field.proof, root, field.salt, field.name, valueHash(field.value))).to.equal(
          true,
        );
      }
    });
  }

  it("test_verifyField_alteredValueSaltNameOrRoot_false", async () => {
    const record = { householdNumber: "TEST-HH-1", district: "Lixia", registrationType: "local" };
    const salt = newSalt();
    const { root } = commitFields(record, salt);
    const [field] = discloseFields(record, salt, ["district"]).fields;
    const check = (overrides: Partial<{ root: string; salt: string; name: string; value: unknown }>) =>
      verifier.verifyField(
        field.proof,
        overrides.root ?? root,
        overrides.salt ?? field.salt,
        overrides.name ?? field.name,
        valueHash("value" in overrides ? overrides.value : field.value),
      );
    expect(await check({})).to.equal(true);
    expect(await check({ value: "Shizhong" })).to.equal(false);
    expect(await check({ salt: newSalt() })).to.equal(false);
    expect(await check({ name: "registrationType" })).to.equal(false);
    expect(await check({ root: commitFields(record).root })).to.equal(false);
  });
});
