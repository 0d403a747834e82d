/**
 * The contract's EIP-712 hashing checked against signers that share no code with it nor with
 * ethers: viem's local account and MetaMask's eth-sig-util (signTypedData V4), with the private
 * keys of Hardhat's default accounts and of fresh random wallets registered as controllers.
 */
import {
  type MessageTypes,
  SignTypedDataVersion,
  type TypedMessage,
  recoverTypedSignature,
  signTypedData,
} from "@metamask/eth-sig-util";
import { expect } from "chai";
import { Wallet, type TypedDataDomain } from "ethers";
import { privateKeyToAccount } from "viem/accounts";

import type { DataSafe } from "../../typechain-types/index.js";
import {
  AccessRequestStatus,
  CITIZEN,
  DataType,
  GrantScope,
  GrantStatus,
  deployWithParticipants,
  ethers,
  grantIdOf,
  networkHelpers,
  subjectIdFor,
  typeTarget,
} from "../helpers/fixtures.js";
import {
  type Authorization,
  CITIZEN_ACCOUNT_INDEX,
  CONSENT_TYPES,
  EIP712_DOMAIN_TYPE,
  type GrantKey,
  type GrantTerms,
  type PrimaryType,
  approveMessage,
  deadlineIn,
  defaultAccountKey,
  domainOf,
  grantMessage,
  issue,
  freshNonce,
  makeRequest,
  requestIdOf,
  rejectMessage,
  revokeMessage,
  typesFor,
} from "../helpers/consent.js";

const { time } = networkHelpers;
const DAY = 86_400;
const PURPOSE = 4;

/** JSON-safe copy of a message: bigints as decimal strings (what a wallet's RPC receives). */
const jsonSafe = (value: unknown): unknown =>
  typeof value === "bigint"
    ? value.toString()
    : Array.isArray(value)
      ? value.map(jsonSafe)
      : value !== null && typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]))
        : value;

type SignFn = (
  privateKey: string,
  domain: TypedDataDomain,
  primaryType: PrimaryType,
  message: Record<string, unknown>,
) => Promise<string>;

const SIGNERS: { name: string; sign: SignFn }[] = [
  {
    name: "viem privateKeyToAccount().signTypedData",
    sign: (privateKey, domain, primaryType, message) =>
      privateKeyToAccount(privateKey as `0x${string}`).signTypedData({
        domain: {
          name: domain.name!,
          version: domain.version!,
          chainId: BigInt(domain.chainId!),
          verifyingContract: domain.verifyingContract as `0x${string}`,
        },
        types: { [primaryType]: [...CONSENT_TYPES[primaryType]] },
        primaryType,
        message,
      } as Parameters<ReturnType<typeof privateKeyToAccount>["signTypedData"]>[0]),
  },
  {
    name: "@metamask/eth-sig-util signTypedData V4",
    sign: async (privateKey, domain, primaryType, message) => {
      const data = {
        types: { EIP712Domain: EIP712_DOMAIN_TYPE, [primaryType]: [...CONSENT_TYPES[primaryType]] },
        primaryType,
        domain: jsonSafe(domain),
        message: jsonSafe(message),
      } as TypedMessage<MessageTypes>;
      const signature = signTypedData({
        privateKey: Buffer.from(privateKey.slice(2), "hex"),
        data,
        version: SignTypedDataVersion.V4,
      });
      // the library's own recovery agrees with the key it signed with
      expect(recoverTypedSignature({ data, signature, version: SignTypedDataVersion.V4 }).toLowerCase()).to.equal(
        new Wallet(privateKey).address.toLowerCase(),
      );
      return signature;
    },
  },
];

const RANDOM_SUBJECT = subjectIdFor("random-wallet-holder");

/** The suite plus a subject controlled by a fresh random key (not a node account). */
async function independentFixture() {
  const suite = await deployWithParticipants();
  const randomKey = Wallet.createRandom();
  await suite.dataSafe.connect(suite.actors.identityAuthority).registerSubject(RANDOM_SUBJECT, randomKey.address);
  return { ...suite, randomKey };
}

