/**
 * Invariants 1 and 2 of ARCHITECTURE.md §4, checked over seeded random sequences of operations
 * against an off-chain model rather than by examples:
 *
 * 1. A read is recorded exactly when the model says a grant allows it at that block (unexpired,
 *    unrevoked, not exhausted, this consumer, this asset or its type, the fields read within the
 *    grant's, the asset valid, its issuer not suspended, the consumer active), checkAccess always
 *    gives the model's reason, and no grant version ever counts more reads than its maximum.
 * 2. Only the current controller, by transaction or by a signature with an unused nonce of the
 *    current epoch, can grant or revoke; a rotated-away key fails at once, and so does every
 *    signature made before the rotation; a signature never works twice.
 *
 * Time moves in steps of 10,000 s and every expiry or valid-until sits 5,000 s into a step, so the
 * few seconds that blocks add between steps never cross a boundary the model does not see.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";

import type { DataSafe } from "../../typechain-types/index.js";
import {
  AccessCheck,
  AssetStatus,
  CITIZEN,
  COMPANY,
  DataType,
  GrantScope,
  GrantStatus,
  assetIdOf,
  deployWithParticipants,
  ethers,
  grantIdOf,
  networkHelpers,
  random32,
  typeTarget,
} from "../helpers/fixtures.js";
import {
  accessIdOf,
  authorize,
  epochOf,
  grantMessage,
  issue,
  nonceIn,
  revokeMessage,
  type AssetKey,
  type GrantKey,
  type GrantTerms,
} from "../helpers/consent.js";

const { time } = networkHelpers;
const STEP = 10_000;
const HALF = 5_000;
const STEPS = Number(process.env.CONSENT_INVARIANT_STEPS ?? 300);
const SEEDS = [0x5eed1, 0xda7a5afe];

/** mulberry32: a small seeded PRNG, so a failing sequence replays. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => next() < p;
  return { int, pick, chance };
}

interface ModelAsset {
  id: string;
  subjectId: string;
  dataType: number;
  issuer: HardhatEthersSigner;
  key: { issuer: string; subjectId: string; dataType: number; contentCommitment: string };
  fields: {
    subjectId: string;
    dataType: number;
    contentCommitment: string;
    payloadPointer: string;
    validUntil: number;
  };
  status: number;
  validUntil: number;
}

interface ModelGrant {
  key: GrantKey;
  fields: bigint;
  status: number;
  expiresAt: bigint;
  maxReads: bigint;
  reads: bigint;
  version: bigint;
}

/** What a refused call reverted with: the custom error's name (and args). */
function decodeError(dataSafe: DataSafe, error: unknown): { name: string; args: unknown[] } {
  const seen = new Set<unknown>();
  const find = (e: unknown): string | undefined => {
    if (e === null || typeof e !== "object" || seen.has(e)) return undefined;
    seen.add(e);
    const data = (e as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) return data;
    for (const value of Object.values(e)) {
      const found = find(value);
      if (found) return found;
    }
    return undefined;
  };
  const data = find(error);
  if (!data) throw error;
  const parsed = dataSafe.interface.parseError(data);
  if (!parsed) throw error;
  return { name: parsed.name, args: [...parsed.args] };
}

async function attempt(dataSafe: DataSafe, call: () => Promise<ContractTransactionResponse>) {
  try {
    const receipt = await (await call()).wait();
    return { ok: true as const, receipt: receipt! };
  } catch (error) {
    return { ok: false as const, error: decodeError(dataSafe, error) };
  }
}

