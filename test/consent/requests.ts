import { expect } from "chai";

import {
  AccessRequestStatus,
  CITIZEN,
  COMPANY,
  DataType,
  GrantScope,
  GrantStatus,
  MemberKind,
  deployWithParticipants,
  ethers,
  grantIdOf,
  networkHelpers,
  random32,
  subjectIdFor,
  typeTarget,
} from "../helpers/fixtures.js";
import { type AccessRequest, issue, makeRequest, requestIdOf, requestTuple, selectorOf } from "../helpers/consent.js";

const { time } = networkHelpers;
const PURPOSE_LOAN = 7;
const DAY = 86_400;

/** The suite, an asset of the citizen and a bank request for it and for the ID card type. */
async function withRequest() {
  const suite = await networkHelpers.loadFixture(deployWithParticipants);
  const { dataSafe, actors: a } = suite;
  const household = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.HouseholdRegister);
  const now = await time.latest();
  const expiresAt = BigInt(now + 7 * DAY);
  const { requestId, request, tx } = await makeRequest(dataSafe, a.bank, {
    subjectId: CITIZEN,
    scope: GrantScope.Asset,
    targets: [household.assetId],
    purpose: PURPOSE_LOAN,
    grantDuration: 30 * DAY,
    maxReads: 3,
    expiresAt,
  });
  return { ...suite, household, requestId, request, tx, expiresAt };
}

/** Default request parameters for the citizen, with overrides. */
async function params(overrides: Record<string, unknown> = {}) {
  return {
    subjectId: CITIZEN,
    scope: GrantScope.DataType,
    targets: [typeTarget(DataType.HouseholdRegister)],
    purpose: PURPOSE_LOAN,
    grantDuration: 30 * DAY,
    maxReads: 1,
    expiresAt: (await time.latest()) + DAY,
    ...overrides,
  };
}

