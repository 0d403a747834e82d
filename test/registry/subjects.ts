import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";

import {
  CITIZEN,
  COMPANY,
  DataType,
  MemberKind,
  deployWithParticipants,
  networkHelpers,
  subjectIdFor,
} from "../helpers/fixtures.js";
import {
  ZeroAddress,
  ZeroHash,
  blockTimeOf,
  eventNamesOf,
  eventsOf,
  storedRecovery,
  storedSubject,
} from "../helpers/registry.js";

const { loadFixture, time } = networkHelpers;

const THREE_DAYS = 3 * 24 * 60 * 60;
const MAX_RECOVERY_DELAY = 90 * 24 * 60 * 60;
const NEW_SUBJECT = subjectIdFor("citizen-2");
const NO_RECOVERY = { newController: ZeroAddress, executableAt: 0, authority: ZeroAddress };

describe("SubjectRegistry", () => {
  describe("registerSubject", () => {
    it("emits SubjectRegistered with subject, controller and authority", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [controller] = actors.others;
      await expect(dataSafe.connect(actors.identityAuthority).registerSubject(NEW_SUBJECT, controller.address))
        .to.emit(dataSafe, "SubjectRegistered")
        .withArgs(NEW_SUBJECT, controller.address, actors.identityAuthority.address);
    });

    it("stores the controller, the registration time and nonce 0", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [controller] = actors.others;
      const at = await blockTimeOf(
        dataSafe.connect(actors.identityAuthority).registerSubject(NEW_SUBJECT, controller.address),
      );
      expect(await storedSubject(dataSafe, NEW_SUBJECT)).to.deep.equal({
        controller: controller.address,
        registeredAt: at,
        nonce: 0,
      });
      expect(await dataSafe.controllerOf(NEW_SUBJECT)).to.equal(controller.address);
    });

    it("reverts MemberNotPermitted(account, IdentityAuthority) for a department, a consumer and a stranger", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      for (const who of [actors.publicSecurity, actors.bank, actors.stranger, actors.memberAdmin]) {
        await expect(dataSafe.connect(who).registerSubject(NEW_SUBJECT, actors.others[0].address))
          .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
          .withArgs(who.address, MemberKind.IdentityAuthority);
      }
      expect(await dataSafe.controllerOf(NEW_SUBJECT)).to.equal(ZeroAddress);
    });

    it("reverts MemberNotPermitted for a suspended identity authority, and works again once reinstated", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await dataSafe.connect(actors.regulator).suspendMember(actors.identityAuthority.address, 1);
      await expect(dataSafe.connect(actors.identityAuthority).registerSubject(NEW_SUBJECT, actors.others[0].address))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.identityAuthority.address, MemberKind.IdentityAuthority);
      expect(await dataSafe.controllerOf(NEW_SUBJECT)).to.equal(ZeroAddress);
      await dataSafe.connect(actors.regulator).reinstateMember(actors.identityAuthority.address);
      await expect(
        dataSafe.connect(actors.identityAuthority).registerSubject(NEW_SUBJECT, actors.others[0].address),
      ).to.emit(dataSafe, "SubjectRegistered");
    });

    it("reverts SubjectAlreadyRegistered for a registered id and keeps its controller", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const before = await storedSubject(dataSafe, CITIZEN);
      await expect(dataSafe.connect(actors.identityAuthority).registerSubject(CITIZEN, actors.stranger.address))
        .to.be.revertedWithCustomError(dataSafe, "SubjectAlreadyRegistered")
        .withArgs(CITIZEN);
      expect(await storedSubject(dataSafe, CITIZEN)).to.deep.equal(before);
    });

    it("reverts InvalidSubject for a zero subject id", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.identityAuthority).registerSubject(ZeroHash, actors.others[0].address))
        .to.be.revertedWithCustomError(dataSafe, "InvalidSubject")
        .withArgs(ZeroHash, actors.others[0].address);
    });

    it("reverts InvalidSubject for a zero controller", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.identityAuthority).registerSubject(NEW_SUBJECT, ZeroAddress))
        .to.be.revertedWithCustomError(dataSafe, "InvalidSubject")
        .withArgs(NEW_SUBJECT, ZeroAddress);
      expect(await dataSafe.controllerOf(NEW_SUBJECT)).to.equal(ZeroAddress);
    });
  });

  describe("registerSubjects", () => {
    it("registers every subject, in order, with one SubjectRegistered each", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const ids = [subjectIdFor("a"), subjectIdFor("b"), subjectIdFor("c")];
      const controllers = actors.others.slice(0, 3).map((s) => s.address);
      const tx = dataSafe.connect(actors.identityAuthority).registerSubjects(ids, controllers);
      expect(await eventsOf(tx, dataSafe, "SubjectRegistered")).to.deep.equal(
        ids.map((id, i) => [id, controllers[i], actors.identityAuthority.address]),
      );
      const at = await time.latest();
      for (const [i, id] of ids.entries()) {
        expect(await storedSubject(dataSafe, id)).to.deep.equal({
          controller: controllers[i],
          registeredAt: at,
          nonce: 0,
        });
      }
    });

    it("reverts InvalidSubject(0, 0) for arrays of different lengths", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        dataSafe
          .connect(actors.identityAuthority)
          .registerSubjects([subjectIdFor("a"), subjectIdFor("b")], [actors.others[0].address]),
      )
        .to.be.revertedWithCustomError(dataSafe, "InvalidSubject")
        .withArgs(ZeroHash, ZeroAddress);
      expect(await dataSafe.controllerOf(subjectIdFor("a"))).to.equal(ZeroAddress);
    });

    it("reverts InvalidSubject(0, 0) for an empty batch", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.identityAuthority).registerSubjects([], []))
        .to.be.revertedWithCustomError(dataSafe, "InvalidSubject")
        .withArgs(ZeroHash, ZeroAddress);
    });

    it("reverts whole on a duplicate (SubjectAlreadyRegistered) and registers nothing", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const fresh = subjectIdFor("a");
      await expect(
        dataSafe
          .connect(actors.identityAuthority)
          .registerSubjects([fresh, CITIZEN], [actors.others[0].address, actors.others[1].address]),
      )
        .to.be.revertedWithCustomError(dataSafe, "SubjectAlreadyRegistered")
        .withArgs(CITIZEN);
      expect(await dataSafe.controllerOf(fresh)).to.equal(ZeroAddress);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(actors.citizen.address);
    });

    it("reverts whole on a repeated id inside the batch", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const fresh = subjectIdFor("a");
      await expect(
        dataSafe
          .connect(actors.identityAuthority)
          .registerSubjects([fresh, fresh], [actors.others[0].address, actors.others[1].address]),
      )
        .to.be.revertedWithCustomError(dataSafe, "SubjectAlreadyRegistered")
        .withArgs(fresh);
      expect(await dataSafe.controllerOf(fresh)).to.equal(ZeroAddress);
    });

    it("reverts whole on a zero id or controller inside the batch", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const fresh = subjectIdFor("a");
      await expect(
        dataSafe
          .connect(actors.identityAuthority)
          .registerSubjects([fresh, subjectIdFor("b")], [actors.others[0].address, ZeroAddress]),
      )
        .to.be.revertedWithCustomError(dataSafe, "InvalidSubject")
        .withArgs(subjectIdFor("b"), ZeroAddress);
      expect(await dataSafe.controllerOf(fresh)).to.equal(ZeroAddress);
    });

    it("reverts MemberNotPermitted for a caller that is not an active identity authority", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      for (const who of [actors.publicSecurity, actors.stranger]) {
        await expect(dataSafe.connect(who).registerSubjects([subjectIdFor("a")], [actors.others[0].address]))
          .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
          .withArgs(who.address, MemberKind.IdentityAuthority);
      }
    });
  });

  describe("transferControl", () => {
    it("emits ControllerChanged by the previous controller, then NonceInvalidated, and moves control", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [newKey] = actors.others;
      const before = await storedSubject(dataSafe, CITIZEN);
      const tx = dataSafe.connect(actors.citizen).transferControl(CITIZEN, newKey.address);
      await expect(tx)
        .to.emit(dataSafe, "ControllerChanged")
        .withArgs(CITIZEN, actors.citizen.address, newKey.address, actors.citizen.address);
      await expect(tx)
        .to.emit(dataSafe, "NonceInvalidated")
        .withArgs(CITIZEN, before.nonce + 1);
      expect(await eventNamesOf(tx, dataSafe)).to.deep.equal(["ControllerChanged", "NonceInvalidated"]);
      // The controller and the nonce change; the registration time stays.
      expect(await storedSubject(dataSafe, CITIZEN)).to.deep.equal({
        ...before,
        controller: newKey.address,
        nonce: before.nonce + 1,
      });
    });

    it("ends a pending recovery: RecoveryCancelled by the controller, and the recovery can no longer complete", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [recoveryKey, newKey] = actors.others;
      await dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, recoveryKey.address);
      const tx = dataSafe.connect(actors.citizen).transferControl(CITIZEN, newKey.address);
      await expect(tx).to.emit(dataSafe, "RecoveryCancelled").withArgs(CITIZEN, actors.citizen.address);
      expect(await eventNamesOf(tx, dataSafe)).to.deep.equal([
        "RecoveryCancelled",
        "ControllerChanged",
        "NonceInvalidated",
      ]);
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(NO_RECOVERY);
      await time.increase(THREE_DAYS);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(CITIZEN);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(newKey.address);
    });

    it("does not revive the previous key's unused signatures when control comes back to it", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [newKey] = actors.others;
      const { nonce } = await storedSubject(dataSafe, CITIZEN);
      const domain = {
        name: "DataSafe",
        version: "1",
        chainId: (await dataSafe.runner!.provider!.getNetwork()).chainId,
        verifyingContract: await dataSafe.getAddress(),
      };
      const types = {
        RequestReturn: [
          { name: "subjectId", type: "bytes32" },
          { name: "dataType", type: "uint32" },
          { name: "department", type: "address" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      };
      const deadline = 4_102_444_800n;
      const message = {
        subjectId: CITIZEN,
        dataType: DataType.HouseholdRegister,
        department: actors.publicSecurity.address,
        nonce,
        deadline,
      };
      const signature = await actors.citizen.signTypedData(domain, types, message);
      await dataSafe.connect(actors.citizen).transferControl(CITIZEN, newKey.address);
      await dataSafe.connect(newKey).transferControl(CITIZEN, actors.citizen.address);
      await expect(
        dataSafe
          .connect(actors.stranger)
          .requestReturnBySig(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address, {
            nonce,
            deadline,
            signature,
          }),
      )
        .to.be.revertedWithCustomError(dataSafe, "NonceEpochMismatch")
        .withArgs(CITIZEN, nonce, nonce + 2);
    });

    it("takes all power from the old key at once", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [newKey] = actors.others;
      await dataSafe.connect(actors.citizen).transferControl(CITIZEN, newKey.address);
      await expect(dataSafe.connect(actors.citizen).transferControl(CITIZEN, actors.citizen.address))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, actors.citizen.address);
      await expect(
        dataSafe
          .connect(actors.citizen)
          .requestReturn(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address),
      )
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, actors.citizen.address);
      await expect(dataSafe.connect(actors.citizen).invalidateNonce(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, actors.citizen.address);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(newKey.address);
    });

    it("gives the new key the controller's power", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [newKey, newerKey] = actors.others;
      await dataSafe.connect(actors.citizen).transferControl(CITIZEN, newKey.address);
      await expect(
        dataSafe.connect(newKey).requestReturn(CITIZEN, DataType.HouseholdRegister, actors.publicSecurity.address),
      ).to.emit(dataSafe, "ReturnRequested");
      await expect(dataSafe.connect(newKey).transferControl(CITIZEN, newerKey.address))
        .to.emit(dataSafe, "ControllerChanged")
        .withArgs(CITIZEN, newKey.address, newerKey.address, newKey.address);
    });

    it("reverts NotSubjectController for another account, even another subject's controller", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      for (const who of [actors.stranger, actors.company, actors.identityAuthority]) {
        await expect(dataSafe.connect(who).transferControl(CITIZEN, who.address))
          .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
          .withArgs(CITIZEN, who.address);
      }
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(actors.citizen.address);
    });

    it("reverts InvalidSubject for a zero new controller", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.citizen).transferControl(CITIZEN, ZeroAddress))
        .to.be.revertedWithCustomError(dataSafe, "InvalidSubject")
        .withArgs(CITIZEN, ZeroAddress);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(actors.citizen.address);
    });

    it("reverts SubjectNotRegistered for an unknown subject", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.citizen).transferControl(NEW_SUBJECT, actors.stranger.address))
        .to.be.revertedWithCustomError(dataSafe, "SubjectNotRegistered")
        .withArgs(NEW_SUBJECT);
    });
  });

  describe("invalidateNonce", () => {
    it("emits NonceInvalidated and increments the nonce by one each time", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.citizen).invalidateNonce(CITIZEN))
        .to.emit(dataSafe, "NonceInvalidated")
        .withArgs(CITIZEN, 1);
      await expect(dataSafe.connect(actors.citizen).invalidateNonce(CITIZEN))
        .to.emit(dataSafe, "NonceInvalidated")
        .withArgs(CITIZEN, 2);
      expect((await storedSubject(dataSafe, CITIZEN)).nonce).to.equal(2);
      expect((await storedSubject(dataSafe, COMPANY)).nonce).to.equal(0);
    });

    it("reverts NotSubjectController for another account", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.company).invalidateNonce(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, actors.company.address);
      expect((await storedSubject(dataSafe, CITIZEN)).nonce).to.equal(0);
    });

    it("reverts SubjectNotRegistered for an unknown subject", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.citizen).invalidateNonce(NEW_SUBJECT))
        .to.be.revertedWithCustomError(dataSafe, "SubjectNotRegistered")
        .withArgs(NEW_SUBJECT);
    });
  });

  describe("initiateRecovery", () => {
    it("emits RecoveryInitiated with executableAt = block time + delay and stores the recovery", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [newKey] = actors.others;
      const at = (await time.latest()) + 5;
      await time.setNextBlockTimestamp(at);
      await expect(dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, newKey.address))
        .to.emit(dataSafe, "RecoveryInitiated")
        .withArgs(CITIZEN, newKey.address, at + THREE_DAYS, actors.identityAuthority.address);
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal({
        newController: newKey.address,
        executableAt: at + THREE_DAYS,
        authority: actors.identityAuthority.address,
      });
      // Nothing changes for the subject until the recovery completes.
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(actors.citizen.address);
    });

    it("lets the identity authority that started a recovery replace it (new key, delay restarts)", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [first, second] = actors.others;
      await dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, first.address);
      const at = await blockTimeOf(
        dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, second.address),
      );
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal({
        newController: second.address,
        executableAt: at + THREE_DAYS,
        authority: actors.identityAuthority.address,
      });
    });

    it("reverts RecoveryAlreadyPending(subject, authority) for another identity authority, keeping the pending one", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const [first, second, otherAuthority] = actors.others;
      await dataSafe
        .connect(actors.memberAdmin)
        .registerMember(otherAuthority.address, MemberKind.IdentityAuthority, "IA 2", "");
      await dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, first.address);
      const before = await storedRecovery(dataSafe, CITIZEN);
      await expect(dataSafe.connect(otherAuthority).initiateRecovery(CITIZEN, second.address))
        .to.be.revertedWithCustomError(dataSafe, "RecoveryAlreadyPending")
        .withArgs(CITIZEN, actors.identityAuthority.address);
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(before);
      // Once the pending one is cancelled, another authority may start its own.
      await dataSafe.connect(actors.citizen).cancelRecovery(CITIZEN);
      await expect(dataSafe.connect(otherAuthority).initiateRecovery(CITIZEN, second.address))
        .to.emit(dataSafe, "RecoveryInitiated")
        .withArgs(CITIZEN, second.address, anyValue, otherAuthority.address);
    });

    it("reverts MemberNotPermitted for a caller that is not an active identity authority", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await dataSafe
        .connect(actors.memberAdmin)
        .registerMember(actors.others[1].address, MemberKind.IdentityAuthority, "IA 2", "");
      await dataSafe.connect(actors.regulator).suspendMember(actors.others[1].address, 1);
      for (const who of [actors.stranger, actors.publicSecurity, actors.citizen, actors.others[1]]) {
        await expect(dataSafe.connect(who).initiateRecovery(CITIZEN, actors.others[0].address))
          .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
          .withArgs(who.address, MemberKind.IdentityAuthority);
      }
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(NO_RECOVERY);
    });

    it("reverts SubjectNotRegistered for an unknown subject", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.identityAuthority).initiateRecovery(NEW_SUBJECT, actors.others[0].address))
        .to.be.revertedWithCustomError(dataSafe, "SubjectNotRegistered")
        .withArgs(NEW_SUBJECT);
    });

    it("reverts InvalidSubject for a zero new controller", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, ZeroAddress))
        .to.be.revertedWithCustomError(dataSafe, "InvalidSubject")
        .withArgs(CITIZEN, ZeroAddress);
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(NO_RECOVERY);
    });
  });

  describe("completeRecovery", () => {
    async function initiated() {
      const suite = await deployWithParticipants();
      const [newKey] = suite.actors.others;
      const at = await blockTimeOf(
        suite.dataSafe.connect(suite.actors.identityAuthority).initiateRecovery(CITIZEN, newKey.address),
      );
      return { ...suite, newKey, executableAt: at + THREE_DAYS };
    }

    it("reverts RecoveryNotReady one second before executableAt", async () => {
      const { dataSafe, actors, executableAt } = await loadFixture(initiated);
      await time.setNextBlockTimestamp(executableAt - 1);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "RecoveryNotReady")
        .withArgs(CITIZEN, executableAt);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(actors.citizen.address);
    });

    it("completes at executableAt, called by anyone: ControllerChanged then NonceInvalidated", async () => {
      const { dataSafe, actors, newKey, executableAt } = await loadFixture(initiated);
      await time.setNextBlockTimestamp(executableAt);
      const tx = dataSafe.connect(actors.stranger).completeRecovery(CITIZEN);
      await expect(tx)
        .to.emit(dataSafe, "ControllerChanged")
        .withArgs(CITIZEN, actors.citizen.address, newKey.address, actors.stranger.address);
      await expect(tx).to.emit(dataSafe, "NonceInvalidated").withArgs(CITIZEN, 1);
      expect(await eventNamesOf(tx, dataSafe)).to.deep.equal(["ControllerChanged", "NonceInvalidated"]);
    });

    it("moves control, increments the nonce, keeps the registration time and clears the recovery", async () => {
      const { dataSafe, actors, newKey, executableAt } = await loadFixture(initiated);
      const before = await storedSubject(dataSafe, CITIZEN);
      await time.increaseTo(executableAt + 100);
      await dataSafe.connect(actors.stranger).completeRecovery(CITIZEN);
      expect(await storedSubject(dataSafe, CITIZEN)).to.deep.equal({
        ...before,
        controller: newKey.address,
        nonce: before.nonce + 1,
      });
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(NO_RECOVERY);
    });

    it("leaves the lost key powerless and gives the new key control", async () => {
      const { dataSafe, actors, newKey, executableAt } = await loadFixture(initiated);
      await time.increaseTo(executableAt);
      await dataSafe.connect(actors.stranger).completeRecovery(CITIZEN);
      await expect(dataSafe.connect(actors.citizen).transferControl(CITIZEN, actors.citizen.address))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, actors.citizen.address);
      await expect(dataSafe.connect(actors.citizen).invalidateNonce(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(CITIZEN, actors.citizen.address);
      await expect(dataSafe.connect(newKey).invalidateNonce(CITIZEN))
        .to.emit(dataSafe, "NonceInvalidated")
        .withArgs(CITIZEN, 2);
    });

    it("reverts MemberNotPermitted when the authority that started it was suspended meanwhile", async () => {
      const { dataSafe, actors, executableAt } = await loadFixture(initiated);
      await dataSafe.connect(actors.regulator).suspendMember(actors.identityAuthority.address, 1);
      await time.increaseTo(executableAt);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.identityAuthority.address, MemberKind.IdentityAuthority);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(actors.citizen.address);
      await dataSafe.connect(actors.regulator).reinstateMember(actors.identityAuthority.address);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(CITIZEN)).to.emit(dataSafe, "ControllerChanged");
    });

    it("reverts NoPendingRecovery once completed", async () => {
      const { dataSafe, actors, executableAt } = await loadFixture(initiated);
      await time.increaseTo(executableAt);
      await dataSafe.connect(actors.stranger).completeRecovery(CITIZEN);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(CITIZEN);
    });

    it("reverts NoPendingRecovery for a subject without one", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(COMPANY))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(COMPANY);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(NEW_SUBJECT))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(NEW_SUBJECT);
    });

    it("keeps the executableAt fixed when the recovery delay changes afterwards", async () => {
      const { dataSafe, actors, executableAt } = await loadFixture(initiated);
      await dataSafe.connect(actors.operator).setRecoveryDelay(MAX_RECOVERY_DELAY);
      expect((await storedRecovery(dataSafe, CITIZEN)).executableAt).to.equal(executableAt);
      await time.increaseTo(executableAt);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(CITIZEN)).to.emit(dataSafe, "ControllerChanged");
    });
  });

  describe("cancelRecovery", () => {
    async function initiated() {
      const suite = await deployWithParticipants();
      await suite.dataSafe
        .connect(suite.actors.identityAuthority)
        .initiateRecovery(CITIZEN, suite.actors.others[0].address);
      return suite;
    }

    it("lets the controller cancel (RecoveryCancelled) and clears the recovery", async () => {
      const { dataSafe, actors } = await loadFixture(initiated);
      await expect(dataSafe.connect(actors.citizen).cancelRecovery(CITIZEN))
        .to.emit(dataSafe, "RecoveryCancelled")
        .withArgs(CITIZEN, actors.citizen.address);
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(NO_RECOVERY);
      await time.increase(THREE_DAYS);
      await expect(dataSafe.connect(actors.stranger).completeRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(CITIZEN);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(actors.citizen.address);
    });

    it("reverts NotRecoveryAuthority for an active identity authority that did not start it", async () => {
      const { dataSafe, actors } = await loadFixture(initiated);
      const otherAuthority = actors.others[1];
      await dataSafe
        .connect(actors.memberAdmin)
        .registerMember(otherAuthority.address, MemberKind.IdentityAuthority, "IA 2", "");
      const before = await storedRecovery(dataSafe, CITIZEN);
      await expect(dataSafe.connect(otherAuthority).cancelRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NotRecoveryAuthority")
        .withArgs(CITIZEN, otherAuthority.address);
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(before);
    });

    it("lets the identity authority that started it cancel", async () => {
      const { dataSafe, actors } = await loadFixture(initiated);
      await expect(dataSafe.connect(actors.identityAuthority).cancelRecovery(CITIZEN))
        .to.emit(dataSafe, "RecoveryCancelled")
        .withArgs(CITIZEN, actors.identityAuthority.address);
    });

    it("reverts NotRecoveryAuthority for a stranger, a department, the proposed key and the regulator", async () => {
      const { dataSafe, actors } = await loadFixture(initiated);
      const before = await storedRecovery(dataSafe, CITIZEN);
      for (const who of [actors.stranger, actors.publicSecurity, actors.others[0], actors.regulator]) {
        await expect(dataSafe.connect(who).cancelRecovery(CITIZEN))
          .to.be.revertedWithCustomError(dataSafe, "NotRecoveryAuthority")
          .withArgs(CITIZEN, who.address);
      }
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(before);
    });

    it("reverts MemberNotPermitted for the authority that started it once suspended", async () => {
      const { dataSafe, actors } = await loadFixture(initiated);
      const before = await storedRecovery(dataSafe, CITIZEN);
      await dataSafe.connect(actors.regulator).suspendMember(actors.identityAuthority.address, 1);
      await expect(dataSafe.connect(actors.identityAuthority).cancelRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(actors.identityAuthority.address, MemberKind.IdentityAuthority);
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(before);
    });

    it("reverts NoPendingRecovery for a subject without one", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.citizen).cancelRecovery(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(CITIZEN);
      await expect(dataSafe.connect(actors.identityAuthority).cancelRecovery(NEW_SUBJECT))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(NEW_SUBJECT);
    });
  });

  describe("cancelRecoveryByGovernance", () => {
    async function initiated() {
      const suite = await deployWithParticipants();
      await suite.dataSafe
        .connect(suite.actors.identityAuthority)
        .initiateRecovery(CITIZEN, suite.actors.others[0].address);
      return suite;
    }

    it("lets the regulator cancel any pending recovery: RecoveryCancelled by the regulator", async () => {
      const { dataSafe, actors } = await loadFixture(initiated);
      await expect(dataSafe.connect(actors.regulator).cancelRecoveryByGovernance(CITIZEN))
        .to.emit(dataSafe, "RecoveryCancelled")
        .withArgs(CITIZEN, actors.regulator.address);
      expect(await storedRecovery(dataSafe, CITIZEN)).to.deep.equal(NO_RECOVERY);
    });

    it("clears a suspended authority's recovery that nobody else could cancel, so another may start", async () => {
      const { dataSafe, actors } = await loadFixture(initiated);
      const otherAuthority = actors.others[1];
      await dataSafe
        .connect(actors.memberAdmin)
        .registerMember(otherAuthority.address, MemberKind.IdentityAuthority, "IA 2", "");
      await dataSafe.connect(actors.regulator).suspendMember(actors.identityAuthority.address, 1);
      await dataSafe.connect(actors.regulator).cancelRecoveryByGovernance(CITIZEN);
      await expect(dataSafe.connect(otherAuthority).initiateRecovery(CITIZEN, actors.others[2].address)).to.emit(
        dataSafe,
        "RecoveryInitiated",
      );
    });

    it("reverts NoPendingRecovery without one", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.regulator).cancelRecoveryByGovernance(CITIZEN))
        .to.be.revertedWithCustomError(dataSafe, "NoPendingRecovery")
        .withArgs(CITIZEN);
    });

    it("reverts AccessManagedUnauthorized for identity authorities, the controller and other roles", async () => {
      const { dataSafe, actors } = await loadFixture(initiated);
      for (const who of [actors.identityAuthority, actors.citizen, actors.operator, actors.admin, actors.stranger]) {
        await expect(dataSafe.connect(who).cancelRecoveryByGovernance(CITIZEN))
          .to.be.revertedWithCustomError(dataSafe, "AccessManagedUnauthorized")
          .withArgs(who.address);
      }
      expect((await storedRecovery(dataSafe, CITIZEN)).newController).to.equal(actors.others[0].address);
    });
  });

  describe("setRecoveryDelay", () => {
    it("lets the operator set it (RecoveryDelaySet) and new recoveries use it", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      expect(await dataSafe.recoveryDelay()).to.equal(THREE_DAYS);
      await expect(dataSafe.connect(actors.operator).setRecoveryDelay(3600))
        .to.emit(dataSafe, "RecoveryDelaySet")
        .withArgs(3600);
      expect(await dataSafe.recoveryDelay()).to.equal(3600);
      const at = await blockTimeOf(
        dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, actors.others[0].address),
      );
      expect((await storedRecovery(dataSafe, CITIZEN)).executableAt).to.equal(at + 3600);
    });

    it("accepts MAX_RECOVERY_DELAY and 0", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      expect(await dataSafe.MAX_RECOVERY_DELAY()).to.equal(MAX_RECOVERY_DELAY);
      await dataSafe.connect(actors.operator).setRecoveryDelay(MAX_RECOVERY_DELAY);
      expect(await dataSafe.recoveryDelay()).to.equal(MAX_RECOVERY_DELAY);
      await dataSafe.connect(actors.operator).setRecoveryDelay(0);
      expect(await dataSafe.recoveryDelay()).to.equal(0);
    });

    it("with delay 0, a recovery completes in the next block", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await dataSafe.connect(actors.operator).setRecoveryDelay(0);
      await dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, actors.others[0].address);
      await dataSafe.connect(actors.stranger).completeRecovery(CITIZEN);
      expect(await dataSafe.controllerOf(CITIZEN)).to.equal(actors.others[0].address);
    });

    it("reverts InvalidRecoveryDelay above MAX_RECOVERY_DELAY and keeps the delay", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.operator).setRecoveryDelay(MAX_RECOVERY_DELAY + 1))
        .to.be.revertedWithCustomError(dataSafe, "InvalidRecoveryDelay")
        .withArgs(MAX_RECOVERY_DELAY + 1);
      expect(await dataSafe.recoveryDelay()).to.equal(THREE_DAYS);
    });

    it("reverts AccessManagedUnauthorized for anyone but the operator", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      for (const who of [
        actors.admin,
        actors.memberAdmin,
        actors.regulator,
        actors.identityAuthority,
        actors.citizen,
        actors.stranger,
      ]) {
        await expect(dataSafe.connect(who).setRecoveryDelay(60))
          .to.be.revertedWithCustomError(dataSafe, "AccessManagedUnauthorized")
          .withArgs(who.address);
      }
      expect(await dataSafe.recoveryDelay()).to.equal(THREE_DAYS);
    });
  });

  describe("views", () => {
    it("return zero values for an unknown subject", async () => {
      const { dataSafe } = await loadFixture(deployWithParticipants);
      expect(await storedSubject(dataSafe, NEW_SUBJECT)).to.deep.equal({
        controller: ZeroAddress,
        registeredAt: 0,
        nonce: 0,
      });
      expect(await dataSafe.controllerOf(NEW_SUBJECT)).to.equal(ZeroAddress);
      expect(await storedRecovery(dataSafe, NEW_SUBJECT)).to.deep.equal(NO_RECOVERY);
    });
  });
});
