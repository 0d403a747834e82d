import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

import { expect } from "chai";
import { type BytesLike, Interface, Wallet, getBytes, hexlify, keccak256, toUtf8Bytes } from "ethers";
import pg from "pg";

import { DATA_TYPES, schemaOf, schemaURIOf } from "../../scripts/catalog.js";
import {
  AccessAlreadyServedError,
  AccessAssetMismatchError,
  AccessDeniedError,
  AccessNotConfirmedError,
  AccessNotFoundError,
  AccessNotYoursError,
  AssetNotFoundError,
  CommitmentMismatchError,
  ConsumerNotActiveError,
  DataSafeClient,
  type DataSafeError,
  DeadlineTooFarError,
  DecryptionError,
  Delivery,
  FetchReplayedError,
  FieldsNotDisclosableError,
  GATEWAY_ROUTES,
  GatewayError,
  InvalidRequestError,
  InvalidSignatureError,
  KeySuite,
  NotSubjectControllerError,
  RecipientKeyMissingError,
  RouteNotFoundError,
  SignatureExpiredError,
  StorageCorruptError,
  type AssetKey,
  type DeliveredRelease,
  type Hex,
  type KeyPair,
  accessIdOf,
  assetIdOf,
  cipherSuite,
  commitFields,
  commitRecord,
  consumerFetchTypedData,
  envelopeHeader,
  fieldMask,
  gatewayDomain,
  gatewayErrorOf,
  newSalt,
  uploadTypedData,
} from "../../sdk/index.js";
import {
  type Chain,
  type GatewayProcess,
  startChain,
  startGateway,
  stopAll,
  workDirectory,
} from "../helpers/gateway-harness.js";
import { type PostgresCluster, startPostgres } from "../helpers/postgres.js";

/*
 * The payload gateway end to end, over real processes: `hardhat node` (the besuLike network) with
 * the suite deployed by Ignition over HTTP, the gateway started by `npm run gateway` (its own
 * process, which may not load Hardhat), and the SDK's `Delivery` client over HTTP. The same cases
 * run against the embedded database (node:sqlite) and a throwaway PostgreSQL server. Every refusal
 * asserts its typed error, its code and status, and that nothing was released: no release row and
 * no release log line for it, and where it applies a later legitimate fetch still succeeding.
 */

const HOUSEHOLD = DATA_TYPES.find((t) => t.id === 1)!;
const FUND = DATA_TYPES.find((t) => t.id === 8)!;
const HOUSEHOLD_FIELDS = HOUSEHOLD.fields.map((f) => f.name);
const Purpose = { Loan: 1, Enrolment: 2 } as const;
/** Grants last a year: direct grants may not outlast MAX_GRANT_DURATION (ten years) from the chain's time. */
const FAR_FUTURE = Math.floor(Date.now() / 1000) + 365 * 86_400;

/** Who is who among the node's development accounts (0-4 are the deployer and the role holders). */
const Account = {
  regulator: 4,
  memberAdmin: 2,
  catalogAdmin: 3,
  authority: 5,
  publicSecurity: 6,
  housingFund: 7,
  bank: 8,
  school: 9,
  nationalBank: 10,
  otherBank: 11,
} as const;

interface Parties {
  safe: DataSafeClient;
  as(wallet: Wallet): DataSafeClient;
  wallets: Record<keyof typeof Account, Wallet>;
  keys: { bank: KeyPair; school: KeyPair; nationalBank: KeyPair; otherBank: KeyPair };
}

/** A holder: a subject controlled by a fresh development account, with its safe-box key. */
interface Holder {
  subjectId: Hex;
  controller: Wallet;
  key: KeyPair;
}

