import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { Signature, TypedDataEncoder, type ContractTransactionResponse } from "ethers";

import type { DataSafe, ERC1271Wallet, RefusingERC1271Wallet } from "../../typechain-types/index.js";
import {
  AccessRequestStatus,
  CITIZEN,
  DataType,
  GrantScope,
  GrantStatus,
  MemberKind,
  ReturnRequestStatus,
  deployWithParticipants,
  ethers,
  grantIdOf,
  networkHelpers,
  random32,
  subjectIdFor,
  typeTarget,
} from "../helpers/fixtures.js";
import {
  type Authorization,
  CONSENT_TYPES,
  type GrantKey,
  type GrantTerms,
  type PrimaryType,
  type TypedDataSigner,
  approveMessage,
  authorize,
  deadlineIn,
  domainOf,
  grantMessage,
  epochOf,
  makeRequest,
  nonceIn,
  rejectMessage,
  returnMessage,
  revokeMessage,
  typesFor,
} from "../helpers/consent.js";
import { storedReturnRequest } from "../helpers/registry.js";

const { time } = networkHelpers;
const DAY = 86_400;
const PURPOSE = 21;
const REASON = 5;
const WALLET_SUBJECT = subjectIdFor("wallet-holder");
const REFUSING_SUBJECT = subjectIdFor("refusing-wallet-holder");

/**
 * The suite, two subjects controlled by EIP-1271 wallets (one accepting its owner's signatures,
 * one refusing all), and a second deployment B of DataSafe (own AccessManager, same catalog) on the
 * same chain, where the bank is a consumer, public security a department and CITIZEN is registered
 * to the same key.
 */
async function signatureFixture() {
  const suite = await deployWithParticipants();
  const { dataSafe, catalog, actors: a } = suite;
  const walletOwner = a.others[0];
  const wallet = (await ethers.deployContract("ERC1271Wallet", [walletOwner.address])) as unknown as ERC1271Wallet;
  const refusing = (await ethers.deployContract("RefusingERC1271Wallet", [
    walletOwner.address,
  ])) as unknown as RefusingERC1271Wallet;
  await dataSafe.connect(a.identityAuthority).registerSubject(WALLET_SUBJECT, await wallet.getAddress());
  await dataSafe.connect(a.identityAuthority).registerSubject(REFUSING_SUBJECT, await refusing.getAddress());

  const managerB = await ethers.deployContract("DataSafeAccessManager", [a.admin.address]);
  const dataSafeB = (await ethers.deployContract("DataSafe", [
    await managerB.getAddress(),
    await catalog.getAddress(),
    3 * DAY,
  ])) as unknown as DataSafe;
  // restricted functions not mapped to a role belong to the manager's admin (the deployer here)
  await dataSafeB.connect(a.admin).registerMember(a.identityAuthority.address, MemberKind.IdentityAuthority, "IA", "");
  await dataSafeB.connect(a.admin).registerMember(a.bank.address, MemberKind.Consumer, "Bank", "");
  await dataSafeB.connect(a.admin).registerMember(a.school.address, MemberKind.Consumer, "School", "");
  await dataSafeB
    .connect(a.admin)
    .registerMember(a.publicSecurity.address, MemberKind.Department, "Public Security", "");
  await dataSafeB
    .connect(a.admin)
    .registerMember(a.housingFundCentre.address, MemberKind.Department, "Housing Fund", "");
  await dataSafeB.connect(a.identityAuthority).registerSubject(CITIZEN, a.citizen.address);
  return { ...suite, wallet, refusing, walletOwner, dataSafeB };
}

type Ctx = Awaited<ReturnType<typeof signatureFixture>>;

/** An act prepared on a deployment: the message to sign, how to submit it, and what success looks like. */
interface Prepared {
  message: Record<string, unknown>;
  submit(authorization: Authorization, relayer: HardhatEthersSigner): Promise<ContractTransactionResponse>;
  /** The same authorization used with other content than was signed. */
  submitTampered(authorization: Authorization, relayer: HardhatEthersSigner): Promise<ContractTransactionResponse>;
  expectDone(tx: Promise<ContractTransactionResponse>, relayer: HardhatEthersSigner): Promise<void>;
}

interface Op {
  name: string;
  primaryType: PrimaryType;
  /**
   * Sets up the act on `dataSafe` for `subjectId`. `asController` sends calldata to `dataSafe` as the
   * subject's controller (for a revocation, the grant to revoke). `horizon` fixes expiries so the
   * same act prepared on two deployments has the same message.
   */
  prepare(
    ctx: Ctx,
    dataSafe: DataSafe,
    subjectId: string,
    asController: (data: string) => Promise<unknown>,
    horizon: bigint,
  ): Promise<Prepared>;
}