describe("consent: access requests", () => {
  describe("requestAccess", () => {
    it("records an open request and emits it whole, nonce included", async () => {
      const { dataSafe, actors: a, household, requestId, request, tx, expiresAt } = await withRequest();
      expect(request).to.deep.equal({
        subjectId: CITIZEN,
        consumer: a.bank.address,
        scope: GrantScope.Asset,
        targets: [household.assetId],
        fields: 0n,
        purpose: PURPOSE_LOAN,
        grantDuration: BigInt(30 * DAY),
        maxReads: 3n,
        expiresAt,
        nonce: 1n,
      });
      expect(requestId).to.equal(requestIdOf(request));
      expect(await dataSafe.requestIdOf(request)).to.equal(requestId);
      await expect(tx)
        .to.emit(dataSafe, "AccessRequested")
        .withArgs(requestId, CITIZEN, a.bank.address, requestTuple(request));
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
    });

    it("gives identical requests distinct nonces and ids", async () => {
      const { dataSafe, actors: a, request, requestId } = await withRequest();
      const again = await makeRequest(dataSafe, a.bank, {
        subjectId: request.subjectId,
        scope: request.scope,
        targets: request.targets,
        purpose: request.purpose,
        grantDuration: request.grantDuration,
        maxReads: request.maxReads,
        expiresAt: request.expiresAt,
      });
      expect(again.request.nonce).to.equal(2n);
      expect(again.requestId).to.not.equal(requestId);
      expect(again.requestId).to.equal(requestIdOf(again.request));
      await expect(again.tx)
        .to.emit(dataSafe, "AccessRequested")
        .withArgs(again.requestId, CITIZEN, a.bank.address, requestTuple(again.request));
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
      expect(await dataSafe.getRequestStatus(again.requestId)).to.equal(AccessRequestStatus.Open);
    });

    it("accepts exactly 32 targets", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const targets = Array.from({ length: 32 }, () => random32());
      const { request, tx } = await makeRequest(dataSafe, a.school, await params({ scope: GrantScope.Asset, targets }));
      await expect(tx).to.emit(dataSafe, "AccessRequested");
      expect(request.targets).to.deep.equal(targets);
    });

    it("refuses a caller that is not a consumer: stranger, department, identity authority", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const p = await params();
      for (const who of [a.stranger, a.publicSecurity, a.identityAuthority, a.citizen]) {
        await expect(
          dataSafe
            .connect(who)
            .requestAccess(p.subjectId, p.scope, p.targets, 0, p.purpose, p.grantDuration, p.maxReads, p.expiresAt),
        )
          .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
          .withArgs(who.address, MemberKind.Consumer);
      }
    });

    it("refuses a suspended consumer, and accepts it again once reinstated", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const p = await params();
      const args = [p.subjectId, p.scope, p.targets, 0, p.purpose, p.grantDuration, p.maxReads, p.expiresAt] as const;
      await dataSafe.connect(a.regulator).suspendMember(a.bank.address, 1);
      await expect(dataSafe.connect(a.bank).requestAccess(...args))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(a.bank.address, MemberKind.Consumer);
      await dataSafe.connect(a.regulator).reinstateMember(a.bank.address);
      await expect(dataSafe.connect(a.bank).requestAccess(...args)).to.emit(dataSafe, "AccessRequested");
    });

    it("refuses an unregistered subject", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const ghost = subjectIdFor("nobody");
      const p = await params({ subjectId: ghost });
      await expect(
        dataSafe
          .connect(a.bank)
          .requestAccess(p.subjectId, p.scope, p.targets, 0, p.purpose, p.grantDuration, p.maxReads, p.expiresAt),
      )
        .to.be.revertedWithCustomError(dataSafe, "SubjectNotRegistered")
        .withArgs(ghost);
    });

    it("refuses no targets and more than 32 targets", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      for (const count of [0, 33]) {
        const p = await params({ scope: GrantScope.Asset, targets: Array.from({ length: count }, () => random32()) });
        await expect(
          dataSafe
            .connect(a.bank)
            .requestAccess(p.subjectId, p.scope, p.targets, 0, p.purpose, p.grantDuration, p.maxReads, p.expiresAt),
        )
          .to.be.revertedWithCustomError(dataSafe, "InvalidGrantCount")
          .withArgs(count);
      }
    });

    it("refuses zero duration, zero reads, and an expiry not in the future", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const now = await time.latest();
      const cases = [
        { grantDuration: 0, maxReads: 1, expiresAt: now + DAY },
        { grantDuration: DAY, maxReads: 0, expiresAt: now + DAY },
        { grantDuration: DAY, maxReads: 1, expiresAt: now - 1 },
        { grantDuration: DAY, maxReads: 1, expiresAt: now },
      ];
      for (const c of cases) {
        const p = await params(c);
        await expect(
          dataSafe
            .connect(a.bank)
            .requestAccess(p.subjectId, p.scope, p.targets, 0, p.purpose, p.grantDuration, p.maxReads, p.expiresAt),
        )
          .to.be.revertedWithCustomError(dataSafe, "InvalidGrantTerms")
          .withArgs(c.expiresAt, c.maxReads);
      }
    });
  });

  describe("grant durations that overflow the grant expiry", () => {
    // Invariant 7: bad input reverts with a custom error naming what was wrong. A request whose
    // grantDuration pushes `approval time + grantDuration` past uint40 must be refused when it is
    // made (InvalidGrantTerms), or approving it must not die on an arithmetic Panic(0x11).
    it("are refused with a custom error, never with an arithmetic panic at approval", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const grantDuration = 2n ** 40n - 1n; // a valid uint40, but now + it does not fit in uint40
      const p = await params({ grantDuration });
      const args = [p.subjectId, p.scope, p.targets, 0, p.purpose, p.grantDuration, p.maxReads, p.expiresAt] as const;
      let request: AccessRequest | undefined;
      try {
        request = (await makeRequest(dataSafe, a.bank, p)).request;
      } catch {
        // refused when made: it must be the custom error
        await expect(dataSafe.connect(a.bank).requestAccess(...args))
          .to.be.revertedWithCustomError(dataSafe, "InvalidGrantTerms")
          .withArgs(p.expiresAt, p.maxReads);
        return;
      }
      // accepted when made: the holder's approval must not fail on an overflow
      await expect(dataSafe.connect(a.citizen).approveRequest(request)).to.not.be.revertedWithPanic(0x11);
    });
  });

  describe("approveRequest", () => {
    it("issues one grant per target (version 1, linked to the request) and approves the request", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const household = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.HouseholdRegister);
      const idCard = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.IdCard);
      const { requestId, request } = await makeRequest(dataSafe, a.bank, {
        subjectId: CITIZEN,
        scope: GrantScope.Asset,
        targets: [household.assetId, idCard.assetId],
        purpose: PURPOSE_LOAN,
        grantDuration: 10 * DAY,
        maxReads: 2,
        expiresAt: (await time.latest()) + DAY,
      });
      const approvedAt = (await time.latest()) + 100;
      const grantExpiry = approvedAt + 10 * DAY;
      const ids = request.targets.map((target) =>
        grantIdOf({
          subjectId: CITIZEN,
          consumer: a.bank.address,
          scope: GrantScope.Asset,
          target,
          purpose: PURPOSE_LOAN,
        }),
      );
      expect(await dataSafe.connect(a.citizen).approveRequest.staticCall(request)).to.deep.equal(ids);

      await time.setNextBlockTimestamp(approvedAt);
      const tx = dataSafe.connect(a.citizen).approveRequest(request);
      await expect(tx).to.emit(dataSafe, "AccessRequestApproved").withArgs(requestId, CITIZEN, a.citizen.address);
      for (const [i, target] of request.targets.entries()) {
        await expect(tx)
          .to.emit(dataSafe, "GrantIssued")
          .withArgs(
            ids[i],
            CITIZEN,
            a.bank.address,
            GrantScope.Asset,
            target,
            0,
            PURPOSE_LOAN,
            grantExpiry,
            2,
            1,
            requestId,
          );
        const stored = await dataSafe.getGrant(ids[i]);
        expect(stored.status).to.equal(GrantStatus.Active);
        expect(stored.grantedAt).to.equal(approvedAt);
        expect(stored.expiresAt).to.equal(grantExpiry);
        expect(stored.maxReads).to.equal(2n);
        expect(stored.reads).to.equal(0n);
        expect(stored.version).to.equal(1n);
      }
      const receipt = await (await tx).wait();
      const issued = receipt!.logs
        .map((log) => dataSafe.interface.parseLog(log))
        .filter((parsed) => parsed?.name === "GrantIssued");
      expect(issued.map((parsed) => parsed!.args.grantId)).to.deep.equal(ids);
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Approved);
    });

    it("issues data-type grants for a data-type request", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const targets = [typeTarget(DataType.HouseholdRegister), typeTarget(DataType.HousingFund)];
      const { requestId, request } = await makeRequest(dataSafe, a.school, {
        subjectId: CITIZEN,
        scope: GrantScope.DataType,
        targets,
        purpose: 3,
        grantDuration: DAY,
        maxReads: 1,
        expiresAt: (await time.latest()) + DAY,
      });
      const at = (await time.latest()) + 10;
      await time.setNextBlockTimestamp(at);
      const tx = dataSafe.connect(a.citizen).approveRequest(request);
      for (const target of targets) {
        const id = grantIdOf({
          subjectId: CITIZEN,
          consumer: a.school.address,
          scope: GrantScope.DataType,
          target,
          purpose: 3,
        });
        await expect(tx)
          .to.emit(dataSafe, "GrantIssued")
          .withArgs(id, CITIZEN, a.school.address, GrantScope.DataType, target, 0, 3, at + DAY, 1, 1, requestId);
      }
    });

    it("refuses anyone but the subject's controller", async () => {
      const { dataSafe, actors: a, request, requestId } = await withRequest();
      for (const who of [a.bank, a.company, a.stranger, a.identityAuthority]) {
        await expect(dataSafe.connect(who).approveRequest(request))
          .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
          .withArgs(CITIZEN, who.address);
      }
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
    });

    it("approves up to the request's expiry second and refuses after it", async () => {
      const { dataSafe, actors: a, request, requestId, expiresAt } = await withRequest();
      const snapshot = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(expiresAt);
      await expect(dataSafe.connect(a.citizen).approveRequest(request)).to.emit(dataSafe, "AccessRequestApproved");
      await snapshot.restore();
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(dataSafe.connect(a.citizen).approveRequest(request))
        .to.be.revertedWithCustomError(dataSafe, "RequestExpired")
        .withArgs(requestId, expiresAt);
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
    });

    it("refuses a second approval", async () => {
      const { dataSafe, actors: a, request, requestId } = await withRequest();
      await dataSafe.connect(a.citizen).approveRequest(request);
      await expect(dataSafe.connect(a.citizen).approveRequest(request))
        .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
        .withArgs(requestId, AccessRequestStatus.Approved);
    });

    it("refuses a tampered request: any changed field names another, never-made request", async () => {
      const { dataSafe, actors: a, request, requestId, household } = await withRequest();
      const tampered: AccessRequest[] = [
        { ...request, maxReads: 1000n },
        { ...request, grantDuration: request.grantDuration * 100n },
        { ...request, expiresAt: request.expiresAt + 1000n },
        { ...request, purpose: request.purpose + 1 },
        { ...request, consumer: a.school.address },
        { ...request, nonce: request.nonce + 1n },
        { ...request, targets: [household.assetId, household.assetId] },
        { ...request, fields: 8n },
      ];
      for (const t of tampered) {
        const otherId = requestIdOf(t);
        expect(otherId).to.not.equal(requestId);
        await expect(dataSafe.connect(a.citizen).approveRequest(t))
          .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
          .withArgs(otherId, AccessRequestStatus.None);
      }
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
    });

    it("refuses an asset target that is not a valid asset of the holder", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const own = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.HouseholdRegister);
      const companys = await issue(dataSafe, a.publicSecurity, COMPANY, DataType.HouseholdRegister);
      const revoked = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.IdCard);
      await dataSafe.connect(a.publicSecurity).revokeAsset(revoked.key, 1);
      const superseded = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.IdCard);
      const next = { ...superseded.asset, contentCommitment: random32() };
      await dataSafe.connect(a.publicSecurity).supersedeAsset(superseded.key, next);
      const expiring = await issue(dataSafe, a.publicSecurity, CITIZEN, DataType.IdCard, (await time.latest()) + 1000);
      const unknown = random32();
      const expiresAt = (await time.latest()) + 10 * DAY;
      const bad = [companys.assetId, revoked.assetId, superseded.assetId, unknown, expiring.assetId];
      const requests = [];
      for (const target of bad) {
        const made = await makeRequest(dataSafe, a.bank, {
          subjectId: CITIZEN,
          scope: GrantScope.Asset,
          targets: [own.assetId, target],
          purpose: 1,
          grantDuration: DAY,
          maxReads: 1,
          expiresAt,
        });
        requests.push(made);
      }
      await time.increase(2000); // the last asset is now past its valid-until
      for (const [i, { request, requestId }] of requests.entries()) {
        await expect(dataSafe.connect(a.citizen).approveRequest(request))
          .to.be.revertedWithCustomError(dataSafe, "InvalidAssetTarget")
          .withArgs(CITIZEN, bad[i]);
        expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
      }
    });

    it("refuses a data-type target that is not a type and an active department authorised for it", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(deployWithParticipants);
      const expiresAt = (await time.latest()) + 10 * DAY;
      const make = (target: string) =>
        makeRequest(dataSafe, a.bank, {
          subjectId: CITIZEN,
          scope: GrantScope.DataType,
          targets: [typeTarget(DataType.IdCard), target],
          purpose: 1,
          grantDuration: DAY,
          maxReads: 1,
          expiresAt,
        });
      const valid = BigInt(typeTarget(DataType.HouseholdRegister));
      // bits above `issuer << 32 | dataType`
      for (const target of [random32(), ethers.toBeHex(valid | (1n << 200n), 32)]) {
        const { request } = await make(target);
        await expect(dataSafe.connect(a.citizen).approveRequest(request))
          .to.be.revertedWithCustomError(dataSafe, "InvalidDataTypeTarget")
          .withArgs(target);
      }
      // the issuer named is no active department
      for (const issuer of [ethers.ZeroAddress, a.bank.address]) {
        const { request } = await make(typeTarget(DataType.IdCard, issuer));
        await expect(dataSafe.connect(a.citizen).approveRequest(request))
          .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
          .withArgs(issuer, MemberKind.Department);
      }
      // a department not authorised for the type, or an undefined type
      for (const dataType of [DataType.HousingFund, 999]) {
        const { request, requestId } = await make(typeTarget(dataType, a.publicSecurity.address));
        await expect(dataSafe.connect(a.citizen).approveRequest(request))
          .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
          .withArgs(dataType, a.publicSecurity.address);
        expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
      }
    });

    it("refuses to approve for a consumer suspended since it asked", async () => {
      const { dataSafe, actors: a, request, requestId } = await withRequest();
      await dataSafe.connect(a.regulator).suspendMember(a.bank.address, 2);
      await expect(dataSafe.connect(a.citizen).approveRequest(request))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(a.bank.address, MemberKind.Consumer);
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
    });
  });

  describe("rejectRequest and cancelRequest", () => {
    it("rejects with a reason; the request can then be neither approved, rejected nor cancelled", async () => {
      const { dataSafe, actors: a, request, requestId } = await withRequest();
      await expect(dataSafe.connect(a.citizen).rejectRequest(request, 42))
        .to.emit(dataSafe, "AccessRequestRejected")
        .withArgs(requestId, CITIZEN, 42, a.citizen.address);
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Rejected);
      await expect(dataSafe.connect(a.citizen).approveRequest(request))
        .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
        .withArgs(requestId, AccessRequestStatus.Rejected);
      await expect(dataSafe.connect(a.citizen).rejectRequest(request, 1))
        .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
        .withArgs(requestId, AccessRequestStatus.Rejected);
      await expect(dataSafe.connect(a.bank).cancelRequest(request))
        .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
        .withArgs(requestId, AccessRequestStatus.Rejected);
    });

    it("refuses a rejection by anyone but the controller", async () => {
      const { dataSafe, actors: a, request } = await withRequest();
      for (const who of [a.bank, a.company, a.stranger]) {
        await expect(dataSafe.connect(who).rejectRequest(request, 1))
          .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
          .withArgs(CITIZEN, who.address);
      }
    });

    it("lets the consumer cancel its own open request, and nobody else", async () => {
      const { dataSafe, actors: a, request, requestId } = await withRequest();
      for (const who of [a.school, a.citizen, a.stranger]) {
        await expect(dataSafe.connect(who).cancelRequest(request))
          .to.be.revertedWithCustomError(dataSafe, "NotRequestConsumer")
          .withArgs(requestId, who.address);
      }
      await expect(dataSafe.connect(a.bank).cancelRequest(request))
        .to.emit(dataSafe, "AccessRequestCancelled")
        .withArgs(requestId, a.bank.address);
      expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Cancelled);
      await expect(dataSafe.connect(a.citizen).approveRequest(request))
        .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
        .withArgs(requestId, AccessRequestStatus.Cancelled);
      await expect(dataSafe.connect(a.bank).cancelRequest(request))
        .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
        .withArgs(requestId, AccessRequestStatus.Cancelled);
    });

    it("cannot cancel an approved request", async () => {
      const { dataSafe, actors: a, request, requestId } = await withRequest();
      await dataSafe.connect(a.citizen).approveRequest(request);
      await expect(dataSafe.connect(a.bank).cancelRequest(request))
        .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
        .withArgs(requestId, AccessRequestStatus.Approved);
    });
  });

  describe("error selectors", () => {
    it("match the documented signatures", async () => {
      const { dataSafe } = await networkHelpers.loadFixture(deployWithParticipants);
      const signatures = [
        "InvalidGrantCount(uint256)",
        "InvalidGrantTerms(uint40,uint32)",
        "InvalidDataTypeTarget(bytes32)",
        "InvalidAssetTarget(bytes32,bytes32)",
        "RequestNotOpen(bytes32,uint8)",
        "RequestExpired(bytes32,uint40)",
        "NotRequestConsumer(bytes32,address)",
        "GrantNotActive(bytes32,uint8)",
        "SignatureExpired(uint256)",
        "InvalidSignature(bytes32,address)",
        "NonceUsed(bytes32,uint256)",
        "NonceEpochMismatch(bytes32,uint256,uint48)",
        "GrantVersionMismatch(bytes32,uint32,uint32)",
        "AccessDenied(bytes32,bytes32,uint8)",
        "UnknownAccess(bytes32,uint32,uint32)",
        "OutcomeAlreadyRecorded(bytes32)",
        "InvalidOutcome()",
        "NotSubjectController(bytes32,address)",
        "SubjectNotRegistered(bytes32)",
        "MemberNotPermitted(address,uint8)",
      ];
      for (const signature of signatures) {
        const name = signature.slice(0, signature.indexOf("("));
        const fragment = dataSafe.interface.getError(name);
        expect(fragment, name).to.not.equal(null);
        expect(fragment!.format("sighash")).to.equal(signature);
        expect(fragment!.selector).to.equal(selectorOf(signature));
      }
    });

    it("a refused call returns exactly selector + ABI-encoded arguments", async () => {
      const { dataSafe, actors: a, request, requestId } = await withRequest();
      await dataSafe.connect(a.citizen).approveRequest(request);
      const data = dataSafe.interface.encodeFunctionData("approveRequest", [request]);
      const expected =
        selectorOf("RequestNotOpen(bytes32,uint8)") +
        ethers.AbiCoder.defaultAbiCoder()
          .encode(["bytes32", "uint8"], [requestId, AccessRequestStatus.Approved])
          .slice(2);
      let revertData: string | undefined;
      try {
        await ethers.provider.call({ to: await dataSafe.getAddress(), from: a.citizen.address, data });
      } catch (error) {
        revertData = (error as { data?: string }).data;
      }
      expect(revertData).to.equal(expected);
    });
  });
});
