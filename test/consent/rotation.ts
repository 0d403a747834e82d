import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

import {
  AccessCheck,
  AccessRequestStatus,
  CITIZEN,
  DataType,
  GrantScope,
  GrantStatus,
  deployWithParticipants,
  grantIdOf,
  networkHelpers,
  typeTarget,
} from "../helpers/fixtures.js";
import {
  type GrantTerms,
  accessIdOf,
  approveMessage,
  authorize,
  grantBankHouseholdAndFund,
  grantMessage,
  makeRequest,
  epochOf,
  rejectMessage,
  revokeMessage,
} from "../helpers/consent.js";

const { time } = networkHelpers;
const DAY = 86_400;
const LOAN = 7;

/**
 * The citizen (old key) has given the bank an asset grant and a type grant, the bank has an open
 * request, and the school is about to be granted.
 */
async function beforeRotation() {
  const suite = await networkHelpers.loadFixture(deployWithParticipants);
  const { dataSafe, actors: a } = suite;
  const { household, fund, expiresAt, assetKey, typeKey } = await grantBankHouseholdAndFund(suite, {
    purpose: LOAN,
    days: 60,
    maxReads: 10,
  });
  const { request, requestId } = await makeRequest(dataSafe, a.bank, {
    subjectId: CITIZEN,
    scope: GrantScope.DataType,
    targets: [typeTarget(DataType.IdCard)],
    purpose: LOAN,
    grantDuration: 10 * DAY,
    maxReads: 1,
    expiresAt: expiresAt,
  });
  const schoolTerms: GrantTerms = {
    subjectId: CITIZEN,
    consumers: [a.school.address],
    scope: GrantScope.DataType,
    targets: [typeTarget(DataType.HouseholdRegister)],
    fields: 0,
    purpose: 3,
    expiresAt,
    maxReads: 1,
  };
  return {
    ...suite,
    household,
    fund,
    expiresAt,
    assetKey,
    typeKey,
    request,
    requestId,
    schoolTerms,
    newKey: a.others[2],
  };
}

type Ctx = Awaited<ReturnType<typeof beforeRotation>>;

/** After the rotation: the old key can do nothing, directly or by signature. */
async function expectOldKeyPowerless(ctx: Ctx, oldKey: HardhatEthersSigner, newKey: HardhatEthersSigner) {
  const { dataSafe, actors: a, request, requestId, schoolTerms, assetKey } = ctx;
  const notController = (call: Promise<unknown>) =>
    expect(call).to.be.revertedWithCustomError(dataSafe, "NotSubjectController").withArgs(CITIZEN, oldKey.address);
  await notController(dataSafe.connect(oldKey).approveRequest(request));
  await notController(dataSafe.connect(oldKey).rejectRequest(request, 1));
  await notController(dataSafe.connect(oldKey).grant(schoolTerms));
  await notController(dataSafe.connect(oldKey).revoke(assetKey));
  await notController(dataSafe.connect(oldKey).invalidateNonce(CITIZEN));
  await notController(dataSafe.connect(oldKey).transferControl(CITIZEN, oldKey.address));

  const badSignature = (call: Promise<unknown>) =>
    expect(call).to.be.revertedWithCustomError(dataSafe, "InvalidSignature").withArgs(CITIZEN, newKey.address);
  const sign = (primaryType: Parameters<typeof authorize>[3], message: Record<string, unknown>) =>
    authorize(dataSafe, oldKey, CITIZEN, primaryType, message);
  await badSignature(
    dataSafe
      .connect(a.stranger)
      .approveRequestBySig(request, await sign("ApproveAccessRequest", approveMessage(request))),
  );
  await badSignature(
    dataSafe
      .connect(a.stranger)
      .rejectRequestBySig(request, 1, await sign("RejectAccessRequest", rejectMessage(request, 1))),
  );
  await badSignature(
    dataSafe.connect(a.stranger).grantBySig(schoolTerms, await sign("Grant", grantMessage(schoolTerms))),
  );
  await badSignature(
    dataSafe.connect(a.stranger).revokeBySig(assetKey, 1, await sign("Revoke", revokeMessage(assetKey, 1))),
  );

  expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
  expect((await dataSafe.getGrant(grantIdOf(assetKey))).status).to.equal(GrantStatus.Active);
}