describe("payload gateway, end to end over HTTP", function () {
  this.timeout(240_000);
  const work = workDirectory("gateway-e2e");
  const atRestKey = randomBytes(32).toString("hex");
  let chain: Chain;
  let cluster: PostgresCluster;
  let parties: Parties;

  before(async function () {
    this.timeout(300_000);
    [chain, cluster] = await Promise.all([startChain(work.dir), startPostgres()]);
    parties = await setUpNetwork(chain);
    writeFileSync(path.join(work.dir, "schemas.json"), JSON.stringify([schemaOf(HOUSEHOLD), schemaOf(FUND)]));
  });

  after(async () => {
    await stopAll();
    await chain?.stop();
    await cluster?.stop();
    work.remove();
  });

  for (const kind of ["sqlite", "postgres"] as const) {
    describe(`with ${kind === "sqlite" ? "the embedded database (node:sqlite)" : "PostgreSQL"}`, () => {
      let gateway: GatewayProcess;
      let db: Inspector;
      let delivery: Delivery;
      let database: { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

      before(async () => {
        database =
          kind === "sqlite"
            ? ({ kind, path: path.join(work.dir, `gateway-${Date.now()}.db`) } as const)
            : ({ kind, url: await cluster.createDatabase(`gateway_${Date.now()}`) } as const);
        gateway = await startGateway(
          work.dir,
          {
            // One process per CPU (the default `workers`), all on this database.
            chain: { rpcUrl: chain.url, chainId: 1337, confirmations: 1, headCacheMs: 0 },
            deployment: { ignitionDir: chain.deploymentDir },
            database,
            schemas: "schemas.json",
          },
          atRestKey,
        );
        db = await inspector(database);
        delivery = new Delivery(parties.safe, gateway.url);
      });

      after(async () => {
        await db?.close();
        await gateway?.kill();
      });

      const as = (wallet: Wallet) => delivery.connect(parties.as(wallet));
      const releaseLines = () => gateway.logLines().filter((line) => line.event === "release");
      const mine = () => chain.provider.send("evm_mine", []);

      /** Issues a record to `holder` and uploads it; returns the asset key. */
      async function issueAndUpload(
        holder: Holder,
        type: typeof FUND,
        record: Record<string, unknown>,
        scheme: "record" | "fields" = "record",
      ): Promise<AssetKey & { assetId: Hex; record: Record<string, unknown>; salt: Hex }> {
        const department = type.id === FUND.id ? parties.wallets.housingFund : parties.wallets.publicSecurity;
        const committed =
          scheme === "fields" ? { commitment: commitFields(record).root, salt: "" } : commitRecord(record);
        const salt = scheme === "fields" ? newSalt() : committed.salt;
        const contentCommitment = scheme === "fields" ? commitFields(record, salt).root : committed.commitment;
        const { assetId, key } = await (
          await parties
            .as(department)
            .assets.issue({ subjectId: holder.subjectId, dataType: type.id, contentCommitment })
        ).wait();
        const uploaded = await as(department).upload({
          subjectId: holder.subjectId,
          dataType: type.id,
          scheme,
          record,
          salt,
        });
        expect(uploaded).to.deep.equal({ assetId, stored: "created" });
        return { ...key, assetId, record, salt };
      }

      /** The holder grants `consumer` reads of an asset; the consumer records one; one block confirms it. */
      async function recordedRead(
        holder: Holder,
        asset: AssetKey,
        consumer: Wallet,
        options: { fields?: bigint; maxReads?: number; confirm?: boolean } = {},
      ) {
        const assetId = assetIdOf(asset);
        await (
          await parties.as(holder.controller).consent.grant({
            subjectId: holder.subjectId,
            consumers: [consumer.address],
            targets: [assetId],
            purpose: Purpose.Loan,
            expiresAt: FAR_FUTURE,
            maxReads: options.maxReads ?? 1,
            fields: options.fields,
          })
        ).wait();
        const access = await (
          await parties.as(consumer).accessLog.recordAccess({ asset, purpose: Purpose.Loan, fields: options.fields })
        ).wait();
        if (options.confirm !== false) await mine();
        return access;
      }

      /** The holder grants `consumer` `count` reads; the consumer records them pipelined; one block confirms them. */
      async function recordedReads(holder: Holder, asset: AssetKey, consumer: Wallet, count: number) {
        await (
          await parties.as(holder.controller).consent.grant({
            subjectId: holder.subjectId,
            consumers: [consumer.address],
            targets: [assetIdOf(asset)],
            purpose: Purpose.Loan,
            expiresAt: FAR_FUTURE,
            maxReads: count,
          })
        ).wait();
        // One read per transaction, sent pipelined and mined together as they come.
        const dataSafe = parties.safe.contracts.dataSafe.connect(consumer);
        const core = new Interface(dataSafe.interface.fragments);
        const topic = core.getEvent("AccessRecorded")!.topicHash;
        const sent = [];
        for (let i = 0; i < count; i++) sent.push(await dataSafe.recordAccess(asset, 0, Purpose.Loan, 0));
        const reads = (await Promise.all(sent.map((tx) => tx.wait()))).map((receipt) => {
          const log = receipt!.logs.find((entry) => entry.topics[0] === topic)!;
          return { accessId: core.parseLog(log)!.args.accessId as Hex, transactionHash: receipt!.hash as Hex };
        });
        expect(reads).to.have.length(count);
        await mine();
        return reads;
      }

      /** Asserts the call is refused with `errorClass` (its code and status from the protocol table). */
      async function refused<E extends GatewayError>(
        call: Promise<unknown>,
        errorClass: new (...args: never[]) => E,
        code: string,
        status: number,
      ): Promise<E> {
        let error: unknown;
        try {
          await call;
        } catch (e) {
          error = e;
        }
        expect(error, `expected ${errorClass.name}`).to.be.instanceOf(errorClass);
        const refusal = error as E;
        expect(refusal.code).to.equal(code);
        expect(refusal.status).to.equal(status);
        expect(refusal.problem.type).to.equal(`urn:datasafe:gateway:${code}`);
        return refusal;
      }

      /** Nothing went out for this access: no release row, no release line. */
      async function expectNotReleased(accessId: Hex) {
        expect(await db.isReleased(accessId), `release row of ${accessId}`).to.equal(false);
        expect(releaseLines().filter((line) => line.accessId === accessId.toLowerCase())).to.deep.equal([]);
      }

      describe("upload", () => {
        it("stores a payload whose commitment is an asset its signer issued, once however often it is sent", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const again = await as(parties.wallets.housingFund).upload({
            subjectId: holder.subjectId,
            dataType: FUND.id,
            scheme: "record",
            record: asset.record,
            salt: asset.salt,
          });
          expect(again).to.deep.equal({ assetId: asset.assetId, stored: "existing" });
          expect(await db.payloadCount(asset.assetId)).to.equal(1);
          const uploads = gateway
            .logLines()
            .filter((line) => line.event === "upload" && line.assetId === asset.assetId);
          expect(uploads.map((line) => line.stored)).to.deep.equal(["created", "existing"]);
        });

        it("refuses a tampered payload: the record signed for no longer commits to the asset", async () => {
          const holder = await newHolder(chain, parties);
          const record = fundRecord();
          const { commitment, salt } = commitRecord(record);
          const issuer = parties.wallets.housingFund;
          const { assetId } = await (
            await parties.as(issuer).assets.issue({
              subjectId: holder.subjectId,
              dataType: FUND.id,
              contentCommitment: commitment,
            })
          ).wait();
          const deadline = Math.floor(Date.now() / 1000) + 600;
          const signed = uploadTypedData(gatewayDomain(1337n, parties.safe.address), assetId, deadline);
          const signature = await issuer.signTypedData(signed.domain, signed.types, signed.message);
          const body = {
            assetId,
            issuer: issuer.address,
            subjectId: holder.subjectId,
            dataType: FUND.id,
            scheme: "record",
            record: { ...record, balance: record.balance + 1 },
            salt,
            deadline,
            signature,
          };
          const response = await post(gateway.url, GATEWAY_ROUTES.upload, body);
          expect(response.status).to.equal(422);
          expect(response.headers.get("content-type")).to.equal("application/problem+json");
          expect(await response.json()).to.include({ code: "commitment-mismatch", assetId });
          expect(await db.payloadCount(assetId)).to.equal(0);
          // The untampered body with the same signature is accepted.
          const untampered = await post(gateway.url, GATEWAY_ROUTES.upload, { ...body, record });
          expect(untampered.status).to.equal(201);
        });

        it("refuses an upload signed by another account than the issuer, and one for an asset never issued", async () => {
          const holder = await newHolder(chain, parties);
          const record = fundRecord();
          const { commitment, salt } = commitRecord(record);
          await (
            await parties.as(parties.wallets.housingFund).assets.issue({
              subjectId: holder.subjectId,
              dataType: FUND.id,
              contentCommitment: commitment,
            })
          ).wait();
          // Public Security signs for the housing fund centre's asset: the id it computes is another.
          const input = { subjectId: holder.subjectId, dataType: FUND.id, scheme: "record" as const, record, salt };
          await refused(as(parties.wallets.publicSecurity).upload(input), AssetNotFoundError, "asset-not-found", 404);
          const signedByBank = await refused(
            as(parties.wallets.housingFund).upload(input, parties.wallets.bank),
            AssetNotFoundError,
            "asset-not-found",
            404,
          );
          expect(signedByBank.problem.assetId).to.not.equal(undefined);
          // The right asset id, signed by someone else.
          const assetId = assetIdOf({
            issuer: parties.wallets.housingFund.address,
            subjectId: holder.subjectId,
            dataType: FUND.id,
            contentCommitment: commitment,
          });
          const deadline = Math.floor(Date.now() / 1000) + 600;
          const signed = uploadTypedData(gatewayDomain(1337n, parties.safe.address), assetId, deadline);
          const forged = await parties.wallets.bank.signTypedData(signed.domain, signed.types, signed.message);
          const response = await post(gateway.url, GATEWAY_ROUTES.upload, {
            assetId,
            issuer: parties.wallets.housingFund.address,
            subjectId: holder.subjectId,
            dataType: FUND.id,
            scheme: "record",
            record,
            salt,
            deadline,
            signature: forged,
          });
          expect(response.status).to.equal(401);
          expect((await response.json()).code).to.equal("invalid-signature");
          expect(await db.payloadCount(assetId)).to.equal(0);
        });

        it("answers a malformed body and an unknown route with problems the SDK types", async () => {
          const response = await post(gateway.url, GATEWAY_ROUTES.upload, { assetId: "0x12" });
          expect(response.status).to.equal(400);
          expect(response.headers.get("content-type")).to.equal("application/problem+json");
          expect(await response.json()).to.include({ code: "invalid-request", status: 400 });
          const big = await post(gateway.url, GATEWAY_ROUTES.upload, { record: "x".repeat(2 * 1024 * 1024) });
          expect(big.status).to.equal(413);
          expect((await big.json()).code).to.equal("payload-too-large");
          // An address whose EIP-55 checksum is wrong (one letter's case flipped) is malformed too.
          const account = parties.wallets.bank.address;
          const flip = account.search(/[a-fA-F]/);
          const miscased = `${account.slice(0, flip)}${account[flip] === account[flip].toLowerCase() ? account[flip].toUpperCase() : account[flip].toLowerCase()}${account.slice(flip + 1)}`;
          const badChecksum = await post(gateway.url, GATEWAY_ROUTES.consumerRelease, {
            account: miscased,
            accessId: keccak256("0x01"),
            transactionHash: keccak256("0x02"),
            assetId: keccak256("0x03"),
            deadline: Math.floor(Date.now() / 1000) + 60,
            signature: `0x${"11".repeat(65)}`,
          });
          expect(badChecksum.status).to.equal(400);
          expect(await badChecksum.json()).to.include({ code: "invalid-request" });
          const missing = await post(gateway.url, "/v1/nothing", {});
          expect(missing.status).to.equal(404);
          expect(gatewayErrorOf(404, await missing.json())).to.be.instanceOf(RouteNotFoundError);
          expect(gatewayErrorOf(400, { code: "invalid-request", status: 400 })).to.be.instanceOf(InvalidRequestError);
        });
      });

      describe("holder fetch", () => {
        it("releases the record sealed to the holder key; the holder decrypts and verifies it against the chain", async () => {
          const holder = await newHolder(chain, parties, { withKey: true });
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const release = await as(holder.controller).fetchAsHolder({
            assetId: asset.assetId,
            subjectId: holder.subjectId,
          });
          expect(release).to.include({ kind: "holder", assetId: asset.assetId });
          expect(release.recipient).to.deep.equal({
            suite: KeySuite.X25519Hpke,
            publicKey: hexlify(holder.key.publicKey),
          });
          const { payload, verification } = await delivery.receive(release, holder.key);
          expect(payload).to.deep.include({ kind: "record", scheme: "record", record: asset.record, salt: asset.salt });
          expect(verification).to.deep.equal({
            assetId: asset.assetId,
            contentMatches: true,
            status: "Valid",
            valid: true,
          });
          // Sealed to the holder: no other key opens it, nor the same key for another request.
          await expectDecryptionError(delivery.decrypt(release, parties.keys.bank));
          await expectDecryptionError(
            delivery.decrypt(
              { ...release, requested: { ...release.requested, nonce: hexlify(randomBytes(32)) } } as DeliveredRelease,
              holder.key,
            ),
          );
        });

        it("refuses a replayed, an expired and an over-long fetch signature, releasing nothing", async () => {
          const holder = await newHolder(chain, parties, { withKey: true });
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const nonce = hexlify(randomBytes(32));
          const fetch = (options: { deadline?: number; nonce?: Hex } = {}) =>
            as(holder.controller).fetchAsHolder({ assetId: asset.assetId, subjectId: holder.subjectId, ...options });
          const before = releaseLines().length;
          await refused(
            fetch({ deadline: Math.floor(Date.now() / 1000) - 1 }),
            SignatureExpiredError,
            "signature-expired",
            401,
          );
          await refused(
            fetch({ deadline: Math.floor(Date.now() / 1000) + 24 * 3600 }),
            DeadlineTooFarError,
            "deadline-too-far",
            400,
          );
          expect(releaseLines()).to.have.length(before);
          await fetch({ nonce });
          expect(releaseLines()).to.have.length(before + 1);
          await refused(fetch({ nonce }), FetchReplayedError, "fetch-replayed", 409);
          expect(releaseLines()).to.have.length(before + 1);
        });

        it("gives a rotated-away controller nothing, and the new controller only once it set its own key", async () => {
          const holder = await newHolder(chain, parties, { withKey: true });
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const successor = await newController(chain);
          await (
            await parties.as(holder.controller).subjects.transferControl(holder.subjectId, successor.address)
          ).wait();
          await mine();
          const before = releaseLines().length;
          const input = { assetId: asset.assetId, subjectId: holder.subjectId };
          await refused(
            as(holder.controller).fetchAsHolder(input),
            NotSubjectControllerError,
            "not-subject-controller",
            403,
          );
          await refused(as(successor).fetchAsHolder(input), RecipientKeyMissingError, "recipient-key-missing", 409);
          expect(releaseLines()).to.have.length(before);
          const newKey = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
          await (
            await parties.as(successor).keys.setHolderKey({
              subjectId: holder.subjectId,
              suite: "X25519Hpke",
              publicKey: hexlify(newKey.publicKey),
            })
          ).wait();
          await mine();
          const release = await as(successor).fetchAsHolder(input);
          expect((await delivery.receive(release, newKey)).verification.valid).to.equal(true);
          await expectDecryptionError(delivery.decrypt(release, holder.key));
        });

        it("refuses a fetch signed by someone other than the account it names", async () => {
          const holder = await newHolder(chain, parties, { withKey: true });
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          // The bank signs but the body names the controller.
          const release = as(holder.controller).fetchAsHolder(
            { assetId: asset.assetId, subjectId: holder.subjectId },
            {
              getAddress: async () => holder.controller.address,
              signTypedData: (d, t, v) => parties.wallets.bank.signTypedData(d, t, v),
            },
          );
          await refused(release, InvalidSignatureError, "invalid-signature", 401);
        });
      });

      describe("consumer fetch", () => {
        it("releases a recorded read once, sealed to the consumer's current key; the bank decrypts and verifies it", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.bank);
          const bank = as(parties.wallets.bank);
          const release = await bank.fetchAsConsumer(access);
          expect(release).to.include({
            kind: "consumer",
            assetId: asset.assetId,
            accessId: access.accessId,
            fields: "0",
          });
          expect(envelopeHeader(getBytes(release.sealed)).suite).to.equal(KeySuite.X25519Hpke);
          const { payload, verification } = await bank.receive(release, parties.keys.bank);
          expect(payload).to.deep.include({ kind: "record", record: asset.record });
          expect(verification.valid).to.equal(true);
          expect(await db.isReleased(access.accessId)).to.equal(true);
          const line = releaseLines().find((l) => l.accessId === access.accessId);
          expect(line).to.include({ kind: "consumer", consumer: parties.wallets.bank.address, released: "record" });

          // A second fetch of the same read is refused; so is the very same signed request replayed.
          await refused(bank.fetchAsConsumer(access), AccessAlreadyServedError, "access-already-served", 409);
          expect(releaseLines().filter((l) => l.accessId === access.accessId)).to.have.length(1);
        });

        it("refuses the exact same signed request sent twice (a replayed fetch)", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.bank);
          const body = await signedConsumerFetch(parties.safe.address, parties.wallets.bank, {
            accessId: access.accessId,
            transactionHash: access.receipt.hash,
            assetId: asset.assetId,
          });
          const [first, second] = [
            await post(gateway.url, GATEWAY_ROUTES.consumerRelease, body),
            await post(gateway.url, GATEWAY_ROUTES.consumerRelease, body),
          ];
          expect(first.status).to.equal(200);
          expect(second.status).to.equal(409);
          expect((await second.json()).code).to.equal("access-already-served");
        });

        it("refuses a fetch with no recorded read: a transaction that recorded none, or an access id it did not record", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const grant = await (
            await parties.as(holder.controller).consent.grant({
              subjectId: holder.subjectId,
              consumers: [parties.wallets.bank.address],
              targets: [asset.assetId],
              purpose: Purpose.Loan,
              expiresAt: FAR_FUTURE,
              maxReads: 1,
            })
          ).wait();
          await mine();
          const madeUp = keccak256(toUtf8Bytes(`access-${Date.now()}`));
          const bank = as(parties.wallets.bank);
          const byGrantTx = { accessId: madeUp, assetId: asset.assetId, transactionHash: grant.receipt.hash };
          await refused(bank.fetchAsConsumer(byGrantTx), AccessNotFoundError, "access-not-found", 404);
          const unknownTx = { ...byGrantTx, transactionHash: keccak256(toUtf8Bytes(madeUp)) };
          await refused(bank.fetchAsConsumer(unknownTx), AccessNotFoundError, "access-not-found", 404);
          await expectNotReleased(madeUp);
        });

        it("refuses another consumer's access, then serves its own consumer", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.bank);
          await refused(
            as(parties.wallets.otherBank).fetchAsConsumer(access),
            AccessNotYoursError,
            "access-not-yours",
            403,
          );
          await expectNotReleased(access.accessId);
          await as(parties.wallets.bank).fetchAsConsumer(access);
        });

        it("refuses an access presented for another asset", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const other = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.bank);
          await refused(
            as(parties.wallets.bank).fetchAsConsumer({ ...access, assetId: other.assetId }),
            AccessAssetMismatchError,
            "access-asset-mismatch",
            422,
          );
          await expectNotReleased(access.accessId);
        });

        it("refuses a suspended consumer, and serves the read once it is reinstated", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.bank);
          const regulator = parties.as(parties.wallets.regulator);
          await (await regulator.members.suspend(parties.wallets.bank.address, 7)).wait();
          await mine();
          try {
            await refused(
              as(parties.wallets.bank).fetchAsConsumer(access),
              ConsumerNotActiveError,
              "consumer-not-active",
              403,
            );
            await expectNotReleased(access.accessId);
          } finally {
            await (await regulator.members.reinstate(parties.wallets.bank.address)).wait();
            await mine();
          }
          const release = await as(parties.wallets.bank).fetchAsConsumer(access);
          expect((await delivery.receive(release, parties.keys.bank)).verification.valid).to.equal(true);
        });

        it("has nothing to release when the grant was revoked before the read: the read reverts and records no access", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const holderClient = parties.as(holder.controller);
          await (
            await holderClient.consent.grant({
              subjectId: holder.subjectId,
              consumers: [parties.wallets.bank.address],
              targets: [asset.assetId],
              purpose: Purpose.Loan,
              expiresAt: FAR_FUTURE,
            })
          ).wait();
          const { grantId, version } = await (
            await holderClient.consent.revoke({
              subjectId: holder.subjectId,
              consumer: parties.wallets.bank.address,
              target: asset.assetId,
              purpose: Purpose.Loan,
            })
          ).wait();
          let denied: unknown;
          try {
            await parties.as(parties.wallets.bank).accessLog.recordAccess({ asset, purpose: Purpose.Loan });
          } catch (error) {
            denied = error;
          }
          expect(denied).to.be.instanceOf(AccessDeniedError);
          expect((denied as AccessDeniedError).reason).to.equal("GrantRevoked");
          // The bank forces the read on chain anyway: it is mined reverted, with no AccessRecorded (a
          // Hardhat node also answers the send with the revert; Besu answers with the hash).
          const bank = parties.wallets.bank;
          const core = new Interface(parties.safe.contracts.dataSafe.interface.fragments);
          const signed = await bank.signTransaction(
            await bank.populateTransaction({
              to: parties.safe.address,
              data: core.encodeFunctionData("recordAccess", [asset, 0, Purpose.Loan, 0]),
              gasLimit: 500_000,
            }),
          );
          await chain.provider.send("eth_sendRawTransaction", [signed]).catch(() => undefined);
          const sent = { hash: keccak256(signed) };
          const mined = await chain.provider.getTransactionReceipt(sent.hash);
          expect(mined?.status).to.equal(0);
          await mine();
          const wouldBe = accessIdOf(grantId, version, 1);
          await refused(
            as(parties.wallets.bank).fetchAsConsumer({
              accessId: wouldBe,
              assetId: asset.assetId,
              transactionHash: sent.hash,
            }),
            AccessNotFoundError,
            "access-not-found",
            404,
          );
          await expectNotReleased(wouldBe);
        });

        it("waits for the configured confirmations before serving a read", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.bank, { confirm: false });
          const bank = as(parties.wallets.bank);
          const refusal = await refused(
            bank.fetchAsConsumer(access),
            AccessNotConfirmedError,
            "access-not-confirmed",
            409,
          );
          expect(refusal.problem.blockNumber).to.equal(access.receipt.blockNumber);
          await expectNotReleased(access.accessId);
          await mine();
          await bank.fetchAsConsumer(access);
        });

        it("seals to the key current at release time: after a rotation the old key opens nothing", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.otherBank);
          const rotated = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
          await (
            await parties.as(parties.wallets.otherBank).keys.setMemberKey({
              suite: "X25519Hpke",
              publicKey: hexlify(rotated.publicKey),
            })
          ).wait();
          await mine();
          const release = await as(parties.wallets.otherBank).fetchAsConsumer(access);
          expect(release.recipient.publicKey).to.equal(hexlify(rotated.publicKey));
          await expectDecryptionError(delivery.decrypt(release, parties.keys.otherBank));
          expect((await delivery.receive(release, rotated)).verification.valid).to.equal(true);
          parties.keys.otherBank = rotated;
        });

        it("releases to an SM2-keyed member under the national suite (SM2, SM3, SM4)", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.nationalBank);
          const release = await as(parties.wallets.nationalBank).fetchAsConsumer(access);
          expect(release.recipient.suite).to.equal(KeySuite.Sm2);
          expect(getBytes(release.recipient.publicKey)).to.have.length(64);
          expect(envelopeHeader(getBytes(release.sealed)).suite).to.equal(KeySuite.Sm2);
          const { payload, verification } = await delivery.receive(release, parties.keys.nationalBank);
          expect(payload).to.deep.include({ kind: "record", record: asset.record });
          expect(verification.valid).to.equal(true);
        });
      });

      describe("field-level release", () => {
        it("releases only the fields a read names, each with its salt and proof, verified against the chain", async () => {
          const holder = await newHolder(chain, parties);
          const record = householdRecord();
          const asset = await issueAndUpload(holder, HOUSEHOLD, record, "fields");
          const fields = fieldMask(HOUSEHOLD_FIELDS, ["district"]);
          const access = await recordedRead(holder, asset, parties.wallets.school, { fields });
          const school = as(parties.wallets.school);
          const release = await school.fetchAsConsumer(access);
          expect(release.fields).to.equal(fields.toString());
          const { payload, verification } = await school.receive(release, parties.keys.school);
          expect(payload.kind).to.equal("disclosure");
          if (payload.kind !== "disclosure") throw new Error("unreachable");
          expect(payload.disclosure.root).to.equal(asset.contentCommitment);
          expect(payload.disclosure.fields.map((f) => [f.name, f.value])).to.deep.equal([
            ["district", record.district],
          ]);
          expect(verification).to.include({ valid: true, contentMatches: true });
          // Nothing else of the record is in what the school could open.
          const opened = JSON.stringify(payload);
          for (const name of HOUSEHOLD_FIELDS.filter((n) => n !== "district")) {
            expect(opened).to.not.contain(String(record[name as keyof typeof record]));
          }
          // A changed value fails verification.
          const forged = structuredClone(payload);
          forged.disclosure.fields[0].value = "Shizhong";
          expect((await school.verify(forged)).valid).to.equal(false);
        });

        it("refuses a read of some fields of a record committed as a whole", async () => {
          const holder = await newHolder(chain, parties);
          const record = householdRecord();
          const asset = await issueAndUpload(holder, HOUSEHOLD, record, "record");
          const fields = fieldMask(HOUSEHOLD_FIELDS, ["district"]);
          const access = await recordedRead(holder, asset, parties.wallets.school, { fields });
          await refused(
            as(parties.wallets.school).fetchAsConsumer(access),
            FieldsNotDisclosableError,
            "fields-not-disclosable",
            422,
          );
          await expectNotReleased(access.accessId);
        });
      });

      describe("several gateway processes on one database", () => {
        let second: GatewayProcess;

        before(async () => {
          // Another gateway on the same database, two workers of its own, head reads memoised 100 ms.
          second = await startGateway(
            work.dir,
            {
              workers: 2,
              chain: { rpcUrl: chain.url, chainId: 1337, confirmations: 1, headCacheMs: 100 },
              deployment: { ignitionDir: chain.deploymentDir },
              database,
              schemas: "schemas.json",
            },
            atRestKey,
          );
        });

        after(async () => {
          await second?.kill();
        });

        it("releases each access once when every fetch is sent four times at once, to two gateways", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const reads = await recordedReads(holder, asset, parties.wallets.bank, 30);
          const bodies = await Promise.all(
            reads.map((read) =>
              signedConsumerFetch(parties.safe.address, parties.wallets.bank, { ...read, assetId: asset.assetId }),
            ),
          );
          const responses = await Promise.all(
            bodies.flatMap((body) =>
              [gateway.url, second.url, gateway.url, second.url].map(async (url) => {
                const response = await post(url, GATEWAY_ROUTES.consumerRelease, body);
                return { accessId: body.accessId as Hex, status: response.status, body: await response.json() };
              }),
            ),
          );
          for (const { accessId } of reads) {
            const answers = responses.filter((r) => r.accessId === accessId);
            expect(answers.map((r) => r.status).sort(), accessId).to.deep.equal([200, 409, 409, 409]);
            expect(answers.filter((r) => r.status === 409).map((r) => r.body.code)).to.deep.equal(
              Array(3).fill("access-already-served"),
            );
            expect(await db.isReleased(accessId)).to.equal(true);
            const lines = [...gateway.logLines(), ...second.logLines()].filter(
              (line) => line.event === "release" && line.accessId === accessId.toLowerCase(),
            );
            expect(lines, `release lines of ${accessId}`).to.have.length(1);
          }
        });

        it("replaces a worker killed with SIGKILL, and goes on serving", async () => {
          const primary = second.logLines().find((line) => line.event === "started" && line.role === "primary");
          const [victim] = primary?.workers as number[];
          process.kill(victim, "SIGKILL");
          const deadline = Date.now() + 30_000;
          let replacement: Record<string, unknown> | undefined;
          while (replacement === undefined && Date.now() < deadline) {
            await sleep(200);
            const lines = second.logLines();
            const exited = lines.findIndex((line) => line.event === "worker-exited" && line.pid === victim);
            if (exited >= 0) replacement = lines.slice(exited).find((line) => line.event === "started" && line.worker);
          }
          expect(replacement, "a replacement worker started").to.not.equal(undefined);
          expect(replacement!.worker).to.not.equal(victim);
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const reads = await recordedReads(holder, asset, parties.wallets.bank, 4);
          const bank = new Delivery(parties.as(parties.wallets.bank), second.url);
          for (const read of reads) await bank.fetchAsConsumer({ ...read, assetId: asset.assetId });
        });

        it("answers from the newest confirmed block with a warm memo: a consumer suspended there is refused", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const [warm, pending] = await recordedReads(holder, asset, parties.wallets.bank, 2);
          const bank = new Delivery(parties.as(parties.wallets.bank), second.url);
          // Served: the bank's status and key at this block are now memoised in a worker.
          await bank.fetchAsConsumer({ ...warm, assetId: asset.assetId });
          const regulator = parties.as(parties.wallets.regulator);
          await (await regulator.members.suspend(parties.wallets.bank.address, 7)).wait();
          await mine();
          try {
            // Past headCacheMs every worker reads the new head, and asks about the new block.
            await sleep(250);
            for (let i = 0; i < 2; i++) {
              await refused(
                bank.fetchAsConsumer({ ...pending, assetId: asset.assetId }),
                ConsumerNotActiveError,
                "consumer-not-active",
                403,
              );
            }
            await expectNotReleased(pending.accessId);
          } finally {
            await (await regulator.members.reinstate(parties.wallets.bank.address)).wait();
            await mine();
          }
          await sleep(250);
          const release = await bank.fetchAsConsumer({ ...pending, assetId: asset.assetId });
          expect((await bank.receive(release, parties.keys.bank)).verification.valid).to.equal(true);
        });
      });

      describe("at rest and across restarts", () => {
        it("detects a flipped byte in the stored row and serves nothing until the row is whole again", async () => {
          const holder = await newHolder(chain, parties);
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const access = await recordedRead(holder, asset, parties.wallets.bank);
          const original = await db.sealed(asset.assetId);
          const flipped = Buffer.from(original);
          flipped[Math.floor(flipped.length / 2)] ^= 0x01;
          await db.setSealed(asset.assetId, flipped);
          await refused(as(parties.wallets.bank).fetchAsConsumer(access), StorageCorruptError, "storage-corrupt", 500);
          await expectNotReleased(access.accessId);
          const corrupt = gateway
            .logLines()
            .find((line) => line.code === "storage-corrupt" && line.assetId === asset.assetId);
          expect(corrupt).to.include({ event: "refusal", status: 500 });
          await db.setSealed(asset.assetId, original);
          await as(parties.wallets.bank).fetchAsConsumer(access);
        });

        it("loses nothing and serves nothing twice across a kill -9 and a restart", async () => {
          const holder = await newHolder(chain, parties, { withKey: true });
          const asset = await issueAndUpload(holder, FUND, fundRecord());
          const served = await recordedRead(holder, asset, parties.wallets.bank, { maxReads: 2 });
          await as(parties.wallets.bank).fetchAsConsumer(served);
          const pending = await (
            await parties.as(parties.wallets.bank).accessLog.recordAccess({ asset, purpose: Purpose.Loan })
          ).wait();
          await mine();

          await gateway.kill("SIGKILL");
          await gateway.restart();

          await refused(
            as(parties.wallets.bank).fetchAsConsumer(served),
            AccessAlreadyServedError,
            "access-already-served",
            409,
          );
          const release = await as(parties.wallets.bank).fetchAsConsumer(pending);
          expect((await delivery.receive(release, parties.keys.bank)).payload).to.deep.include({
            record: asset.record,
          });
          const own = await as(holder.controller).fetchAsHolder({
            assetId: asset.assetId,
            subjectId: holder.subjectId,
          });
          expect((await delivery.receive(own, holder.key)).verification.valid).to.equal(true);
        });
      });
    });
  }
});

