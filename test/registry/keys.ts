import { createECDH, generateKeyPairSync } from "node:crypto";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { type TypedDataDomain, Wallet, hexlify } from "ethers";

import type { ERC1271Wallet, KeyDirectory } from "../../typechain-types/index.js";
import {
  CITIZEN,
  MemberKind,
  deployWithParticipants,
  ethers,
  networkHelpers,
  subjectIdFor,
} from "../helpers/fixtures.js";
import { ZeroAddress, blockTimeOf } from "../helpers/registry.js";

const { loadFixture, time } = networkHelpers;

/** Key suites, as in contracts/interfaces/IKeyDirectory.sol. */
const KeySuite = { None: 0, X25519Hpke: 1, Sm2: 2 } as const;
const EMPTY = { suite: KeySuite.None, setAt: 0, publicKey: "0x" };
const PHONE_SUBJECT = subjectIdFor("phone-holder");
const WALLET_SUBJECT = subjectIdFor("wallet-holder");

/** A fresh X25519 public key (32 bytes), from Node's OpenSSL. */
const x25519Key = (): string => {
  const { publicKey } = generateKeyPairSync("x25519");
  return hexlify(publicKey.export({ format: "der", type: "spki" }).subarray(-32));
};

/** A fresh SM2 public key as the directory stores it: x || y, 64 bytes (OpenSSL's point without 0x04). */
const sm2Key = (): string => {
  const ecdh = createECDH("SM2");
  ecdh.generateKeys();
  return hexlify(ecdh.getPublicKey().subarray(1));
};