describe("consent: invariants over random sequences", function () {
  this.timeout(300_000);

  for (const seed of SEEDS) {
    it(`seed ${seed.toString(16)}: reads match the model and never exceed the maximum; only the current controller acts`, async () => {
      const rnd = prng(seed);
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const base = await time.latest();
      let epoch = 0;
      const at = (k: number) => base + (epoch + k) * STEP + HALF; // a boundary `k` steps ahead, mid-step

      const keys = [a.citizen, a.company, a.others[4], a.others[5], a.others[6]];
      const controller = new Map<string, HardhatEthersSigner>([
        [CITIZEN, a.citizen],
        [COMPANY, a.company],
      ]);
      const subjects = [CITIZEN, COMPANY];
      // signature epochs and the nonces spent in them, by subject
      const epochs = new Map<string, bigint>(subjects.map((id) => [id, 0n]));
      const used = new Map<string, Set<bigint>>(subjects.map((id) => [id, new Set<bigint>()]));
      let lastIndex = 1_000n; // fresh indices, clear of the ones `authorize` hands out
      const nextIndex = () => (lastIndex += 1n + BigInt(rnd.int(300)));
      const consumers = [a.bank, a.school];
      const active = new Map<string, boolean>([
        [a.bank.address, true],
        [a.school.address, true],
        [a.publicSecurity.address, true],
        [a.housingFundCentre.address, true],
      ]);
      const issuerOf: Record<number, HardhatEthersSigner> = {
        [DataType.HouseholdRegister]: a.publicSecurity,
        [DataType.IdCard]: a.publicSecurity,
        [DataType.HousingFund]: a.housingFundCentre,
      };
      const departments = [a.publicSecurity, a.housingFundCentre];
      const types: number[] = [DataType.HouseholdRegister, DataType.IdCard, DataType.HousingFund];
      const purposes = [1, 2];
      // field masks over the first four schema fields; 0 = whole record
      const masks = [0n, 1n, 2n, 3n, 8n, 11n];
      const assets = new Map<string, ModelAsset>();
      const grants = new Map<string, ModelGrant>();
      const stats = { reads: 0, refusedReads: 0, grants: 0, refusedActs: 0, rotations: 0, signed: 0 };

      const reasons: Record<number, number> = {};
      const now = async () => BigInt(await time.latest());
      const assetValid = (asset: ModelAsset | undefined, t: bigint) =>
        asset !== undefined &&
        asset.status === AssetStatus.Valid &&
        (asset.validUntil === 0 || t <= BigInt(asset.validUntil));

      const issueOne = async (subjectId: string, dataType: number) => {
        const validUntil = rnd.chance(0.3) ? at(1 + rnd.int(3)) : 0;
        const issued = await issue(dataSafe, issuerOf[dataType], subjectId, dataType, validUntil);
        assets.set(issued.assetId, {
          id: issued.assetId,
          subjectId,
          dataType,
          issuer: issuerOf[dataType],
          key: issued.key,
          fields: issued.asset,
          status: AssetStatus.Valid,
          validUntil,
        });
      };
      for (const subjectId of subjects) for (const dataType of types) await issueOne(subjectId, dataType);

      /** The model's answer for a read, in the contract's documented order of checks. */
      const expectedCheck = (
        assetKey: AssetKey,
        consumer: string,
        scope: number,
        purpose: number,
        fields: bigint,
        t: bigint,
      ) => {
        const assetId = assetIdOf(assetKey.issuer, assetKey);
        const asset = assets.get(assetId);
        const target = scope === GrantScope.Asset ? assetId : typeTarget(assetKey.dataType, assetKey.issuer);
        const grantId = grantIdOf({ subjectId: assetKey.subjectId, consumer, scope, target, purpose });
        const g = grants.get(grantId);
        let reason: number = AccessCheck.Allowed;
        if (!active.get(consumer)) reason = AccessCheck.ConsumerNotActive;
        else if (!assetValid(asset, t)) reason = AccessCheck.AssetNotValid;
        else if (!active.get(assetKey.issuer)) reason = AccessCheck.IssuerSuspended;
        else if (!g) reason = AccessCheck.NoGrant;
        else if (g.status === GrantStatus.Revoked) reason = AccessCheck.GrantRevoked;
        else if (t > g.expiresAt) reason = AccessCheck.GrantExpired;
        else if (g.reads >= g.maxReads) reason = AccessCheck.GrantExhausted;
        else if (g.fields !== 0n && (fields === 0n || (fields & ~g.fields) !== 0n))
          reason = AccessCheck.FieldsNotGranted;
        return { reason, grantId, assetId, g };
      };

      const expectGrantStored = async (grantId: string) => {
        const g = grants.get(grantId)!;
        const stored = await dataSafe.getGrant(grantId);
        expect([
          stored.status,
          stored.expiresAt,
          stored.maxReads,
          stored.reads,
          stored.version,
          stored.fields,
        ]).to.deep.equal([BigInt(g.status), g.expiresAt, g.maxReads, g.reads, g.version, g.fields], `grant ${grantId}`);
        expect(stored.reads <= stored.maxReads, "reads never exceed the maximum").to.equal(true);
      };

      /** The first check grant() fails, in the contract's order, or undefined if it succeeds. */
      const expectedGrantError = (actor: string, terms: GrantTerms, t: bigint) => {
        if (controller.get(terms.subjectId)!.address !== actor) return "NotSubjectController";
        for (const target of terms.targets) {
          if (terms.scope === GrantScope.Asset) {
            const asset = assets.get(target);
            if (!assetValid(asset, t) || asset!.subjectId !== terms.subjectId) return "InvalidAssetTarget";
          } else {
            // `issuer << 32 | dataType`: an active department authorised for the type
            const dataType = Number(BigInt(target) & 0xffffffffn);
            const issuer = ethers.getAddress(ethers.toBeHex(BigInt(target) >> 32n, 20));
            if (!active.get(issuer)) return "MemberNotPermitted";
            if (!types.includes(dataType) || issuerOf[dataType].address !== issuer) return "IssuerNotAuthorised";
          }
        }
        for (const consumer of terms.consumers) if (!active.get(consumer)) return "MemberNotPermitted";
        return undefined;
      };

      const applyGrant = (terms: GrantTerms) => {
        for (const consumer of terms.consumers) {
          for (const target of terms.targets) {
            const key = { subjectId: terms.subjectId, consumer, scope: terms.scope, target, purpose: terms.purpose };
            const id = grantIdOf(key);
            const previous = grants.get(id);
            grants.set(id, {
              key,
              fields: BigInt(terms.fields),
              status: GrantStatus.Active,
              expiresAt: terms.expiresAt,
              maxReads: BigInt(terms.maxReads),
              reads: 0n,
              version: (previous?.version ?? 0n) + 1n,
            });
          }
        }
      };

      const randomTerms = (subjectId: string): GrantTerms => {
        const scope = rnd.pick([GrantScope.Asset, GrantScope.DataType]);
        const all = [...assets.values()];
        const targets =
          scope === GrantScope.Asset
            ? Array.from({ length: 1 + rnd.int(2) }, () => {
                // mostly the holder's own assets, sometimes someone else's or a dead one
                const own = all.filter((x) => x.subjectId === subjectId);
                const ownValid = own.filter((x) => assetValid(x, BigInt(base + epoch * STEP)));
                return rnd.chance(0.9) && ownValid.length > 0 ? rnd.pick(ownValid).id : rnd.pick(all).id;
              })
            : Array.from({ length: 1 + rnd.int(2) }, () => {
                // mostly a type from its issuer; sometimes from the other department, or an undefined type
                const dataType = rnd.chance(0.9) ? rnd.pick(types) : 5;
                const issuer = rnd.chance(0.85) && dataType !== 5 ? issuerOf[dataType] : rnd.pick(departments);
                return typeTarget(dataType, issuer.address);
              });
        const chosen = rnd.chance(0.5) ? [rnd.pick(consumers)] : consumers;
        return {
          subjectId,
          consumers: chosen.map((c) => c.address),
          scope,
          targets: [...new Set(targets)],
          fields: rnd.pick(masks),
          purpose: rnd.pick(purposes),
          expiresAt: BigInt(at(rnd.int(5))),
          maxReads: 1 + rnd.int(3),
        };
      };

      const randomExistingKey = (): GrantKey | undefined => {
        const all = [...grants.values()];
        return all.length === 0 ? undefined : rnd.pick(all).key;
      };

      for (let step = 0; step < STEPS; step++) {
        const t = await now();
        const action = rnd.int(100);
        if (action < 45) {
          // a read by a consumer: mostly one a grant was given for, sometimes anything
          let consumer = rnd.pick(consumers);
          let scope: number = rnd.pick([GrantScope.Asset, GrantScope.DataType]);
          let purpose = rnd.pick(purposes);
          let fields = rnd.pick(masks);
          const anyKey = rnd.pick([...assets.values()]).key;
          // now and then a key that names no asset (a wrong commitment)
          let assetKey: AssetKey = rnd.chance(0.05) ? { ...anyKey, contentCommitment: random32() } : anyKey;
          if (grants.size > 0 && rnd.chance(0.75)) {
            const grant = rnd.pick([...grants.values()]);
            const { key } = grant;
            consumer = consumers.find((c) => c.address === key.consumer)!;
            ({ scope, purpose } = key);
            // mostly fields the grant covers
            if (rnd.chance(0.7)) fields = grant.fields === 0n ? rnd.pick(masks) : grant.fields & rnd.pick(masks);
            const ofType = [...assets.values()].filter(
              (x) => x.subjectId === key.subjectId && typeTarget(x.dataType, x.issuer.address) === key.target,
            );
            if (scope === GrantScope.Asset) assetKey = assets.get(key.target)!.key;
            else if (ofType.length > 0) {
              const validOfType = ofType.filter((x) => assetValid(x, t));
              assetKey = (rnd.chance(0.8) && validOfType.length > 0 ? rnd.pick(validOfType) : rnd.pick(ofType)).key;
            }
          }
          const { reason, grantId, assetId, g } = expectedCheck(assetKey, consumer.address, scope, purpose, fields, t);
          expect(
            await dataSafe.checkAccess(assetKey, consumer.address, scope, purpose, fields),
            `step ${step} checkAccess`,
          ).to.equal(reason);
          const result = await attempt(dataSafe, () =>
            dataSafe.connect(consumer).recordAccess(assetKey, scope, purpose, fields),
          );
          if (reason === AccessCheck.Allowed) {
            expect(result.ok, `step ${step}: read allowed by the model`).to.equal(true);
            g!.reads += 1n;
            stats.reads++;
            const logs = result.ok ? result.receipt.logs.map((log) => dataSafe.interface.parseLog(log)) : [];
            expect(logs.length).to.equal(1);
            expect(logs[0]!.name).to.equal("AccessRecorded");
            expect([...logs[0]!.args]).to.deep.equal([
              grantId,
              assetKey.subjectId,
              consumer.address,
              accessIdOf(grantId, g!.version, g!.reads),
              assetId,
              BigInt(purpose),
              fields,
              g!.reads,
              g!.maxReads,
              BigInt(g!.version),
            ]);
          } else {
            expect(result.ok, `step ${step}: read refused by the model (${reason})`).to.equal(false);
            expect(result.error).to.deep.equal({ name: "AccessDenied", args: [grantId, assetId, BigInt(reason)] });
            stats.refusedReads++;
            reasons[reason] = (reasons[reason] ?? 0) + 1;
          }
          if (g) await expectGrantStored(grantId);
        } else if (action < 60) {
          // a direct grant by a random key
          const subjectId = rnd.pick(subjects);
          const actor = rnd.chance(0.85) ? controller.get(subjectId)! : rnd.pick(keys);
          const terms = randomTerms(subjectId);
          const expected = expectedGrantError(actor.address, terms, t + 1n);
          const result = await attempt(dataSafe, () => dataSafe.connect(actor).grant(terms));
          expect(result.ok ? undefined : result.error.name, `step ${step}: grant`).to.equal(expected);
          if (result.ok) {
            applyGrant(terms);
            stats.grants++;
          } else stats.refusedActs++;
        } else if (action < 68) {
          // a signed grant relayed by a stranger: signer and nonce random
          const subjectId = rnd.pick(subjects);
          const signer = rnd.chance(0.6) ? controller.get(subjectId)! : rnd.pick(keys);
          const terms = randomTerms(subjectId);
          const epoch = epochs.get(subjectId)!;
          const spent = used.get(subjectId)!;
          // mostly a fresh index of the current epoch; sometimes a spent one, or another epoch's
          const roll = rnd.int(100);
          const index = roll < 15 && spent.size > 0 ? rnd.pick([...spent]) & ((1n << 208n) - 1n) : nextIndex();
          const nonce = nonceIn(roll >= 15 && roll < 25 ? epoch + 1n : epoch, index);
          const auth = await authorize(dataSafe, signer, subjectId, "Grant", grantMessage(terms), {
            nonce,
            deadline: BigInt(at(1)),
          });
          let expected: string | undefined;
          if (nonce >> 208n !== epoch) expected = "NonceEpochMismatch";
          else if (spent.has(nonce)) expected = "NonceUsed";
          else if (signer.address !== controller.get(subjectId)!.address) expected = "InvalidSignature";
          else expected = expectedGrantError(signer.address, terms, t + 1n);
          const result = await attempt(dataSafe, () => dataSafe.connect(a.stranger).grantBySig(terms, auth));
          expect(result.ok ? undefined : result.error.name, `step ${step}: grantBySig`).to.equal(expected);
          // the nonce is spent exactly when the signature was accepted and the act done
          if (result.ok) spent.add(nonce);
          expect(await dataSafe.isNonceUsed(subjectId, nonce), `step ${step}: isNonceUsed`).to.equal(
            nonce >> 208n !== epoch || spent.has(nonce),
          );
          expect(await epochOf(dataSafe, subjectId)).to.equal(epoch);
          if (result.ok) {
            applyGrant(terms);
            stats.signed++;
            // and the same signature never works twice
            const replay = await attempt(dataSafe, () => dataSafe.connect(a.stranger).grantBySig(terms, auth));
            expect(replay.ok ? undefined : replay.error.name).to.equal("NonceUsed");
          } else stats.refusedActs++;
        } else if (action < 73) {
          // a revocation, directly or by signature, by a random key
          const key = randomExistingKey();
          if (!key) continue;
          const id = grantIdOf(key);
          const g = grants.get(id)!;
          const actor = rnd.chance(0.7) ? controller.get(key.subjectId)! : rnd.pick(keys);
          const isController = actor.address === controller.get(key.subjectId)!.address;
          let result;
          let expected: string | undefined;
          if (rnd.chance(0.5)) {
            expected = !isController
              ? "NotSubjectController"
              : g.status !== GrantStatus.Active
                ? "GrantNotActive"
                : undefined;
            result = await attempt(dataSafe, () => dataSafe.connect(actor).revoke(key));
          } else {
            const auth = await authorize(
              dataSafe,
              actor,
              key.subjectId,
              "Revoke",
              revokeMessage(key, Number(g.version)),
              {
                deadline: BigInt(at(1)),
              },
            );
            expected = !isController
              ? "InvalidSignature"
              : g.status !== GrantStatus.Active
                ? "GrantNotActive"
                : undefined;
            result = await attempt(dataSafe, () =>
              dataSafe.connect(a.stranger).revokeBySig(key, Number(g.version), auth),
            );
            if (result.ok) used.get(key.subjectId)!.add(auth.nonce);
          }
          expect(result.ok ? undefined : result.error.name, `step ${step}: revoke`).to.equal(expected);
          if (result.ok) g.status = GrantStatus.Revoked;
          else stats.refusedActs++;
          await expectGrantStored(id);
        } else if (action < 76) {
          // rotation: the controller (or, refused, another key) hands control to a random key
          const subjectId = rnd.pick(subjects);
          const actor = rnd.chance(0.8) ? controller.get(subjectId)! : rnd.pick(keys);
          const next = rnd.pick(keys.filter((k) => k.address !== controller.get(subjectId)!.address));
          const result = await attempt(dataSafe, () =>
            dataSafe.connect(actor).transferControl(subjectId, next.address),
          );
          const expected = actor.address === controller.get(subjectId)!.address ? undefined : "NotSubjectController";
          expect(result.ok ? undefined : result.error.name, `step ${step}: transferControl`).to.equal(expected);
          if (result.ok) {
            controller.set(subjectId, next);
            epochs.set(subjectId, epochs.get(subjectId)! + 1n);
            stats.rotations++;
          }
          expect(await dataSafe.controllerOf(subjectId)).to.equal(controller.get(subjectId)!.address);
        } else if (action < 79) {
          // the regulator suspends a consumer or a department, or reinstates one
          const members = rnd.chance(0.7) ? consumers : departments;
          const suspended = members.filter((c) => !active.get(c.address));
          const member = suspended.length > 0 && rnd.chance(0.9) ? rnd.pick(suspended) : rnd.pick(members);
          if (active.get(member.address)) await dataSafe.connect(a.regulator).suspendMember(member.address, 1);
          else await dataSafe.connect(a.regulator).reinstateMember(member.address);
          active.set(member.address, !active.get(member.address));
        } else if (action < 85) {
          // an active department revokes or supersedes one of its valid assets, or issues a new one
          const valid = [...assets.values()].filter(
            (x) => x.status === AssetStatus.Valid && assetValid(x, t + 1n) && active.get(x.issuer.address),
          );
          if (valid.length === 0 || rnd.chance(0.5)) {
            const dataType = rnd.pick(types.filter((type) => active.get(issuerOf[type].address)));
            if (dataType !== undefined) await issueOne(rnd.pick(subjects), dataType);
            continue;
          }
          const asset = rnd.pick(valid);
          if (rnd.chance(0.5)) {
            await dataSafe.connect(asset.issuer).revokeAsset(asset.key, 1);
            asset.status = AssetStatus.Revoked;
          } else {
            const validUntil = rnd.chance(0.3) ? at(1 + rnd.int(3)) : 0;
            const next = { ...asset.fields, contentCommitment: random32(), payloadPointer: random32(), validUntil };
            await dataSafe.connect(asset.issuer).supersedeAsset(asset.key, next);
            asset.status = AssetStatus.Superseded;
            const key = { ...asset.key, contentCommitment: next.contentCommitment };
            const id = await dataSafe.assetIdOf(key);
            assets.set(id, { ...asset, id, key, fields: next, status: AssetStatus.Valid, validUntil });
          }
        } else {
          // time passes by whole steps
          const steps = 1 + rnd.int(2);
          epoch += steps;
          await time.increaseTo(base + epoch * STEP);
        }

        if (step % 20 === 19) for (const id of grants.keys()) await expectGrantStored(id);
      }
      for (const id of grants.keys()) await expectGrantStored(id);
      for (const [subjectId, key] of controller) expect(await dataSafe.controllerOf(subjectId)).to.equal(key.address);
      if (process.env.CONSENT_INVARIANT_DEBUG) console.log(`      seed ${seed.toString(16)}:`, stats, reasons);
      // the sequence exercised what it claims to
      expect(stats.reads, JSON.stringify(stats)).to.be.greaterThan(3);
      expect(stats.refusedReads, JSON.stringify(stats)).to.be.greaterThan(10);
      expect(stats.grants + stats.signed, JSON.stringify(stats)).to.be.greaterThan(5);
      expect(stats.rotations, JSON.stringify(stats)).to.be.greaterThan(0);
    });
  }
});
