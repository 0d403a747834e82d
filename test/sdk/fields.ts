import { expect } from "chai";

import { DATA_TYPES } from "../../scripts/catalog.js";
import { InvalidInputError, MAX_FIELDS, WHOLE_RECORD, coversFields, fieldMask, fieldNamesOf } from "../../sdk/index.js";
import { CITIZEN } from "../helpers/fixtures.js";
import { Purpose, loadSdkFixture, now, thrown } from "./helpers.js";

/** The household register's fields, in the seed catalog's schema order. */
const HOUSEHOLD = DATA_TYPES.find((t) => t.name === "household-register")!.fields.map((f) => f.name);

describe("sdk: field-level consent", () => {
  it("test_fieldMask_bitIIsTheIthSchemaField_andBack", () => {
    expect(HOUSEHOLD).to.deep.equal([
      "householdNumber",
      "relationToHead",
      "registrationType",
      "district",
      "registeredOn",
    ]);
    expect(fieldMask(HOUSEHOLD, ["district"])).to.equal(8n);
    expect(fieldMask(HOUSEHOLD, ["registeredOn", "householdNumber"])).to.equal(17n);
    expect(fieldNamesOf(HOUSEHOLD, 17n)).to.deep.equal(["householdNumber", "registeredOn"]);
    expect(fieldNamesOf(HOUSEHOLD, WHOLE_RECORD)).to.deep.equal(HOUSEHOLD);
    const wide = Array.from({ length: MAX_FIELDS }, (_, i) => `f${i}`);
    expect(fieldMask(wide, ["f63"])).to.equal(1n << 63n);
  });

  it("test_coversFields_mirrorsTheContractRule", () => {
    expect(coversFields(WHOLE_RECORD, WHOLE_RECORD)).to.equal(true);
    expect(coversFields(WHOLE_RECORD, 8n)).to.equal(true);
    expect(coversFields(12n, 8n)).to.equal(true);
    expect(coversFields(12n, 12n)).to.equal(true);
    expect(coversFields(12n, 9n)).to.equal(false);
    expect(coversFields(12n, WHOLE_RECORD)).to.equal(false);
  });

  it("test_fieldMask_badInput_throwsInvalidInput", () => {
    const cases: [() => unknown, string][] = [
      [() => fieldMask(HOUSEHOLD, ["postcode"]), "names[0]"],
      [() => fieldMask(HOUSEHOLD, ["district", "district"]), "names[1]"],
      [() => fieldMask(HOUSEHOLD, []), "names"],
      [() => fieldMask([], ["a"]), "schemaFields"],
      [() => fieldMask(["a", "a"], ["a"]), "schemaFields"],
      [
        () =>
          fieldMask(
            Array.from({ length: 65 }, (_, i) => `f${i}`),
            ["f0"],
          ),
        "schemaFields",
      ],
      [() => fieldNamesOf(HOUSEHOLD, 1n << 5n), "mask"],
      [() => fieldNamesOf(HOUSEHOLD, -1n), "mask"],
      [() => coversFields(1n << 64n, 1n), "granted"],
    ];
    for (const [call, field] of cases) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error, field).to.be.instanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).to.equal(field);
    }
  });

  it("test_grantFields_readOfOneField_recordedInTheUsage_wholeRecordRefused", async () => {
    const { clients, actors, assets, safe } = await loadSdkFixture();
    const district = fieldMask(HOUSEHOLD, ["district"]);
    const { grants } = await (
      await clients.citizen.consent.grant({
        subjectId: CITIZEN,
        consumers: [actors.school.address],
        targets: [assets.citizenHousehold.assetId],
        fields: district,
        purpose: Purpose.Enrolment,
        expiresAt: (await now()) + 3600,
        maxReads: 2,
      })
    ).wait();
    expect(grants[0].fields).to.equal(district);
    expect((await safe.consent.getGrant(grants[0].grantId)).fields).to.equal(district);

    const read = { asset: assets.citizenHousehold.key, purpose: Purpose.Enrolment };
    expect(await safe.accessLog.check({ ...read, consumer: actors.school.address })).to.equal("FieldsNotGranted");
    const whole = await thrown(() => clients.school.accessLog.recordAccess(read));
    expect(whole).to.have.property("reason", "FieldsNotGranted");

    const access = await (await clients.school.accessLog.recordAccess({ ...read, fields: district })).wait();
    expect(access).to.include({ readNumber: 1, fields: district });
    const [usage] = await safe.events.usageOf(CITIZEN);
    expect(usage).to.include({ accessId: access.accessId, fields: district });
    expect(fieldNamesOf(HOUSEHOLD, usage.fields)).to.deep.equal(["district"]);
    const [held] = (await safe.events.grantsOf(CITIZEN)).filter((g) => g.grantId === grants[0].grantId);
    expect(held.fields).to.equal(district);

    const bad = await thrown(() => clients.school.accessLog.recordAccess({ ...read, fields: 1n << 64n }));
    expect(bad).to.be.instanceOf(InvalidInputError);
    expect((bad as InvalidInputError).field).to.equal("fields");
  });
});