const SET_HOLDER_KEY_TYPES = {
  SetHolderKey: [
    { name: "subjectId", type: "bytes32" },
    { name: "suite", type: "uint8" },
    { name: "publicKey", type: "bytes" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

interface HolderKeyMessage {
  subjectId: string;
  suite: number;
  publicKey: string;
  nonce: bigint;
  deadline: bigint;
}

async function domainOf(directory: KeyDirectory, chainId?: bigint): Promise<TypedDataDomain> {
  return {
    name: "DataSafe KeyDirectory",
    version: "1",
    chainId: chainId ?? (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await directory.getAddress(),
  };
}

/** The suite, a holder whose controller is a phone wallet without funds, one behind an EIP-1271 wallet. */
async function keysFixture() {
  const suite = await deployWithParticipants();
  const { dataSafe, actors: a } = suite;
  const phone = Wallet.createRandom();
  await dataSafe.connect(a.identityAuthority).registerSubject(PHONE_SUBJECT, phone.address);
  const walletOwner = a.others[0];
  const wallet = (await ethers.deployContract("ERC1271Wallet", [walletOwner.address])) as unknown as ERC1271Wallet;
  await dataSafe.connect(a.identityAuthority).registerSubject(WALLET_SUBJECT, await wallet.getAddress());
  return { ...suite, phone, wallet, walletOwner };
}

const stored = async (p: Promise<{ suite: bigint; setAt: bigint; publicKey: string }>) => {
  const k = await p;
  return { suite: Number(k.suite), setAt: Number(k.setAt), publicKey: k.publicKey };
};

describe("KeyDirectory", () => {
  describe("deployment", () => {
    it("points at the DataSafe of the Ignition deployment", async () => {
      const { dataSafe, keyDirectory } = await loadFixture(keysFixture);
      expect(await keyDirectory.dataSafe()).to.equal(await dataSafe.getAddress());
    });

    it("reverts InvalidDataSafe for an address without code", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      const factory = await ethers.getContractFactory("KeyDirectory");
      await expect(factory.deploy(actors.stranger.address))
        .to.be.revertedWithCustomError(keyDirectory, "InvalidDataSafe")
        .withArgs(actors.stranger.address);
    });
  });

  describe("setMemberKey", () => {
    it("lets a member set its X25519 key: MemberKeySet, stored with suite and time", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      const key = x25519Key();
      const tx = keyDirectory.connect(actors.bank).setMemberKey(KeySuite.X25519Hpke, key);
      await expect(tx).to.emit(keyDirectory, "MemberKeySet").withArgs(actors.bank.address, KeySuite.X25519Hpke, key);
      expect(await stored(keyDirectory.memberKey(actors.bank.address))).to.deep.equal({
        suite: KeySuite.X25519Hpke,
        setAt: await blockTimeOf(tx),
        publicKey: key,
      });
    });

    it("lets the member rotate to another key and suite without governance; only its own key changes", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      await keyDirectory.connect(actors.bank).setMemberKey(KeySuite.X25519Hpke, x25519Key());
      const school = x25519Key();
      await keyDirectory.connect(actors.school).setMemberKey(KeySuite.X25519Hpke, school);
      const rotated = sm2Key();
      const tx = keyDirectory.connect(actors.bank).setMemberKey(KeySuite.Sm2, rotated);
      await expect(tx).to.emit(keyDirectory, "MemberKeySet").withArgs(actors.bank.address, KeySuite.Sm2, rotated);
      expect(await stored(keyDirectory.memberKey(actors.bank.address))).to.deep.equal({
        suite: KeySuite.Sm2,
        setAt: await blockTimeOf(tx),
        publicKey: rotated,
      });
      expect((await keyDirectory.memberKey(actors.school.address)).publicKey).to.equal(school);
    });

    it("lets a suspended member replace its key (a compromised key must not wait for reinstatement)", async () => {
      const { dataSafe, keyDirectory, actors } = await loadFixture(keysFixture);
      await dataSafe.connect(actors.regulator).suspendMember(actors.bank.address, 1);
      const key = x25519Key();
      await expect(keyDirectory.connect(actors.bank).setMemberKey(KeySuite.X25519Hpke, key)).to.emit(
        keyDirectory,
        "MemberKeySet",
      );
      expect((await keyDirectory.memberKey(actors.bank.address)).publicKey).to.equal(key);
    });

    it("reverts MemberNotRegistered for an account that is not a member, and stores nothing", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      await expect(keyDirectory.connect(actors.stranger).setMemberKey(KeySuite.X25519Hpke, x25519Key()))
        .to.be.revertedWithCustomError(keyDirectory, "MemberNotRegistered")
        .withArgs(actors.stranger.address);
      // A holder's controller is not a member either.
      await expect(keyDirectory.connect(actors.citizen).setMemberKey(KeySuite.X25519Hpke, x25519Key()))
        .to.be.revertedWithCustomError(keyDirectory, "MemberNotRegistered")
        .withArgs(actors.citizen.address);
      expect(await stored(keyDirectory.memberKey(actors.stranger.address))).to.deep.equal(EMPTY);
    });

    it("reverts InvalidKeyLength for a key of the wrong length for its suite, and keeps the old key", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      const key = x25519Key();
      await keyDirectory.connect(actors.bank).setMemberKey(KeySuite.X25519Hpke, key);
      const cases: [number, string, number][] = [
        [KeySuite.X25519Hpke, "0x" + "11".repeat(31), 32],
        [KeySuite.X25519Hpke, "0x" + "11".repeat(33), 32],
        [KeySuite.X25519Hpke, sm2Key(), 32],
        [KeySuite.X25519Hpke, "0x", 32],
        [KeySuite.Sm2, x25519Key(), 64],
        [KeySuite.Sm2, "0x04" + sm2Key().slice(2), 64], // the uncompressed prefix is not part of the key
        [KeySuite.Sm2, "0x" + "22".repeat(63), 64],
      ];
      for (const [suite, bad, expected] of cases) {
        await expect(keyDirectory.connect(actors.bank).setMemberKey(suite, bad))
          .to.be.revertedWithCustomError(keyDirectory, "InvalidKeyLength")
          .withArgs(suite, (bad.length - 2) / 2, expected);
      }
      expect((await keyDirectory.memberKey(actors.bank.address)).publicKey).to.equal(key);
    });

    it("reverts UnsupportedKeySuite for suite None, and without reason for a suite outside the enum", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      await expect(keyDirectory.connect(actors.bank).setMemberKey(KeySuite.None, x25519Key()))
        .to.be.revertedWithCustomError(keyDirectory, "UnsupportedKeySuite")
        .withArgs(KeySuite.None);
      await expect(keyDirectory.connect(actors.bank).setMemberKey(3, x25519Key())).to.be.revertedWithoutReason(ethers);
      expect(await stored(keyDirectory.memberKey(actors.bank.address))).to.deep.equal(EMPTY);
    });

    it("reverts ZeroPublicKey for an all-zero key of either suite", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      for (const [suite, length] of [
        [KeySuite.X25519Hpke, 32],
        [KeySuite.Sm2, 64],
      ]) {
        await expect(keyDirectory.connect(actors.bank).setMemberKey(suite, "0x" + "00".repeat(length)))
          .to.be.revertedWithCustomError(keyDirectory, "ZeroPublicKey")
          .withArgs(suite);
      }
      // One non-zero byte in the second word of an SM2 key is enough to pass the length check.
      const lastByteSet = "0x" + "00".repeat(63) + "01";
      await expect(keyDirectory.connect(actors.bank).setMemberKey(KeySuite.Sm2, lastByteSet)).to.emit(
        keyDirectory,
        "MemberKeySet",
      );
    });
  });

  describe("setHolderKey", () => {
    it("lets the controller set the holder key: HolderKeySet with the controller, stored and returned", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      const key = x25519Key();
      const tx = keyDirectory.connect(actors.citizen).setHolderKey(CITIZEN, KeySuite.X25519Hpke, key);
      await expect(tx)
        .to.emit(keyDirectory, "HolderKeySet")
        .withArgs(CITIZEN, actors.citizen.address, KeySuite.X25519Hpke, key);
      expect(await stored(keyDirectory.holderKey(CITIZEN))).to.deep.equal({
        suite: KeySuite.X25519Hpke,
        setAt: await blockTimeOf(tx),
        publicKey: key,
      });
    });

    it("reverts NotSubjectController for anyone but the controller, a member included", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      for (const who of [actors.stranger, actors.bank, actors.identityAuthority, actors.company]) {
        await expect(keyDirectory.connect(who).setHolderKey(CITIZEN, KeySuite.X25519Hpke, x25519Key()))
          .to.be.revertedWithCustomError(keyDirectory, "NotSubjectController")
          .withArgs(CITIZEN, who.address);
      }
      expect(await stored(keyDirectory.holderKey(CITIZEN))).to.deep.equal(EMPTY);
    });

    it("reverts SubjectNotRegistered for an unknown subject; holderKey of it is empty", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      const unknown = subjectIdFor("nobody");
      await expect(keyDirectory.connect(actors.citizen).setHolderKey(unknown, KeySuite.X25519Hpke, x25519Key()))
        .to.be.revertedWithCustomError(keyDirectory, "SubjectNotRegistered")
        .withArgs(unknown);
      expect(await stored(keyDirectory.holderKey(unknown))).to.deep.equal(EMPTY);
    });

    it("checks the key like a member key (length, suite, zero)", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      await expect(keyDirectory.connect(actors.citizen).setHolderKey(CITIZEN, KeySuite.Sm2, x25519Key()))
        .to.be.revertedWithCustomError(keyDirectory, "InvalidKeyLength")
        .withArgs(KeySuite.Sm2, 32, 64);
      await expect(keyDirectory.connect(actors.citizen).setHolderKey(CITIZEN, KeySuite.None, x25519Key()))
        .to.be.revertedWithCustomError(keyDirectory, "UnsupportedKeySuite")
        .withArgs(KeySuite.None);
      await expect(
        keyDirectory.connect(actors.citizen).setHolderKey(CITIZEN, KeySuite.X25519Hpke, "0x" + "00".repeat(32)),
      )
        .to.be.revertedWithCustomError(keyDirectory, "ZeroPublicKey")
        .withArgs(KeySuite.X25519Hpke);
    });
  });

  describe("hand-over and recovery", () => {
    async function withHolderKey() {
      const f = await keysFixture();
      const key = x25519Key();
      await f.keyDirectory.connect(f.actors.citizen).setHolderKey(CITIZEN, KeySuite.X25519Hpke, key);
      return { ...f, key };
    }

    it("after a hand-over the holder key is empty until the new controller sets one", async () => {
      const { dataSafe, keyDirectory, actors } = await loadFixture(withHolderKey);
      const newKey = actors.others[1];
      await dataSafe.connect(actors.citizen).transferControl(CITIZEN, newKey.address);
      expect(await stored(keyDirectory.holderKey(CITIZEN))).to.deep.equal(EMPTY);
      // The rotated-away key can no longer set one.
      await expect(keyDirectory.connect(actors.citizen).setHolderKey(CITIZEN, KeySuite.X25519Hpke, x25519Key()))
        .to.be.revertedWithCustomError(keyDirectory, "NotSubjectController")
        .withArgs(CITIZEN, actors.citizen.address);
      const fresh = sm2Key();
      await expect(keyDirectory.connect(newKey).setHolderKey(CITIZEN, KeySuite.Sm2, fresh))
        .to.emit(keyDirectory, "HolderKeySet")
        .withArgs(CITIZEN, newKey.address, KeySuite.Sm2, fresh);
      expect((await keyDirectory.holderKey(CITIZEN)).publicKey).to.equal(fresh);
    });

    it("after a completed recovery the holder key is empty until the recovered controller sets one", async () => {
      const { dataSafe, keyDirectory, actors } = await loadFixture(withHolderKey);
      const recovered = actors.others[2];
      await dataSafe.connect(actors.identityAuthority).initiateRecovery(CITIZEN, recovered.address);
      // A pending recovery changes nothing yet.
      expect((await keyDirectory.holderKey(CITIZEN)).suite).to.equal(BigInt(KeySuite.X25519Hpke));
      await time.increase(3 * 86_400);
      await dataSafe.completeRecovery(CITIZEN);
      expect(await stored(keyDirectory.holderKey(CITIZEN))).to.deep.equal(EMPTY);
      const fresh = x25519Key();
      await keyDirectory.connect(recovered).setHolderKey(CITIZEN, KeySuite.X25519Hpke, fresh);
      expect((await keyDirectory.holderKey(CITIZEN)).publicKey).to.equal(fresh);
    });

    it("control handed back to a former key does not revive that key's holder key once another was set", async () => {
      const { dataSafe, keyDirectory, actors } = await loadFixture(withHolderKey);
      const other = actors.others[1];
      await dataSafe.connect(actors.citizen).transferControl(CITIZEN, other.address);
      await keyDirectory.connect(other).setHolderKey(CITIZEN, KeySuite.X25519Hpke, x25519Key());
      await dataSafe.connect(other).transferControl(CITIZEN, actors.citizen.address);
      expect(await stored(keyDirectory.holderKey(CITIZEN))).to.deep.equal(EMPTY);
    });
  });

  describe("setHolderKeyBySig", () => {
    const sign = async (
      signer: Wallet | HardhatEthersSigner,
      directory: KeyDirectory,
      message: HolderKeyMessage,
      chainId?: bigint,
    ) => signer.signTypedData(await domainOf(directory, chainId), SET_HOLDER_KEY_TYPES, message);

    const messageFor = async (
      directory: KeyDirectory,
      controller: string,
      subjectId: string,
      publicKey: string,
    ): Promise<HolderKeyMessage> => ({
      subjectId,
      suite: KeySuite.X25519Hpke,
      publicKey,
      nonce: await directory.nonces(controller),
      deadline: BigInt(await time.latest()) + 3600n,
    });

    const relay = (directory: KeyDirectory, by: HardhatEthersSigner, m: HolderKeyMessage, signature: string) =>
      directory.connect(by).setHolderKeyBySig(m.subjectId, m.suite, m.publicKey, m.nonce, m.deadline, signature);

    it("sets the key from a phone's signature relayed by anyone; the phone pays nothing; the nonce moves", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const m = await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key());
      const signature = await sign(phone, keyDirectory, m);
      const tx = relay(keyDirectory, actors.stranger, m, signature);
      await expect(tx)
        .to.emit(keyDirectory, "HolderKeySet")
        .withArgs(PHONE_SUBJECT, phone.address, KeySuite.X25519Hpke, m.publicKey);
      expect(await stored(keyDirectory.holderKey(PHONE_SUBJECT))).to.deep.equal({
        suite: KeySuite.X25519Hpke,
        setAt: await blockTimeOf(tx),
        publicKey: m.publicKey,
      });
      expect(await keyDirectory.nonces(phone.address)).to.equal(1n);
      expect(await ethers.provider.getBalance(phone.address)).to.equal(0n);
    });

    it("refuses a replay: InvalidAccountNonce with the nonce now expected", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const m = await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key());
      const signature = await sign(phone, keyDirectory, m);
      await relay(keyDirectory, actors.stranger, m, signature);
      await expect(relay(keyDirectory, actors.bank, m, signature))
        .to.be.revertedWithCustomError(keyDirectory, "InvalidAccountNonce")
        .withArgs(phone.address, 1n);
    });

    it("refuses a signature past its deadline: SignatureExpired, nonce unspent", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const m = await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key());
      const signature = await sign(phone, keyDirectory, m);
      await time.increaseTo(m.deadline + 1n);
      await expect(relay(keyDirectory, actors.stranger, m, signature))
        .to.be.revertedWithCustomError(keyDirectory, "SignatureExpired")
        .withArgs(m.deadline);
      expect(await keyDirectory.nonces(phone.address)).to.equal(0n);
      expect(await stored(keyDirectory.holderKey(PHONE_SUBJECT))).to.deep.equal(EMPTY);
    });

    it("accepts a signature at exactly its deadline", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const m = await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key());
      const signature = await sign(phone, keyDirectory, m);
      await time.setNextBlockTimestamp(m.deadline);
      await expect(relay(keyDirectory, actors.stranger, m, signature)).to.emit(keyDirectory, "HolderKeySet");
    });

    it("refuses a signature by anyone but the current controller: InvalidSignature", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const m = await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key());
      for (const signer of [Wallet.createRandom(), actors.stranger, actors.identityAuthority]) {
        await expect(relay(keyDirectory, actors.stranger, m, await sign(signer, keyDirectory, m)))
          .to.be.revertedWithCustomError(keyDirectory, "InvalidSignature")
          .withArgs(PHONE_SUBJECT, phone.address);
      }
      expect(await keyDirectory.nonces(phone.address)).to.equal(0n);
    });

    it("refuses a signature over another key, suite or deadline (tampered in relay): InvalidSignature", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const m = await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key());
      const signature = await sign(phone, keyDirectory, m);
      const tampered: HolderKeyMessage[] = [
        { ...m, publicKey: x25519Key() },
        { ...m, suite: KeySuite.Sm2, publicKey: sm2Key() },
        { ...m, deadline: m.deadline + 1n },
      ];
      for (const t of tampered) {
        await expect(relay(keyDirectory, actors.stranger, t, signature))
          .to.be.revertedWithCustomError(keyDirectory, "InvalidSignature")
          .withArgs(PHONE_SUBJECT, phone.address);
      }
    });

    it("refuses a signature made for another chain: InvalidSignature", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const m = await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key());
      const chainId = (await ethers.provider.getNetwork()).chainId;
      const signature = await sign(phone, keyDirectory, m, chainId + 1n);
      await expect(relay(keyDirectory, actors.stranger, m, signature))
        .to.be.revertedWithCustomError(keyDirectory, "InvalidSignature")
        .withArgs(PHONE_SUBJECT, phone.address);
    });

    it("refuses a signature made for another deployment of the directory, or for the core's domain", async () => {
      const { dataSafe, keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const other = (await ethers.deployContract("KeyDirectory", [
        await dataSafe.getAddress(),
      ])) as unknown as KeyDirectory;
      const m = await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key());
      await expect(relay(keyDirectory, actors.stranger, m, await sign(phone, other, m)))
        .to.be.revertedWithCustomError(keyDirectory, "InvalidSignature")
        .withArgs(PHONE_SUBJECT, phone.address);
      const coreDomain = {
        name: "DataSafe",
        version: "1",
        chainId: (await ethers.provider.getNetwork()).chainId,
        verifyingContract: await dataSafe.getAddress(),
      };
      const coreSignature = await phone.signTypedData(coreDomain, SET_HOLDER_KEY_TYPES, m);
      await expect(relay(keyDirectory, actors.stranger, m, coreSignature))
        .to.be.revertedWithCustomError(keyDirectory, "InvalidSignature")
        .withArgs(PHONE_SUBJECT, phone.address);
    });

    it("refuses the signature of a rotated-away controller after a hand-over", async () => {
      const { dataSafe, keyDirectory, actors } = await loadFixture(keysFixture);
      const m = await messageFor(keyDirectory, actors.citizen.address, CITIZEN, x25519Key());
      const signature = await sign(actors.citizen, keyDirectory, m);
      const newKey = actors.others[1];
      await dataSafe.connect(actors.citizen).transferControl(CITIZEN, newKey.address);
      // The new controller's nonce is 0 as well: the refusal is the signer, not the nonce.
      await expect(relay(keyDirectory, actors.stranger, m, signature))
        .to.be.revertedWithCustomError(keyDirectory, "InvalidSignature")
        .withArgs(CITIZEN, newKey.address);
    });

    it("reverts SubjectNotRegistered for an unknown subject", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const unknown = subjectIdFor("nobody");
      const m = await messageFor(keyDirectory, phone.address, unknown, x25519Key());
      await expect(relay(keyDirectory, actors.stranger, m, await sign(phone, keyDirectory, m)))
        .to.be.revertedWithCustomError(keyDirectory, "SubjectNotRegistered")
        .withArgs(unknown);
    });

    it("accepts the signature of an EIP-1271 wallet controller (its owner signs the digest)", async () => {
      const { keyDirectory, actors, wallet, walletOwner } = await loadFixture(keysFixture);
      const walletAddress = await wallet.getAddress();
      const m = await messageFor(keyDirectory, walletAddress, WALLET_SUBJECT, sm2Key());
      m.suite = KeySuite.Sm2;
      const signature = await sign(walletOwner, keyDirectory, m);
      await expect(relay(keyDirectory, actors.stranger, m, signature))
        .to.emit(keyDirectory, "HolderKeySet")
        .withArgs(WALLET_SUBJECT, walletAddress, KeySuite.Sm2, m.publicKey);
      expect(await keyDirectory.nonces(walletAddress)).to.equal(1n);
    });

    it("checks the key before anything else: InvalidKeyLength, nonce unspent", async () => {
      const { keyDirectory, actors, phone } = await loadFixture(keysFixture);
      const m = { ...(await messageFor(keyDirectory, phone.address, PHONE_SUBJECT, x25519Key())), suite: KeySuite.Sm2 };
      await expect(relay(keyDirectory, actors.stranger, m, await sign(phone, keyDirectory, m)))
        .to.be.revertedWithCustomError(keyDirectory, "InvalidKeyLength")
        .withArgs(KeySuite.Sm2, 32, 64);
      expect(await keyDirectory.nonces(phone.address)).to.equal(0n);
    });
  });

  describe("views", () => {
    it("memberKey and holderKey are empty for unknown accounts, subjects and the zero address", async () => {
      const { keyDirectory, actors } = await loadFixture(keysFixture);
      expect(await stored(keyDirectory.memberKey(actors.stranger.address))).to.deep.equal(EMPTY);
      expect(await stored(keyDirectory.memberKey(ZeroAddress))).to.deep.equal(EMPTY);
      expect(await stored(keyDirectory.holderKey(CITIZEN))).to.deep.equal(EMPTY);
    });

    it("keys of members and holders are apart: a member key is no holder key", async () => {
      const { dataSafe, keyDirectory, actors } = await loadFixture(keysFixture);
      // The bank's account also controls a subject of its own.
      const bankSubject = subjectIdFor("bank-as-holder");
      await dataSafe.connect(actors.identityAuthority).registerSubject(bankSubject, actors.bank.address);
      await keyDirectory.connect(actors.bank).setMemberKey(KeySuite.X25519Hpke, x25519Key());
      expect(await stored(keyDirectory.holderKey(bankSubject))).to.deep.equal(EMPTY);
      expect(await dataSafe.isActiveMember(actors.bank.address, MemberKind.Consumer)).to.equal(true);
    });
  });
});