async function requestOn(ctx: Ctx, dataSafe: DataSafe, subjectId: string, horizon: bigint) {
  return makeRequest(dataSafe, ctx.actors.bank, {
    subjectId,
    scope: GrantScope.DataType,
    targets: [typeTarget(DataType.HouseholdRegister), typeTarget(DataType.IdCard)],
    purpose: PURPOSE,
    grantDuration: 10 * DAY,
    maxReads: 2,
    expiresAt: horizon,
  });
}

/** The id the registry gives its `count`-th return request: keccak256(abi.encode(subject, type, department, count)). */
const returnRequestIdOf = (subjectId: string, dataType: number, department: string, count: bigint | number): string =>
  ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "uint32", "address", "uint64"],
      [subjectId, dataType, department, count],
    ),
  );

/**
 * Checks that `tx` opened the return request its signature asked for: the id is that of the
 * deployment's n-th request (n = the ReturnRequested events so far), emitted and stored as Open.
 */
async function expectReturnRequested(
  dataSafe: DataSafe,
  tx: Promise<ContractTransactionResponse>,
  subjectId: string,
  dataType: number,
  department: string,
): Promise<string> {
  const receipt = (await (await tx).wait())!;
  const count = (await dataSafe.queryFilter(dataSafe.filters.ReturnRequested(), 0, receipt.blockNumber)).length;
  const requestId = returnRequestIdOf(subjectId, dataType, department, count);
  await expect(tx).to.emit(dataSafe, "ReturnRequested").withArgs(requestId, subjectId, department, dataType);
  expect(await storedReturnRequest(dataSafe, requestId)).to.deep.equal({
    subjectId,
    department,
    dataType,
    status: ReturnRequestStatus.Open,
    requestedAt: (await receipt.getBlock()).timestamp,
  });
  return requestId;
}