type Ctx = Awaited<ReturnType<typeof independentFixture>>;

async function authorizeWith(
  sign: SignFn,
  privateKey: string,
  dataSafe: DataSafe,
  subjectId: string,
  primaryType: PrimaryType,
  message: Record<string, unknown>,
): Promise<Authorization> {
  const nonce = await freshNonce(dataSafe, subjectId);
  const deadline = await deadlineIn(3600);
  const full = { ...message, nonce, deadline };
  const domain = await domainOf(dataSafe);
  const signature = await sign(privateKey, domain, primaryType, full);
  // byte-for-byte the signature ethers makes (ECDSA with RFC 6979 nonces is deterministic)
  expect(signature).to.equal(await new Wallet(privateKey).signTypedData(domain, typesFor(primaryType), full));
  return { nonce, deadline, signature };
}

describe("consent: independent EIP-712 signers", () => {
  it("the citizen is Hardhat default account 10 of the test mnemonic", async () => {
    const { actors: a } = await networkHelpers.loadFixture(independentFixture);
    expect(new Wallet(defaultAccountKey(CITIZEN_ACCOUNT_INDEX)).address).to.equal(a.citizen.address);
    expect(new Wallet(defaultAccountKey(0)).address).to.equal(a.admin.address);
  });

  for (const { name, sign } of SIGNERS) {
    describe(name, () => {
      const holders = [
        {
          label: "default account key",
          subjectId: CITIZEN,
          key: (_ctx: Ctx) => defaultAccountKey(CITIZEN_ACCOUNT_INDEX),
        },
        {
          label: "fresh random key",
          subjectId: RANDOM_SUBJECT,
          key: (ctx: Ctx) => ctx.randomKey.privateKey,
        },
      ];
      for (const holder of holders) {
        it(`approves an access request (${holder.label})`, async () => {
          const ctx = await networkHelpers.loadFixture(independentFixture);
          const { dataSafe, actors: a } = ctx;
          const { request, requestId } = await makeRequest(dataSafe, a.bank, {
            subjectId: holder.subjectId,
            scope: GrantScope.DataType,
            targets: [typeTarget(DataType.HouseholdRegister), typeTarget(DataType.HousingFund)],
            purpose: PURPOSE,
            grantDuration: 5 * DAY,
            maxReads: 2,
            expiresAt: (await time.latest()) + DAY,
          });
          const auth = await authorizeWith(
            sign,
            holder.key(ctx),
            dataSafe,
            holder.subjectId,
            "ApproveAccessRequest",
            approveMessage(request),
          );
          const tx = dataSafe.connect(a.stranger).approveRequestBySig(request, auth);
          await expect(tx)
            .to.emit(dataSafe, "AccessRequestApproved")
            .withArgs(requestId, holder.subjectId, a.stranger.address);
          expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Approved);
          for (const target of request.targets) {
            const grantId = grantIdOf({
              subjectId: holder.subjectId,
              consumer: a.bank.address,
              scope: GrantScope.DataType,
              target,
              purpose: PURPOSE,
            });
            expect((await dataSafe.getGrant(grantId)).status).to.equal(GrantStatus.Active);
          }
          expect(await dataSafe.isNonceUsed(holder.subjectId, auth.nonce)).to.equal(true);
        });

        it(`an approval whose shown content is not the stored request is refused (${holder.label})`, async () => {
          const ctx = await networkHelpers.loadFixture(independentFixture);
          const { dataSafe, actors: a } = ctx;
          const { request, requestId } = await makeRequest(dataSafe, a.bank, {
            subjectId: holder.subjectId,
            scope: GrantScope.DataType,
            targets: [typeTarget(DataType.HousingFund)],
            purpose: PURPOSE,
            grantDuration: 5 * DAY,
            maxReads: 100,
            expiresAt: (await time.latest()) + DAY,
          });
          // the wallet is shown one read for a day, beside the real request's id
          const shown = { ...approveMessage(request), maxReads: 1n, grantDuration: BigInt(DAY) };
          const auth = await authorizeWith(
            sign,
            holder.key(ctx),
            dataSafe,
            holder.subjectId,
            "ApproveAccessRequest",
            shown,
          );
          const controller = await dataSafe.controllerOf(holder.subjectId);
          // relayed with the stored request: the content signed is not its content
          await expect(dataSafe.connect(a.stranger).approveRequestBySig(request, auth))
            .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
            .withArgs(holder.subjectId, controller);
          // relayed with the content shown: the id signed is not that content's id
          const asShown = { ...request, maxReads: 1n, grantDuration: BigInt(DAY) };
          await expect(dataSafe.connect(a.stranger).approveRequestBySig(asShown, auth))
            .to.be.revertedWithCustomError(dataSafe, "InvalidSignature")
            .withArgs(holder.subjectId, controller);
          // an honest approval of content nobody requested approves nothing
          const honest = await authorizeWith(
            sign,
            holder.key(ctx),
            dataSafe,
            holder.subjectId,
            "ApproveAccessRequest",
            approveMessage(asShown),
          );
          await expect(dataSafe.connect(a.stranger).approveRequestBySig(asShown, honest))
            .to.be.revertedWithCustomError(dataSafe, "RequestNotOpen")
            .withArgs(requestIdOf(asShown), AccessRequestStatus.None);
          expect(await dataSafe.getRequestStatus(requestId)).to.equal(AccessRequestStatus.Open);
          expect(await dataSafe.isNonceUsed(holder.subjectId, auth.nonce)).to.equal(false);
        });

        it(`two outstanding signatures relay in either order, each once (${holder.label})`, async () => {
          const ctx = await networkHelpers.loadFixture(independentFixture);
          const { dataSafe, actors: a } = ctx;
          const { request, requestId } = await makeRequest(dataSafe, a.bank, {
            subjectId: holder.subjectId,
            scope: GrantScope.DataType,
            targets: [typeTarget(DataType.HousingFund)],
            purpose: PURPOSE,
            grantDuration: 5 * DAY,
            maxReads: 1,
            expiresAt: (await time.latest()) + DAY,
          });
          const terms: GrantTerms = {
            subjectId: holder.subjectId,
            consumers: [a.school.address],
            scope: GrantScope.DataType,
            targets: [typeTarget(DataType.IdCard)],
            fields: 0,
            purpose: PURPOSE,
            expiresAt: BigInt((await time.latest()) + DAY),
            maxReads: 1,
          };
          // signed at two counters, approval first, neither relayed yet
          const key = holder.key(ctx);
          const approval = await authorizeWith(
            sign,
            key,
            dataSafe,
            holder.subjectId,
            "ApproveAccessRequest",
            approveMessage(request),
          );
          const grant = await authorizeWith(sign, key, dataSafe, holder.subjectId, "Grant", grantMessage(terms));
          expect(grant.nonce).to.not.equal(approval.nonce);
          // relayed in the other order
          await expect(dataSafe.connect(a.stranger).grantBySig(terms, grant)).to.emit(dataSafe, "GrantIssued");
          await expect(dataSafe.connect(a.bank).approveRequestBySig(request, approval))
            .to.emit(dataSafe, "AccessRequestApproved")
            .withArgs(requestId, holder.subjectId, a.bank.address);
          await expect(dataSafe.connect(a.stranger).grantBySig(terms, grant))
            .to.be.revertedWithCustomError(dataSafe, "NonceUsed")
            .withArgs(holder.subjectId, grant.nonce);
        });

        it(`grants several consumers several assets: address[] and bytes32[] in the message (${holder.label})`, async () => {
          const ctx = await networkHelpers.loadFixture(independentFixture);
          const { dataSafe, actors: a } = ctx;
          const household = await issue(dataSafe, a.publicSecurity, holder.subjectId, DataType.HouseholdRegister);
          const idCard = await issue(dataSafe, a.publicSecurity, holder.subjectId, DataType.IdCard);
          const fund = await issue(dataSafe, a.housingFundCentre, holder.subjectId, DataType.HousingFund);
          const terms: GrantTerms = {
            subjectId: holder.subjectId,
            consumers: [a.bank.address, a.school.address],
            scope: GrantScope.Asset,
            targets: [household.assetId, idCard.assetId, fund.assetId],
            fields: 0,
            purpose: PURPOSE,
            expiresAt: BigInt((await time.latest()) + 30 * DAY),
            maxReads: 3,
          };
          const auth = await authorizeWith(
            sign,
            holder.key(ctx),
            dataSafe,
            holder.subjectId,
            "Grant",
            grantMessage(terms),
          );
          const ids = terms.consumers.flatMap((consumer) =>
            terms.targets.map((target) =>
              grantIdOf({ subjectId: holder.subjectId, consumer, scope: GrantScope.Asset, target, purpose: PURPOSE }),
            ),
          );
          expect(await dataSafe.connect(a.stranger).grantBySig.staticCall(terms, auth)).to.deep.equal(ids);
          const tx = dataSafe.connect(a.stranger).grantBySig(terms, auth);
          for (const [i, id] of ids.entries()) {
            await expect(tx)
              .to.emit(dataSafe, "GrantIssued")
              .withArgs(
                id,
                holder.subjectId,
                terms.consumers[Math.floor(i / 3)],
                GrantScope.Asset,
                terms.targets[i % 3],
                0,
                PURPOSE,
                terms.expiresAt,
                3,
                1,
                ethers.ZeroHash,
              );
          }
        });

        it(`rejects a request and revokes a grant (${holder.label})`, async () => {
          const ctx = await networkHelpers.loadFixture(independentFixture);
          const { dataSafe, actors: a } = ctx;
          const { request, requestId } = await makeRequest(dataSafe, a.school, {
            subjectId: holder.subjectId,
            scope: GrantScope.DataType,
            targets: [typeTarget(DataType.IdCard)],
            purpose: PURPOSE,
            grantDuration: DAY,
            maxReads: 1,
            expiresAt: (await time.latest()) + DAY,
          });
          const key = holder.key(ctx);
          const rejectAuth = await authorizeWith(
            sign,
            key,
            dataSafe,
            holder.subjectId,
            "RejectAccessRequest",
            rejectMessage(request, 9),
          );
          await expect(dataSafe.connect(a.stranger).rejectRequestBySig(request, 9, rejectAuth))
            .to.emit(dataSafe, "AccessRequestRejected")
            .withArgs(requestId, holder.subjectId, 9, a.stranger.address);

          const terms: GrantTerms = {
            subjectId: holder.subjectId,
            consumers: [a.bank.address],
            scope: GrantScope.DataType,
            targets: [typeTarget(DataType.IdCard)],
            fields: 0,
            purpose: PURPOSE,
            expiresAt: BigInt((await time.latest()) + DAY),
            maxReads: 1,
          };
          await dataSafe
            .connect(a.stranger)
            .grantBySig(
              terms,
              await authorizeWith(sign, key, dataSafe, holder.subjectId, "Grant", grantMessage(terms)),
            );
          const grantKey: GrantKey = {
            subjectId: holder.subjectId,
            consumer: a.bank.address,
            scope: GrantScope.DataType,
            target: typeTarget(DataType.IdCard),
            purpose: PURPOSE,
          };
          const revokeAuth = await authorizeWith(
            sign,
            key,
            dataSafe,
            holder.subjectId,
            "Revoke",
            revokeMessage(grantKey, 1),
          );
          await expect(dataSafe.connect(a.stranger).revokeBySig(grantKey, 1, revokeAuth))
            .to.emit(dataSafe, "GrantRevoked")
            .withArgs(grantIdOf(grantKey), holder.subjectId, a.bank.address, 1, a.stranger.address);
        });
      }
    });
  }
});