/** Grants made by the old key still serve reads: they belong to the subject, not the key. */
async function expectOldGrantsWork(ctx: Ctx) {
  const { dataSafe, actors: a, household, fund, assetKey, typeKey } = ctx;
  const assetGrant = grantIdOf(assetKey);
  const typeGrant = grantIdOf(typeKey);
  await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0))
    .to.emit(dataSafe, "AccessRecorded")
    .withArgs(assetGrant, CITIZEN, a.bank.address, accessIdOf(assetGrant, 1, 1), household.assetId, LOAN, 0, 1, 10, 1);
  await expect(dataSafe.connect(a.bank).recordAccess(fund.key, GrantScope.DataType, LOAN, 0))
    .to.emit(dataSafe, "AccessRecorded")
    .withArgs(typeGrant, CITIZEN, a.bank.address, accessIdOf(typeGrant, 1, 1), fund.assetId, LOAN, 0, 1, 10, 1);
}

/** The new key has every power, directly and by signature, over grants made before it. */
async function expectNewKeyEmpowered(ctx: Ctx, newKey: HardhatEthersSigner) {
  const { dataSafe, actors: a, request, requestId, schoolTerms, assetKey, typeKey, household } = ctx;
  await expect(dataSafe.connect(newKey).approveRequest(request))
    .to.emit(dataSafe, "AccessRequestApproved")
    .withArgs(requestId, CITIZEN, newKey.address);
  await expect(dataSafe.connect(newKey).revoke(assetKey))
    .to.emit(dataSafe, "GrantRevoked")
    .withArgs(grantIdOf(assetKey), CITIZEN, a.bank.address, 1, newKey.address);
  await expect(dataSafe.connect(a.bank).recordAccess(household.key, GrantScope.Asset, LOAN, 0))
    .to.be.revertedWithCustomError(dataSafe, "AccessDenied")
    .withArgs(grantIdOf(assetKey), household.assetId, AccessCheck.GrantRevoked);
  const grantAuth = await authorize(dataSafe, newKey, CITIZEN, "Grant", grantMessage(schoolTerms));
  await expect(dataSafe.connect(a.stranger).grantBySig(schoolTerms, grantAuth)).to.emit(dataSafe, "GrantIssued");
  const revokeAuth = await authorize(dataSafe, newKey, CITIZEN, "Revoke", revokeMessage(typeKey, 1));
  await expect(dataSafe.connect(a.stranger).revokeBySig(typeKey, 1, revokeAuth))
    .to.emit(dataSafe, "GrantRevoked")
    .withArgs(grantIdOf(typeKey), CITIZEN, a.bank.address, 1, a.stranger.address);
}