const OPS: Op[] = [
  {
    name: "approveRequestBySig",
    primaryType: "ApproveAccessRequest",
    async prepare(ctx, dataSafe, subjectId, _asController, horizon) {
      const { request, requestId } = await requestOn(ctx, dataSafe, subjectId, horizon);
      const other = await requestOn(ctx, dataSafe, subjectId, horizon);
      return {
        message: approveMessage(request),
        submit: (auth, relayer) => dataSafe.connect(relayer).approveRequestBySig(request, auth),
        submitTampered: (auth, relayer) => dataSafe.connect(relayer).approveRequestBySig(other.request, auth),
        async expectDone(tx, relayer) {
          await expect(tx).to.emit(dataSafe, "AccessRequestApproved").withArgs(requestId, subjectId, relayer.address);
          for (const target of request.targets) {
            const grantId = grantIdOf({
              subjectId,
              consumer: ctx.actors.bank.address,
              scope: GrantScope.DataType,
              target,
              purpose: PURPOSE,
            });
            await expect(tx)
              .to.emit(dataSafe, "GrantIssued")
              .withArgs(
                grantId,
                subjectId,
                ctx.actors.bank.address,
                GrantScope.DataType,
                target,
                0,
                PURPOSE,
                anyExpiry,
                2,
                1,
                requestId,
              );
            expect((await dataSafe.getGrant(grantId)).status).to.equal(GrantStatus.Active);
          }
          expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Approved);
          expect(await dataSafe.getRequestStatus(other.requestId)).to.equal(AccessRequestStatus.Open);
        },
      };
    },
  },
  {
    name: "rejectRequestBySig",
    primaryType: "RejectAccessRequest",
    async prepare(ctx, dataSafe, subjectId, _asController, horizon) {
      const { request, requestId } = await requestOn(ctx, dataSafe, subjectId, horizon);
      return {
        message: rejectMessage(request, REASON),
        submit: (auth, relayer) => dataSafe.connect(relayer).rejectRequestBySig(request, REASON, auth),
        // the reason is signed: another reason is another message
        submitTampered: (auth, relayer) => dataSafe.connect(relayer).rejectRequestBySig(request, REASON + 1, auth),
        async expectDone(tx, relayer) {
          await expect(tx)
            .to.emit(dataSafe, "AccessRequestRejected")
            .withArgs(requestId, subjectId, REASON, relayer.address);
          expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Rejected);
        },
      };
    },
  },
  {
    name: "grantBySig",
    primaryType: "Grant",
    async prepare(ctx, dataSafe, subjectId, _asController, horizon) {
      const terms: GrantTerms = {
        subjectId,
        consumers: [ctx.actors.bank.address, ctx.actors.school.address],
        scope: GrantScope.DataType,
        targets: [typeTarget(DataType.HouseholdRegister), typeTarget(DataType.HousingFund)],
        fields: 0,
        purpose: PURPOSE,
        expiresAt: horizon,
        maxReads: 2,
      };
      return {
        message: grantMessage(terms),
        submit: (auth, relayer) => dataSafe.connect(relayer).grantBySig(terms, auth),
        submitTampered: (auth, relayer) => dataSafe.connect(relayer).grantBySig({ ...terms, maxReads: 1000 }, auth),
        async expectDone(tx) {
          for (const consumer of terms.consumers) {
            for (const target of terms.targets) {
              const grantId = grantIdOf({ subjectId, consumer, scope: GrantScope.DataType, target, purpose: PURPOSE });
              await expect(tx)
                .to.emit(dataSafe, "GrantIssued")
                .withArgs(
                  grantId,
                  subjectId,
                  consumer,
                  GrantScope.DataType,
                  target,
                  0,
                  PURPOSE,
                  horizon,
                  2,
                  1,
                  ethers.ZeroHash,
                );
              const stored = await dataSafe.getGrant(grantId);
              expect([stored.status, stored.expiresAt, stored.maxReads, stored.version]).to.deep.equal([
                BigInt(GrantStatus.Active),
                horizon,
                2n,
                1n,
              ]);
            }
          }
        },
      };
    },
  },
  {
    name: "revokeBySig",
    primaryType: "Revoke",
    async prepare(ctx, dataSafe, subjectId, asController, horizon) {
      const key: GrantKey = {
        subjectId,
        consumer: ctx.actors.bank.address,
        scope: GrantScope.DataType,
        target: typeTarget(DataType.IdCard),
        purpose: PURPOSE,
      };
      const grantTerms = (consumer: string): GrantTerms => ({
        subjectId,
        consumers: [consumer],
        scope: key.scope,
        targets: [key.target],
        fields: 0,
        purpose: PURPOSE,
        expiresAt: horizon,
        maxReads: 1,
      });
      await asController(dataSafe.interface.encodeFunctionData("grant", [grantTerms(ctx.actors.bank.address)]));
      await asController(dataSafe.interface.encodeFunctionData("grant", [grantTerms(ctx.actors.school.address)]));
      const grantId = grantIdOf(key);
      const schoolKey = { ...key, consumer: ctx.actors.school.address };
      return {
        message: revokeMessage(key, 1),
        submit: (auth, relayer) => dataSafe.connect(relayer).revokeBySig(key, 1, auth),
        // the version is signed: revoking "whichever is current" (0) is another message
        submitTampered: (auth, relayer) => dataSafe.connect(relayer).revokeBySig(schoolKey, 0, auth),
        async expectDone(tx, relayer) {
          await expect(tx)
            .to.emit(dataSafe, "GrantRevoked")
            .withArgs(grantId, subjectId, ctx.actors.bank.address, 1, relayer.address);
          expect((await dataSafe.getGrant(grantId)).status).to.equal(GrantStatus.Revoked);
          expect((await dataSafe.getGrant(grantIdOf(schoolKey))).status).to.equal(GrantStatus.Active);
        },
      };
    },
  },
  {
    name: "requestReturnBySig",
    primaryType: "RequestReturn",
    async prepare(ctx, dataSafe, subjectId) {
      const department = ctx.actors.publicSecurity.address;
      const dataType = DataType.HouseholdRegister;
      return {
        message: returnMessage(subjectId, dataType, department),
        submit: (auth, relayer) => dataSafe.connect(relayer).requestReturnBySig(subjectId, dataType, department, auth),
        // the type is signed: another type the same department issues is another message
        submitTampered: (auth, relayer) =>
          dataSafe.connect(relayer).requestReturnBySig(subjectId, DataType.IdCard, department, auth),
        async expectDone(tx) {
          await expectReturnRequested(dataSafe, tx, subjectId, dataType, department);
        },
      };
    },
  },
];

/** Any grant expiry (it is the approval block's time plus the duration). */
const anyExpiry = (value: bigint) => value > 0n;

const horizonOf = async () => BigInt((await time.latest()) + 20 * DAY);

/** Sends calldata to the DataSafe as the citizen (an EOA controller). */
const asCitizen = (ctx: Ctx, dataSafe: DataSafe) => async (data: string) =>
  (await ctx.actors.citizen.sendTransaction({ to: await dataSafe.getAddress(), data })).wait();