// --- the network -------------------------------------------------------------------------------

async function setUpNetwork(chain: Chain): Promise<Parties> {
  const wallets = Object.fromEntries(
    Object.entries(Account).map(([name, index]) => [name, chain.account(index)]),
  ) as Record<keyof typeof Account, Wallet>;
  const safe = await DataSafeClient.at(chain.addresses["DataSafe#DataSafe"], chain.provider, {
    keyDirectoryAddress: chain.addresses["KeyDirectory#KeyDirectory"],
  });
  const as = (wallet: Wallet) => safe.connect(wallet);
  const admin = as(wallets.memberAdmin);
  const members = [
    [wallets.authority, "IdentityAuthority", "Identity Authority"],
    [wallets.publicSecurity, "Department", "Public Security Bureau"],
    [wallets.housingFund, "Department", "Housing Provident Fund Centre"],
    [wallets.bank, "Consumer", "City Commercial Bank"],
    [wallets.school, "Consumer", "No. 1 Middle School"],
    [wallets.nationalBank, "Consumer", "State Bank (SM2)"],
    [wallets.otherBank, "Consumer", "Another Bank"],
  ] as const;
  for (const [wallet, kind, name] of members) {
    await (await admin.members.register({ account: wallet.address, kind, name })).wait();
  }
  const catalogAdmin = as(wallets.catalogAdmin);
  for (const type of [HOUSEHOLD, FUND]) {
    await (
      await catalogAdmin.catalog.define({
        dataType: type.id,
        name: type.name,
        schemaURI: schemaURIOf(type),
        schema: schemaOf(type),
      })
    ).wait();
  }
  await (await catalogAdmin.catalog.authoriseIssuer(HOUSEHOLD.id, wallets.publicSecurity.address)).wait();
  await (await catalogAdmin.catalog.authoriseIssuer(FUND.id, wallets.housingFund.address)).wait();

  const x25519 = cipherSuite(KeySuite.X25519Hpke);
  const keys = {
    bank: await x25519.generateKeyPair(),
    school: await x25519.generateKeyPair(),
    nationalBank: await cipherSuite(KeySuite.Sm2).generateKeyPair(),
    otherBank: await x25519.generateKeyPair(),
  };
  for (const name of ["bank", "school", "nationalBank", "otherBank"] as const) {
    await (
      await as(wallets[name]).keys.setMemberKey({
        suite: keys[name].suite === KeySuite.Sm2 ? "Sm2" : "X25519Hpke",
        publicKey: hexlify(keys[name].publicKey),
      })
    ).wait();
  }
  return { safe, as, wallets, keys };
}

