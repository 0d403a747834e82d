/*
 * The alert rules file: checked with a message naming each problem, and the local-time arithmetic
 * the rules and the daily statistics share.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

import {
  type AlertRule,
  AlertRulesError,
  isOffHours,
  loadAlertRules,
  localTime,
  parseAlertRules,
} from "../../indexer/src/alerts-rules.js";
import { ROOT } from "../helpers/processes.js";

const offHours: Extract<AlertRule, { kind: "off-hours" }> = {
  id: "night",
  kind: "off-hours",
  severity: "info",
  start: "09:00",
  end: "18:00",
  days: [1, 2, 3, 4, 5],
};

describe("indexer alert rules", () => {
  it("loads the default rules file: one rule of each kind, China time", () => {
    const rules = loadAlertRules(path.join(ROOT, "indexer", "alert-rules.default.json"));
    expect(rules.timeZoneOffsetMinutes).to.equal(480);
    expect(rules.rules.map((rule) => rule.kind).sort()).to.deep.equal(
      ["long-grant", "many-holders", "missing-outcome", "off-hours", "reads-per-hour"].sort(),
    );
    expect(
      JSON.parse(readFileSync(path.join(ROOT, "indexer", "alert-rules.default.json"), "utf8")).rules,
    ).to.have.length(5);
  });

  it("refuses a bad file, naming every problem", () => {
    const bad = {
      timeZoneOffsetMinutes: 480,
      rules: [
        { id: "a", kind: "reads-per-hour", severity: "warning", limit: 0 },
        { id: "a", kind: "off-hours", severity: "loud", start: "9:00", end: "18:00", days: [1] },
        { id: "c", kind: "long-grant", severity: "info", ratio: 1 },
        { id: "d", kind: "unknown", severity: "info" },
      ],
    };
    let error: unknown;
    try {
      parseAlertRules(bad, "test.json");
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(AlertRulesError);
    const problems = (error as AlertRulesError).problems.join("\n");
    expect(problems).to.match(/rules\.0\.limit/);
    expect(problems).to.match(/rules\.1\.severity/);
    expect(problems).to.match(/rules\.1\.start/);
    expect(problems).to.match(/rules\.2\.ratio/);
    expect(problems).to.match(/rules\.3\.kind/);
    expect(() => parseAlertRules({ timeZoneOffsetMinutes: 480, rules: [offHours, offHours] })).to.throw(
      AlertRulesError,
      /duplicate id night/,
    );
    expect(() => loadAlertRules(path.join(ROOT, "no-such-rules.json"))).to.throw(AlertRulesError, /no-such-rules/);
  });

  it("computes local days, hours and weekdays in the configured zone", () => {
    // 2026-12-07 (a Monday) 01:30 UTC = 09:30 in UTC+8.
    const t = Date.UTC(2026, 11, 7, 1, 30) / 1000;
    const china = localTime(t, 480);
    expect(china.weekday).to.equal(1);
    expect(china.minuteOfDay).to.equal(9 * 60 + 30);
    expect(china.dayStart).to.equal(Date.UTC(2026, 11, 6, 16, 0) / 1000);
    expect(china.hourStart).to.equal(Date.UTC(2026, 11, 7, 1, 0) / 1000);
    // The same instant is Sunday 20:30 in UTC-5.
    expect(localTime(t, -300).weekday).to.equal(0);
    // A zone half an hour off: the local hour starts at :30 UTC.
    expect(localTime(t, 330).hourStart).to.equal(Date.UTC(2026, 11, 7, 1, 30) / 1000);
  });

  it("tells office hours from the rest, including overnight spans", () => {
    const at = (day: number, hour: number, minute = 0) => Date.UTC(2026, 11, day, hour - 8, minute) / 1000;
    expect(isOffHours(offHours, at(7, 9, 0), 480)).to.equal(false); // Monday 09:00: opens
    expect(isOffHours(offHours, at(7, 8, 59), 480)).to.equal(true);
    expect(isOffHours(offHours, at(7, 18, 0), 480)).to.equal(true); // end is exclusive
    expect(isOffHours(offHours, at(12, 11, 0), 480)).to.equal(true); // Saturday
    const night = { ...offHours, start: "22:00", end: "06:00", days: [0, 1, 2, 3, 4, 5, 6] };
    expect(isOffHours(night, at(8, 23, 0), 480)).to.equal(false);
    expect(isOffHours(night, at(8, 5, 59), 480)).to.equal(false);
    expect(isOffHours(night, at(8, 12, 0), 480)).to.equal(true);
  });
});