/** Sends calldata to the DataSafe through a wallet controller, as the wallet's owner. */
const asWallet =
  (ctx: Ctx, dataSafe: DataSafe, wallet: ERC1271Wallet | RefusingERC1271Wallet) => async (data: string) =>
    (await wallet.connect(ctx.walletOwner).execute(await dataSafe.getAddress(), data)).wait();

describe("consent: EIP-712 signatures", () => {
  describe("domain", () => {
    it("domainSeparator() and eip712Domain() match ethers' TypedDataEncoder", async () => {
      const { dataSafe, dataSafeB } = await networkHelpers.loadFixture(signatureFixture);
      const { chainId } = await ethers.provider.getNetwork();
      for (const ds of [dataSafe, dataSafeB]) {
        const domain = await domainOf(ds);
        expect(await ds.domainSeparator()).to.equal(TypedDataEncoder.hashDomain(domain));
        const d = await ds.eip712Domain();
        expect(d.fields).to.equal("0x0f"); // name, version, chainId, verifyingContract
        expect(d.name).to.equal("DataSafe");
        expect(d.version).to.equal("1");
        expect(d.chainId).to.equal(chainId);
        expect(d.verifyingContract).to.equal(await ds.getAddress());
        expect(d.salt).to.equal(ethers.ZeroHash);
        expect([...d.extensions]).to.deep.equal([]);
      }
      expect(await dataSafe.domainSeparator()).to.not.equal(await dataSafeB.domainSeparator());
    });

    it("the *_TYPEHASH constants are the hashes of the types the tests sign", async () => {
      const { dataSafe } = await networkHelpers.loadFixture(signatureFixture);
      const typeHash = (primaryType: PrimaryType) =>
        ethers.id(TypedDataEncoder.from(typesFor(primaryType)).encodeType(primaryType));
      expect(await dataSafe.APPROVE_REQUEST_TYPEHASH()).to.equal(typeHash("ApproveAccessRequest"));
      expect(await dataSafe.REJECT_REQUEST_TYPEHASH()).to.equal(typeHash("RejectAccessRequest"));
      expect(await dataSafe.GRANT_TYPEHASH()).to.equal(typeHash("Grant"));
      expect(await dataSafe.REVOKE_TYPEHASH()).to.equal(typeHash("Revoke"));
      expect(await dataSafe.REQUEST_RETURN_TYPEHASH()).to.equal(typeHash("RequestReturn"));
      expect(Object.keys(CONSENT_TYPES)).to.have.length(5);
    });
  });

  for (const op of OPS) {
    describe(op.name, () => {
      async function onCitizen() {
        const ctx = await networkHelpers.loadFixture(signatureFixture);
        const prepared = await op.prepare(ctx, ctx.dataSafe, CITIZEN, asCitizen(ctx, ctx.dataSafe), await horizonOf());
        const sign = (signer: TypedDataSigner, options = {}) =>
          authorize(ctx.dataSafe, signer, CITIZEN, op.primaryType, prepared.message, options);
        return { ...ctx, prepared, sign };
      }

      it("is done when relayed by a third party, and spends its nonce (the epoch stays)", async () => {
        const { dataSafe, actors: a, prepared, sign } = await onCitizen();
        const auth = await sign(a.citizen);
        expect(await dataSafe.isNonceUsed(CITIZEN, auth.nonce)).to.equal(false);
        const digest = TypedDataEncoder.hash(await domainOf(dataSafe), typesFor(op.primaryType), {
          ...prepared.message,
          nonce: auth.nonce,
          deadline: auth.deadline,
        });
        expect(ethers.recoverAddress(digest, auth.signature)).to.equal(a.citizen.address);
        await prepared.expectDone(prepared.submit(auth, a.stranger), a.stranger);
        expect(await dataSafe.isNonceUsed(CITIZEN, auth.nonce)).to.equal(true);
        expect(await epochOf(dataSafe, CITIZEN)).to.equal(0n);
      });

      it("refuses a signature by another key (InvalidSignature)", async () => {
        const { dataSafe, actors: a, prepared, sign } = await onCitizen();
        for (const signer of [a.stranger, a.company, a.bank]) {
          const auth = await sign(signer);
          await expect(prepared.submit(auth, a.stranger))
            .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
            .withArgs(CITIZEN, a.citizen.address);
          expect(await dataSafe.isNonceUsed(CITIZEN, auth.nonce)).to.equal(false);
        }
      });

      it("refuses the signature used with other content than was signed (InvalidSignature)", async () => {
        const { dataSafe, actors: a, prepared, sign } = await onCitizen();
        await expect(prepared.submitTampered(await sign(a.citizen), a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
          .withArgs(CITIZEN, a.citizen.address);
      });

      it("refuses a replay (NonceUsed), and a nonce of another epoch (NonceEpochMismatch)", async () => {
        const { dataSafe, actors: a, prepared, sign } = await onCitizen();
        const auth = await sign(a.citizen);
        const ahead = nonceIn(1, auth.nonce);
        await expect(prepared.submit(await sign(a.citizen, { nonce: ahead }), a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "NonceEpochMismatch")
          .withArgs(CITIZEN, ahead, 0);
        await prepared.submit(auth, a.stranger);
        await expect(prepared.submit(auth, a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "NonceUsed")
          .withArgs(CITIZEN, auth.nonce);
        await expect(prepared.submit(auth, a.citizen))
          .to.be.revertedWithCustomError(dataSafe, "NonceUsed")
          .withArgs(CITIZEN, auth.nonce);
      });

      it("refuses the malleated (high-s) twin of a valid signature (InvalidSignature)", async () => {
        const { dataSafe, actors: a, prepared, sign } = await onCitizen();
        const auth = await sign(a.citizen);
        const sig = Signature.from(auth.signature);
        const n = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
        const highS = ethers.toBeHex(n - BigInt(sig.s), 32);
        const twin = ethers.concat([sig.r, highS, ethers.toBeHex(sig.v === 27 ? 28 : 27, 1)]);
        await expect(prepared.submit({ ...auth, signature: twin }, a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
          .withArgs(CITIZEN, a.citizen.address);
        await prepared.expectDone(prepared.submit(auth, a.stranger), a.stranger);
      });

      it("accepts up to the deadline second and refuses after it (SignatureExpired)", async () => {
        const { dataSafe, actors: a, prepared, sign } = await onCitizen();
        const deadline = await deadlineIn(100);
        const auth = await sign(a.citizen, { deadline });
        const snapshot = await networkHelpers.takeSnapshot();
        await time.setNextBlockTimestamp(deadline);
        await prepared.expectDone(prepared.submit(auth, a.stranger), a.stranger);
        await snapshot.restore();
        await time.setNextBlockTimestamp(deadline + 1n);
        await expect(prepared.submit(auth, a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "SignatureExpired")
          .withArgs(deadline);
        const past = await deadlineIn(-1);
        await expect(prepared.submit(await sign(a.citizen, { deadline: past }), a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "SignatureExpired")
          .withArgs(past);
      });

      it("refuses a signature made for another chain id (InvalidSignature)", async () => {
        const { dataSafe, actors: a, prepared, sign } = await onCitizen();
        for (const chainId of [1n, 1337n]) {
          await expect(prepared.submit(await sign(a.citizen, { chainId }), a.stranger))
            .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
            .withArgs(CITIZEN, a.citizen.address);
        }
        // and one for another name or version of the domain
        for (const override of [{ name: "DataSafe2" }, { version: "2" }]) {
          await expect(prepared.submit(await sign(a.citizen, override), a.stranger))
            .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
            .withArgs(CITIZEN, a.citizen.address);
        }
      });

      it("refuses on deployment B a signature made for deployment A of the same contract (InvalidSignature)", async () => {
        const ctx = await networkHelpers.loadFixture(signatureFixture);
        const { dataSafe, dataSafeB, actors: a } = ctx;
        const horizon = await horizonOf();
        const onA = await op.prepare(ctx, dataSafe, CITIZEN, asCitizen(ctx, dataSafe), horizon);
        const onB = await op.prepare(ctx, dataSafeB, CITIZEN, asCitizen(ctx, dataSafeB), horizon);
        // the same act, same nonce, same key: only the domain tells the deployments apart
        expect(onB.message).to.deep.equal(onA.message);
        const nonce = 5n;
        expect(await dataSafe.isNonceUsed(CITIZEN, nonce)).to.equal(false);
        expect(await dataSafeB.isNonceUsed(CITIZEN, nonce)).to.equal(false);
        const forA = await authorize(dataSafe, a.citizen, CITIZEN, op.primaryType, onA.message, { nonce });
        await expect(onB.submit(forA, a.stranger))
          .to.be.revertedWithCustomError(dataSafeB, "InvalidSignature")
          .withArgs(CITIZEN, a.citizen.address);
        await onA.expectDone(onA.submit(forA, a.stranger), a.stranger);
        const forB = await authorize(dataSafeB, a.citizen, CITIZEN, op.primaryType, onB.message, { nonce });
        await onB.expectDone(onB.submit(forB, a.stranger), a.stranger);
      });

      it("refuses a signature of a rotated-away key, made before or after the rotation (InvalidSignature)", async () => {
        const { dataSafe, actors: a, prepared: p, sign } = await onCitizen();
        const newKey = a.others[1];
        const before = await sign(a.citizen);
        await dataSafe.connect(a.citizen).transferControl(CITIZEN, newKey.address);
        // the hand-over invalidates what the old key signed before it...
        expect(await epochOf(dataSafe, CITIZEN)).to.equal(1n);
        await expect(p.submit(before, a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "NonceEpochMismatch")
          .withArgs(CITIZEN, before.nonce, 1);
        // ...and what it signs afterwards, in the new epoch, is not the controller's
        await expect(p.submit(await sign(a.citizen), a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
          .withArgs(CITIZEN, newKey.address);
        await p.expectDone(p.submit(await sign(newKey), a.stranger), a.stranger);
      });

      it("refuses outstanding signatures cancelled by invalidateNonce (NonceEpochMismatch)", async () => {
        const { dataSafe, actors: a, prepared: p, sign } = await onCitizen();
        const outstanding = await sign(a.citizen);
        await expect(dataSafe.connect(a.stranger).invalidateNonce(CITIZEN))
          .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
          .withArgs(CITIZEN, a.stranger.address);
        await expect(dataSafe.connect(a.citizen).invalidateNonce(CITIZEN))
          .to.emit(dataSafe, "NonceInvalidated")
          .withArgs(CITIZEN, 1);
        await expect(p.submit(outstanding, a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "NonceEpochMismatch")
          .withArgs(CITIZEN, outstanding.nonce, 1);
        await p.expectDone(p.submit(await sign(a.citizen), a.stranger), a.stranger);
      });

      it("EIP-1271: accepts the owner's signature for a wallet-controlled subject", async () => {
        const ctx = await networkHelpers.loadFixture(signatureFixture);
        const { dataSafe, wallet, walletOwner, actors: a } = ctx;
        const p = await op.prepare(ctx, dataSafe, WALLET_SUBJECT, asWallet(ctx, dataSafe, wallet), await horizonOf());
        // the wallet owner's bare ECDSA signature is not the controller's: only the wallet's answer counts
        const auth = await authorize(dataSafe, walletOwner, WALLET_SUBJECT, op.primaryType, p.message);
        const byStranger = await authorize(dataSafe, a.stranger, WALLET_SUBJECT, op.primaryType, p.message);
        await expect(p.submit(byStranger, a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
          .withArgs(WALLET_SUBJECT, await wallet.getAddress());
        await p.expectDone(p.submit(auth, a.stranger), a.stranger);
        expect(await dataSafe.isNonceUsed(WALLET_SUBJECT, auth.nonce)).to.equal(true);
      });

      it("EIP-1271: a wallet that refuses gives InvalidSignature, even for its owner's signature", async () => {
        const ctx = await networkHelpers.loadFixture(signatureFixture);
        const { dataSafe, refusing, walletOwner, actors: a } = ctx;
        const p = await op.prepare(
          ctx,
          dataSafe,
          REFUSING_SUBJECT,
          asWallet(ctx, dataSafe, refusing),
          await horizonOf(),
        );
        const auth = await authorize(dataSafe, walletOwner, REFUSING_SUBJECT, op.primaryType, p.message);
        await expect(p.submit(auth, a.stranger))
          .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
          .withArgs(REFUSING_SUBJECT, await refusing.getAddress());
        expect(await dataSafe.isNonceUsed(REFUSING_SUBJECT, auth.nonce)).to.equal(false);
      });
    });
  }

  it("refuses every signed act for an unregistered subject (SubjectNotRegistered)", async () => {
    const { dataSafe, actors: a } = await networkHelpers.loadFixture(signatureFixture);
    const ghost = subjectIdFor("ghost");
    const horizon = await horizonOf();
    const request = {
      subjectId: ghost,
      consumer: a.bank.address,
      scope: GrantScope.DataType,
      targets: [typeTarget(DataType.IdCard)],
      fields: 0,
      purpose: PURPOSE,
      grantDuration: DAY,
      maxReads: 1,
      expiresAt: horizon,
      nonce: 1,
    };
    const terms: GrantTerms = {
      subjectId: ghost,
      consumers: [a.bank.address],
      scope: GrantScope.DataType,
      targets: [typeTarget(DataType.IdCard)],
      fields: 0,
      purpose: PURPOSE,
      expiresAt: horizon,
      maxReads: 1,
    };
    const key: GrantKey = {
      subjectId: ghost,
      consumer: a.bank.address,
      scope: GrantScope.DataType,
      target: typeTarget(DataType.IdCard),
      purpose: PURPOSE,
    };
    const auth = { nonce: 0n, deadline: await deadlineIn(3600), signature: "0x" + "11".repeat(65) };
    const calls = [
      dataSafe.connect(a.stranger).approveRequestBySig(request, auth),
      dataSafe.connect(a.stranger).rejectRequestBySig(request, REASON, auth),
      dataSafe.connect(a.stranger).grantBySig(terms, auth),
      dataSafe.connect(a.stranger).revokeBySig(key, 1, auth),
      dataSafe
        .connect(a.stranger)
        .requestReturnBySig(ghost, DataType.HouseholdRegister, a.publicSecurity.address, auth),
    ];
    for (const call of calls) {
      await expect(call).to.be.revertedWithCustomError(dataSafe, "SubjectNotRegistered").withArgs(ghost);
    }
  });

  it("a signature for one subject cannot act for another subject the same key controls (InvalidSignature)", async () => {
    const { dataSafe, actors: a } = await networkHelpers.loadFixture(signatureFixture);
    const second = subjectIdFor("citizen-1-company");
    await dataSafe.connect(a.identityAuthority).registerSubject(second, a.citizen.address);
    const horizon = await horizonOf();
    const terms: GrantTerms = {
      subjectId: CITIZEN,
      consumers: [a.bank.address],
      scope: GrantScope.DataType,
      targets: [typeTarget(DataType.IdCard)],
      fields: 0,
      purpose: PURPOSE,
      expiresAt: horizon,
      maxReads: 1,
    };
    // the same nonce is unused for both: only the subject id in the signed message tells them apart
    const nonce = 3n;
    expect(await dataSafe.isNonceUsed(second, nonce)).to.equal(false);
    const forCitizen = await authorize(dataSafe, a.citizen, CITIZEN, "Grant", grantMessage(terms), { nonce });
    await expect(dataSafe.connect(a.stranger).grantBySig({ ...terms, subjectId: second }, forCitizen))
      .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
      .withArgs(second, a.citizen.address);
    await dataSafe.connect(a.citizen).grant({ ...terms, subjectId: second });
    const key: GrantKey = {
      subjectId: CITIZEN,
      consumer: a.bank.address,
      scope: GrantScope.DataType,
      target: typeTarget(DataType.IdCard),
      purpose: PURPOSE,
    };
    const revokeForCitizen = await authorize(dataSafe, a.citizen, CITIZEN, "Revoke", revokeMessage(key, 1), {
      nonce,
    });
    await expect(dataSafe.connect(a.stranger).revokeBySig({ ...key, subjectId: second }, 1, revokeForCitizen))
      .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
      .withArgs(second, a.citizen.address);
    expect((await dataSafe.getGrant(grantIdOf({ ...key, subjectId: second }))).status).to.equal(GrantStatus.Active);
    const department = a.publicSecurity.address;
    const returnForCitizen = await authorize(
      dataSafe,
      a.citizen,
      CITIZEN,
      "RequestReturn",
      returnMessage(CITIZEN, DataType.IdCard, department),
      { nonce },
    );
    await expect(dataSafe.connect(a.stranger).requestReturnBySig(second, DataType.IdCard, department, returnForCitizen))
      .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
      .withArgs(second, a.citizen.address);
  });

  describe("requestReturnBySig opens the request exactly like requestReturn", () => {
    const dataType = DataType.HouseholdRegister;

    it("returns the id it emits; the department answers it like a request made by transaction", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(signatureFixture);
      const department = a.publicSecurity.address;
      const auth = await authorize(
        dataSafe,
        a.citizen,
        CITIZEN,
        "RequestReturn",
        returnMessage(CITIZEN, dataType, department),
      );
      const returned = await dataSafe
        .connect(a.stranger)
        .requestReturnBySig.staticCall(CITIZEN, dataType, department, auth);
      const tx = dataSafe.connect(a.stranger).requestReturnBySig(CITIZEN, dataType, department, auth);
      expect(await expectReturnRequested(dataSafe, tx, CITIZEN, dataType, department)).to.equal(returned);
      // the counter is shared with requests by transaction: the same request again gets another id
      const byTx = await dataSafe.connect(a.citizen).requestReturn.staticCall(CITIZEN, dataType, department);
      expect(byTx).to.equal(returnRequestIdOf(CITIZEN, dataType, department, 2));
      const asset = {
        subjectId: CITIZEN,
        dataType,
        contentCommitment: random32(),
        payloadPointer: random32(),
        validUntil: 0,
      };
      await expect(dataSafe.connect(a.publicSecurity).fulfilReturnRequest(returned, asset)).to.emit(
        dataSafe,
        "ReturnRequestFulfilled",
      );
      expect((await storedReturnRequest(dataSafe, returned)).status).to.equal(ReturnRequestStatus.Fulfilled);
    });

    it("refuses a department not authorised for the type (IssuerNotAuthorised), consuming no nonce", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(signatureFixture);
      for (const [type, department] of [
        [DataType.HousingFund, a.publicSecurity.address],
        [99, a.publicSecurity.address],
      ] as const) {
        const auth = await authorize(
          dataSafe,
          a.citizen,
          CITIZEN,
          "RequestReturn",
          returnMessage(CITIZEN, type, department),
        );
        await expect(dataSafe.connect(a.stranger).requestReturnBySig(CITIZEN, type, department, auth))
          .to.be.revertedWithCustomError(dataSafe, "IssuerNotAuthorised")
          .withArgs(type, department);
        expect(await dataSafe.isNonceUsed(CITIZEN, auth.nonce)).to.equal(false);
      }
    });

    it("refuses a non-department or a suspended department (MemberNotPermitted), consuming no nonce", async () => {
      const { dataSafe, actors: a } = await networkHelpers.loadFixture(signatureFixture);
      const sign = (department: string) =>
        authorize(dataSafe, a.citizen, CITIZEN, "RequestReturn", returnMessage(CITIZEN, dataType, department));
      await expect(
        dataSafe.connect(a.stranger).requestReturnBySig(CITIZEN, dataType, a.bank.address, await sign(a.bank.address)),
      )
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(a.bank.address, MemberKind.Department);
      const department = a.publicSecurity.address;
      const auth = await sign(department);
      await dataSafe.connect(a.regulator).suspendMember(department, 1);
      await expect(dataSafe.connect(a.stranger).requestReturnBySig(CITIZEN, dataType, department, auth))
        .to.be.revertedWithCustomError(dataSafe, "MemberNotPermitted")
        .withArgs(department, MemberKind.Department);
      expect(await dataSafe.isNonceUsed(CITIZEN, auth.nonce)).to.equal(false);
      // the signature was not spent: it opens the request once the department is reinstated
      await dataSafe.connect(a.regulator).reinstateMember(department);
      await expectReturnRequested(
        dataSafe,
        dataSafe.connect(a.stranger).requestReturnBySig(CITIZEN, dataType, department, auth),
        CITIZEN,
        dataType,
        department,
      );
      expect(await dataSafe.isNonceUsed(CITIZEN, auth.nonce)).to.equal(true);
    });
  });

  describe("EIP-1271 wallet as controller", () => {
    it("acts by transaction through the wallet, and cancels outstanding signatures with invalidateNonce", async () => {
      const ctx = await networkHelpers.loadFixture(signatureFixture);
      const { dataSafe, wallet, walletOwner, actors: a } = ctx;
      const walletAddress = await wallet.getAddress();
      const p = await OPS[2].prepare(ctx, dataSafe, WALLET_SUBJECT, asWallet(ctx, dataSafe, wallet), await horizonOf());
      const outstanding = await authorize(dataSafe, walletOwner, WALLET_SUBJECT, "Grant", p.message);
      // the owner's key itself is not the controller
      await expect(dataSafe.connect(walletOwner).invalidateNonce(WALLET_SUBJECT))
        .to.be.revertedWithCustomError(dataSafe, "NotSubjectController")
        .withArgs(WALLET_SUBJECT, walletOwner.address);
      await expect(wallet.connect(a.stranger).execute(await dataSafe.getAddress(), "0x"))
        .to.be.revertedWithCustomError(wallet, "NotWalletOwner")
        .withArgs(a.stranger.address);
      await asWallet(ctx, dataSafe, wallet)(dataSafe.interface.encodeFunctionData("invalidateNonce", [WALLET_SUBJECT]));
      expect(await epochOf(dataSafe, WALLET_SUBJECT)).to.equal(1n);
      await expect(p.submit(outstanding, a.stranger))
        .to.be.revertedWithCustomError(dataSafe, "NonceEpochMismatch")
        .withArgs(WALLET_SUBJECT, outstanding.nonce, 1);
      expect(await dataSafe.controllerOf(WALLET_SUBJECT)).to.equal(walletAddress);
    });
  });
});
