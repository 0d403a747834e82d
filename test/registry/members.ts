import { expect } from "chai";

import { MemberKind, MemberStatus, deployWithParticipants, ethers, networkHelpers } from "../helpers/fixtures.js";
import { ZeroAddress, blockTimeOf, storedMember } from "../helpers/registry.js";

const { loadFixture } = networkHelpers;

describe("MemberDirectory", () => {
  describe("registerMember", () => {
    it("emits MemberRegistered with every field and the governance caller", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        dataSafe
          .connect(actors.memberAdmin)
          .registerMember(actors.stranger.address, MemberKind.Consumer, "Employer Ltd", "ipfs://member/employer"),
      )
        .to.emit(dataSafe, "MemberRegistered")
        .withArgs(
          actors.stranger.address,
          MemberKind.Consumer,
          "Employer Ltd",
          "ipfs://member/employer",
          actors.memberAdmin.address,
        );
    });

    it("stores kind, status Active, registration time, name and metadata", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const at = await blockTimeOf(
        dataSafe
          .connect(actors.memberAdmin)
          .registerMember(actors.stranger.address, MemberKind.Consumer, "Employer Ltd", "ipfs://member/employer"),
      );
      expect(await storedMember(dataSafe, actors.stranger.address)).to.deep.equal({
        kind: MemberKind.Consumer,
        status: MemberStatus.Active,
        registeredAt: at,
        name: "Employer Ltd",
        metadataURI: "ipfs://member/employer",
      });
      expect(await dataSafe.isActiveMember(actors.stranger.address, MemberKind.Consumer)).to.equal(true);
      expect(await dataSafe.isActiveMember(actors.stranger.address, MemberKind.Department)).to.equal(false);
    });

    it("registers every kind of member", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const kinds = [
        MemberKind.Department,
        MemberKind.Consumer,
        MemberKind.Regulator,
        MemberKind.Operator,
        MemberKind.IdentityAuthority,
      ];
      for (const [i, kind] of kinds.entries()) {
        const account = actors.others[i].address;
        await dataSafe.connect(actors.memberAdmin).registerMember(account, kind, `member-${i}`, "");
        expect((await storedMember(dataSafe, account)).kind).to.equal(kind);
        expect(await dataSafe.isActiveMember(account, kind)).to.equal(true);
      }
    });

    it("accepts an empty metadata URI", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await dataSafe.connect(actors.memberAdmin).registerMember(actors.stranger.address, MemberKind.Consumer, "X", "");
      expect((await storedMember(dataSafe, actors.stranger.address)).metadataURI).to.equal("");
    });

    it("reverts MemberAlreadyRegistered for a registered account and keeps the stored member", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const before = await storedMember(dataSafe, actors.bank.address);
      await expect(
        dataSafe
          .connect(actors.memberAdmin)
          .registerMember(actors.bank.address, MemberKind.Department, "Impostor", "ipfs://x"),
      )
        .to.be.revertedWithCustomError(dataSafe, "MemberAlreadyRegistered")
        .withArgs(actors.bank.address);
      expect(await storedMember(dataSafe, actors.bank.address)).to.deep.equal(before);
    });

    it("reverts MemberAlreadyRegistered for a suspended member (suspension is not removal)", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await dataSafe.connect(actors.regulator).suspendMember(actors.bank.address, 1);
      await expect(
        dataSafe.connect(actors.memberAdmin).registerMember(actors.bank.address, MemberKind.Consumer, "Bank", ""),
      )
        .to.be.revertedWithCustomError(dataSafe, "MemberAlreadyRegistered")
        .withArgs(actors.bank.address);
      expect((await storedMember(dataSafe, actors.bank.address)).status).to.equal(MemberStatus.Suspended);
    });

    it("reverts InvalidMember for the zero address", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.memberAdmin).registerMember(ZeroAddress, MemberKind.Consumer, "Nobody", ""))
        .to.be.revertedWithCustomError(dataSafe, "InvalidMember")
        .withArgs(ZeroAddress);
      expect((await storedMember(dataSafe, ZeroAddress)).kind).to.equal(MemberKind.None);
    });

    it("reverts InvalidMember for kind None", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        dataSafe.connect(actors.memberAdmin).registerMember(actors.stranger.address, MemberKind.None, "X", ""),
      )
        .to.be.revertedWithCustomError(dataSafe, "InvalidMember")
        .withArgs(actors.stranger.address);
      expect((await storedMember(dataSafe, actors.stranger.address)).kind).to.equal(MemberKind.None);
    });

    it("reverts InvalidMember for an empty name", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        dataSafe.connect(actors.memberAdmin).registerMember(actors.stranger.address, MemberKind.Consumer, "", ""),
      )
        .to.be.revertedWithCustomError(dataSafe, "InvalidMember")
        .withArgs(actors.stranger.address);
      expect((await storedMember(dataSafe, actors.stranger.address)).kind).to.equal(MemberKind.None);
    });

    it("reverts (ABI decoding) for a kind outside the enum", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(
        dataSafe.connect(actors.memberAdmin).registerMember(actors.stranger.address, 6, "X", ""),
      ).to.be.revertedWithoutReason(ethers);
    });
  });

  describe("updateMember", () => {
    it("emits MemberUpdated and changes name and metadata only", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const before = await storedMember(dataSafe, actors.bank.address);
      await expect(
        dataSafe
          .connect(actors.memberAdmin)
          .updateMember(actors.bank.address, "Bank (renamed)", "ipfs://member/bank-v2"),
      )
        .to.emit(dataSafe, "MemberUpdated")
        .withArgs(actors.bank.address, "Bank (renamed)", "ipfs://member/bank-v2", actors.memberAdmin.address);
      expect(await storedMember(dataSafe, actors.bank.address)).to.deep.equal({
        ...before,
        name: "Bank (renamed)",
        metadataURI: "ipfs://member/bank-v2",
      });
    });

    it("updates a suspended member without reinstating it", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await dataSafe.connect(actors.regulator).suspendMember(actors.bank.address, 3);
      await dataSafe.connect(actors.memberAdmin).updateMember(actors.bank.address, "Bank", "");
      expect((await storedMember(dataSafe, actors.bank.address)).status).to.equal(MemberStatus.Suspended);
    });

    it("reverts MemberNotRegistered for an unknown account", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.memberAdmin).updateMember(actors.stranger.address, "X", ""))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotRegistered")
        .withArgs(actors.stranger.address);
    });

    it("reverts InvalidMember for an empty name and keeps the member", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const before = await storedMember(dataSafe, actors.bank.address);
      await expect(dataSafe.connect(actors.memberAdmin).updateMember(actors.bank.address, "", ""))
        .to.be.revertedWithCustomError(dataSafe, "InvalidMember")
        .withArgs(actors.bank.address);
      expect(await storedMember(dataSafe, actors.bank.address)).to.deep.equal(before);
    });
  });

  describe("suspendMember", () => {
    it("emits MemberSuspended with the reason and the regulator, and stops the member", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const before = await storedMember(dataSafe, actors.publicSecurity.address);
      await expect(dataSafe.connect(actors.regulator).suspendMember(actors.publicSecurity.address, 42))
        .to.emit(dataSafe, "MemberSuspended")
        .withArgs(actors.publicSecurity.address, 42, actors.regulator.address);
      // Suspension deletes nothing: only the status changes.
      expect(await storedMember(dataSafe, actors.publicSecurity.address)).to.deep.equal({
        ...before,
        status: MemberStatus.Suspended,
      });
      expect(await dataSafe.isActiveMember(actors.publicSecurity.address, MemberKind.Department)).to.equal(false);
    });

    it("reverts MemberStatusUnchanged for a member already suspended", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await dataSafe.connect(actors.regulator).suspendMember(actors.bank.address, 1);
      await expect(dataSafe.connect(actors.regulator).suspendMember(actors.bank.address, 2))
        .to.be.revertedWithCustomError(dataSafe, "MemberStatusUnchanged")
        .withArgs(actors.bank.address, MemberStatus.Suspended);
    });

    it("reverts MemberNotRegistered for an unknown account", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.regulator).suspendMember(actors.stranger.address, 1))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotRegistered")
        .withArgs(actors.stranger.address);
    });
  });

  describe("reinstateMember", () => {
    it("emits MemberReinstated and makes the member active again", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      const before = await storedMember(dataSafe, actors.bank.address);
      await dataSafe.connect(actors.regulator).suspendMember(actors.bank.address, 1);
      await expect(dataSafe.connect(actors.regulator).reinstateMember(actors.bank.address))
        .to.emit(dataSafe, "MemberReinstated")
        .withArgs(actors.bank.address, actors.regulator.address);
      expect(await storedMember(dataSafe, actors.bank.address)).to.deep.equal(before);
      expect(await dataSafe.isActiveMember(actors.bank.address, MemberKind.Consumer)).to.equal(true);
    });

    it("reverts MemberStatusUnchanged for an active member", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.regulator).reinstateMember(actors.bank.address))
        .to.be.revertedWithCustomError(dataSafe, "MemberStatusUnchanged")
        .withArgs(actors.bank.address, MemberStatus.Active);
    });

    it("reverts MemberNotRegistered for an unknown account", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      await expect(dataSafe.connect(actors.regulator).reinstateMember(actors.stranger.address))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotRegistered")
        .withArgs(actors.stranger.address);
    });
  });

  describe("getMember / isActiveMember", () => {
    it("returns kind None and status None for an unknown account", async () => {
      const { dataSafe, actors } = await loadFixture(deployWithParticipants);
      expect(await storedMember(dataSafe, actors.stranger.address)).to.deep.equal({
        kind: MemberKind.None,
        status: MemberStatus.None,
        registeredAt: 0,
        name: "",
        metadataURI: "",
      });
      expect(await dataSafe.isActiveMember(actors.stranger.address, MemberKind.None)).to.equal(false);
    });
  });

  describe("access control", () => {
    // Every restricted function of the directory, with valid arguments, and the role holder allowed.
    const calls = {
      registerMember: {
        allowed: "memberAdmin",
        call: (ds: any, a: any) => ds.registerMember(a.stranger.address, MemberKind.Consumer, "X", ""),
      },
      updateMember: {
        allowed: "memberAdmin",
        call: (ds: any, a: any) => ds.updateMember(a.bank.address, "X", ""),
      },
      suspendMember: { allowed: "regulator", call: (ds: any, a: any) => ds.suspendMember(a.bank.address, 1) },
      reinstateMember: { allowed: "regulator", call: (ds: any, a: any) => ds.reinstateMember(a.bank.address) },
    } as const;
    const callers = [
      "admin",
      "operator",
      "memberAdmin",
      "catalogAdmin",
      "regulator",
      "publicSecurity",
      "bank",
      "stranger",
    ];

    for (const [name, { allowed, call }] of Object.entries(calls)) {
      it(`${name} reverts AccessManagedUnauthorized(caller) for every caller but the ${allowed}`, async () => {
        const { dataSafe, actors } = await loadFixture(deployWithParticipants);
        const before = await storedMember(dataSafe, actors.bank.address);
        for (const who of callers.filter((c) => c !== allowed)) {
          const signer = (actors as any)[who];
          await expect(call(dataSafe.connect(signer), actors), who)
            .to.be.revertedWithCustomError(dataSafe, "AccessManagedUnauthorized")
            .withArgs(signer.address);
        }
        expect(await storedMember(dataSafe, actors.bank.address)).to.deep.equal(before);
        expect((await storedMember(dataSafe, actors.stranger.address)).kind).to.equal(MemberKind.None);
      });
    }
  });
});