describe("consent: key rotation and recovery", () => {
  describe("transferControl", () => {
    it("moves every power to the new key at once; grants of the old key keep working", async () => {
      const ctx = await beforeRotation();
      const { dataSafe, actors: a, newKey } = ctx;
      await expect(dataSafe.connect(a.citizen).transferControl(CITIZEN, newKey.address))
        .to.emit(dataSafe, "ControllerChanged")
        .withArgs(CITIZEN, a.citizen.address, newKey.address, a.citizen.address);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(newKey.address);
      await expectOldKeyPowerless(ctx, a.citizen, newKey);
      await expectOldGrantsWork(ctx);
      await expectNewKeyEmpowered(ctx, newKey);
    });

    it("kills a signature the old key made before the rotation and nobody has used", async () => {
      const ctx = await beforeRotation();
      const { dataSafe, actors: a, newKey, request } = ctx;
      const presigned = await authorize(dataSafe, a.citizen, CITIZEN, "ApproveAccessRequest", approveMessage(request));
      await dataSafe.connect(a.citizen).transferControl(CITIZEN, newKey.address);
      await expect(dataSafe.connect(a.stranger).approveRequestBySig(request, presigned))
        .to.be.revertedWithCustomError(dataSafe, "NonceEpochMismatch")
        .withArgs(CITIZEN, presigned.nonce, 1);
      // control handed back to the old key: what it signed in the first epoch stays dead
      await dataSafe.connect(newKey).transferControl(CITIZEN, a.citizen.address);
      await expect(dataSafe.connect(a.stranger).approveRequestBySig(request, presigned))
        .to.be.revertedWithCustomError(dataSafe, "NonceEpochMismatch")
        .withArgs(CITIZEN, presigned.nonce, 2);
    });

    it("chained rotations: a key rotated away twice is still powerless, the latest key rules", async () => {
      const ctx = await beforeRotation();
      const { dataSafe, actors: a, newKey } = ctx;
      const third = a.others[3];
      await dataSafe.connect(a.citizen).transferControl(CITIZEN, newKey.address);
      await expect(dataSafe.connect(newKey).transferControl(CITIZEN, third.address))
        .to.emit(dataSafe, "ControllerChanged")
        .withArgs(CITIZEN, newKey.address, third.address, newKey.address);
      await expectOldKeyPowerless(ctx, a.citizen, third);
      await expectOldKeyPowerless(ctx, newKey, third);
      await expectOldGrantsWork(ctx);
      await expectNewKeyEmpowered(ctx, third);
    });
  });

  describe("recovery by an identity authority", () => {
    it("old key keeps power until completion; afterwards only the new key acts; old grants keep working", async () => {
      const ctx = await beforeRotation();
      const { dataSafe, actors: a, newKey, schoolTerms } = ctx;
      const delay = await dataSafe.recoveryDelay();
      const initiated = await (
        await dataSafe.connect(a.identityAuthority).initiateRecovery(CITIZEN, newKey.address)
      ).wait();
      const startedAt = (await initiated!.getBlock()).timestamp;
      const { executableAt, newController, authority } = await dataSafe.pendingRecovery(CITIZEN);
      expect([newController, authority]).to.deep.equal([newKey.address, a.identityAuthority.address]);
      expect(executableAt).to.equal(BigInt(startedAt) + delay);
      // pending: the old key is still the controller, the new one has nothing yet
      await expect(dataSafe.connect(newKey).grant(schoolTerms))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, newKey.address);
      await expect(dataSafe.connect(a.citizen).grant(schoolTerms)).to.emit(dataSafe, "GrantIssued");
      await expect(dataSafe.connect(a.stranger).completeRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "RecoveryNotReady")
        .withArgs(CITIZEN, executableAt);

      const epoch = await epochOf(dataSafe, CITIZEN);
      await time.increaseTo(executableAt);
      await expect(dataSafe.connect(a.stranger).completeRecovery(CITIZEN))
        .to.emit(dataSafe, "ControllerChanged")
        .withArgs(CITIZEN, a.citizen.address, newKey.address, a.stranger.address)
        .and.to.emit(dataSafe, "NonceInvalidated")
        .withArgs(CITIZEN, epoch + 1n);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(newKey.address);

      await expectOldKeyPowerless(ctx, a.citizen, newKey);
      await expectOldGrantsWork(ctx);
      await expectNewKeyEmpowered(ctx, newKey);
    });

    it("a signature the lost key made before the recovery dies with it (epoch moved, and wrong signer)", async () => {
      const ctx = await beforeRotation();
      const { dataSafe, actors: a, newKey, assetKey } = ctx;
      const epoch = await epochOf(dataSafe, CITIZEN);
      const deadline = BigInt((await time.latest()) + 30 * DAY);
      const message = revokeMessage(assetKey, 1);
      const presigned = await authorize(dataSafe, a.citizen, CITIZEN, "Revoke", message, { deadline });
      await dataSafe.connect(a.identityAuthority).initiateRecovery(CITIZEN, newKey.address);
      await time.increase(Number(await dataSafe.recoveryDelay()));
      await dataSafe.connect(a.stranger).completeRecovery(CITIZEN);
      await expect(dataSafe.connect(a.stranger).revokeBySig(assetKey, 1, presigned))
        .to.be.revertedWithCustomError(dataSafe, "NonceEpochMismatch")
        .withArgs(CITIZEN, presigned.nonce, epoch + 1n);
      // even re-signed in the current epoch, the lost key is not the controller
      const resigned = await authorize(dataSafe, a.citizen, CITIZEN, "Revoke", message, { deadline });
      expect(resigned.nonce >> 208n).to.equal(epoch + 1n);
      await expect(dataSafe.connect(a.stranger).revokeBySig(assetKey, 1, resigned))
        .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
        .withArgs(CITIZEN, newKey.address);
      expect((await dataSafe.getGrant(grantIdOf(assetKey))).status).to.equal(GrantStatus.Active);
    });

    it("a recovery the controller cancels leaves every power with the controller", async () => {
      const ctx = await beforeRotation();
      const { dataSafe, actors: a, newKey, schoolTerms } = ctx;
      await dataSafe.connect(a.identityAuthority).initiateRecovery(CITIZEN, newKey.address);
      await expect(dataSafe.connect(a.citizen).cancelRecovery(CITIZEN))
        .to.emit(dataSafe, "RecoveryCancelled")
        .withArgs(CITIZEN, a.citizen.address);
      await time.increase(Number(await dataSafe.recoveryDelay()) + 1);
      await expect(dataSafe.connect(a.stranger).completeRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(CITIZEN);
      await expect(dataSafe.connect(newKey).grant(schoolTerms))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, newKey.address);
      const auth = await authorize(dataSafe, a.citizen, CITIZEN, "Grant", grantMessage(schoolTerms));
      await expect(dataSafe.connect(a.stranger).grantBySig(schoolTerms, auth)).to.emit(dataSafe, "GrantIssued");
    });
  });
});