/** A fresh key as a subject's controller, funded by the deployer account for the gas it pays. */
async function newController(chain: Chain): Promise<Wallet> {
  const controller = new Wallet(Wallet.createRandom().privateKey, chain.provider);
  await (await chain.account(0).sendTransaction({ to: controller.address, value: 10n ** 18n })).wait();
  return controller;
}

async function newHolder(chain: Chain, parties: Parties, options: { withKey?: boolean } = {}): Promise<Holder> {
  const controller = await newController(chain);
  const subjectId = keccak256(toUtf8Bytes(`holder-${controller.address}-${Date.now()}`));
  await (await parties.as(parties.wallets.authority).subjects.register(subjectId, controller.address)).wait();
  const key = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
  if (options.withKey) {
    await (
      await parties
        .as(controller)
        .keys.setHolderKey({ subjectId, suite: "X25519Hpke", publicKey: hexlify(key.publicKey) })
    ).wait();
  }
  return { subjectId, controller, key };
}

const fundRecord = () => ({
  accountNumber: `TEST-HF-${randomBytes(4).toString("hex")}`,
  monthlyContribution: 1_200,
  balance: 86_400 + Math.floor(Math.random() * 1_000),
  paidUntil: "2025-09",
  status: "active",
});

const householdRecord = () => ({
  householdNumber: `TEST-HH-${randomBytes(4).toString("hex")}`,
  relationToHead: "self",
  registrationType: "local",
  district: "Lixia",
  registeredOn: "2009-03-01",
});

async function expectDecryptionError(call: Promise<unknown>): Promise<void> {
  let error: unknown;
  try {
    await call;
  } catch (e) {
    error = e;
  }
  expect(error, "expected a DecryptionError").to.be.instanceOf(DecryptionError);
  expect((error as DataSafeError).name).to.equal("DecryptionError");
}

/** A response whose JSON body is a problem or a release. */
type JsonResponse = Omit<Response, "json"> & { json(): Promise<Record<string, unknown>> };

async function post(url: string, route: string, body: unknown): Promise<JsonResponse> {
  const response = await fetch(`${url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return response as JsonResponse;
}

async function signedConsumerFetch(
  dataSafe: string,
  consumer: Wallet,
  request: { accessId: Hex; transactionHash: Hex; assetId: Hex },
): Promise<Record<string, unknown>> {
  const deadline = Math.floor(Date.now() / 1000) + 300;
  const payload = consumerFetchTypedData(gatewayDomain(1337n, dataSafe), { ...request, deadline });
  const signature = await consumer.signTypedData(payload.domain, payload.types, payload.message);
  return { account: consumer.address, ...request, deadline, signature };
}

// --- looking into the gateway's database ------------------------------------------------------

interface Inspector {
  payloadCount(assetId: Hex): Promise<number>;
  isReleased(accessId: Hex): Promise<boolean>;
  sealed(assetId: Hex): Promise<Buffer>;
  setSealed(assetId: Hex, sealed: BytesLike): Promise<void>;
  close(): Promise<void>;
}

async function inspector(
  database: { kind: "sqlite"; path: string } | { kind: "postgres"; url: string },
): Promise<Inspector> {
  if (database.kind === "sqlite") {
    const db = new DatabaseSync(database.path);
    return {
      payloadCount: async (assetId) =>
        Number(
          (
            db.prepare("SELECT count(*) AS n FROM payloads WHERE asset_id = ?").get(assetId.toLowerCase()) as {
              n: number;
            }
          ).n,
        ),
      isReleased: async (accessId) =>
        db.prepare("SELECT 1 FROM releases WHERE access_id = ?").get(accessId.toLowerCase()) !== undefined,
      sealed: async (assetId) =>
        Buffer.from(
          (
            db.prepare("SELECT sealed FROM payloads WHERE asset_id = ?").get(assetId.toLowerCase()) as {
              sealed: Uint8Array;
            }
          ).sealed,
        ),
      setSealed: async (assetId, sealed) => {
        db.prepare("UPDATE payloads SET sealed = ? WHERE asset_id = ?").run(getBytes(sealed), assetId.toLowerCase());
      },
      close: async () => db.close(),
    };
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return {
    payloadCount: async (assetId) =>
      Number(
        (await client.query("SELECT count(*) AS n FROM payloads WHERE asset_id = $1", [assetId.toLowerCase()])).rows[0]
          .n,
      ),
    isReleased: async (accessId) =>
      (await client.query("SELECT 1 FROM releases WHERE access_id = $1", [accessId.toLowerCase()])).rowCount === 1,
    sealed: async (assetId) =>
      (await client.query("SELECT sealed FROM payloads WHERE asset_id = $1", [assetId.toLowerCase()])).rows[0].sealed,
    setSealed: async (assetId, sealed) => {
      await client.query("UPDATE payloads SET sealed = $1 WHERE asset_id = $2", [
        Buffer.from(getBytes(sealed)),
        assetId.toLowerCase(),
      ]);
    },
    close: () => client.end(),
  };
}
