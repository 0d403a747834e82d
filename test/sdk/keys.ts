import { createECDH, generateKeyPairSync } from "node:crypto";

import { expect } from "chai";
import { TypedDataEncoder, hexlify } from "ethers";

import {
  type ContractRevertedError,
  DataSafeClient,
  InvalidInputError,
  PUBLIC_KEY_LENGTH,
  isSm2Point,
  keyDirectoryDomain,
  publicKeyOf,
  setHolderKeyTypeHash,
} from "../../sdk/index.js";
import { CITIZEN, ethers } from "../helpers/fixtures.js";
import { loadSdkFixture, thrown } from "./helpers.js";

const x25519Key = (): string =>
  hexlify(generateKeyPairSync("x25519").publicKey.export({ format: "der", type: "spki" }).subarray(-32));
/** An SM2 public key as OpenSSL exports it: 0x04 || x || y (65 bytes). */
const sm2Uncompressed = (): string => {
  const ecdh = createECDH("SM2");
  ecdh.generateKeys();
  return hexlify(ecdh.getPublicKey());
};

describe("sdk: keys", () => {
  it("test_typeHash_and_domain_equalTheContracts", async () => {
    const { keyDirectory, safe } = await loadSdkFixture();
    expect(setHolderKeyTypeHash()).to.equal(await keyDirectory.SET_HOLDER_KEY_TYPEHASH());
    const domain = await safe.keys.checkDomain();
    expect(TypedDataEncoder.hashDomain(domain)).to.equal(await keyDirectory.domainSeparator());
    expect(domain).to.deep.equal(
      keyDirectoryDomain((await ethers.provider.getNetwork()).chainId, await keyDirectory.getAddress()),
    );
  });

  it("test_setMemberKey_rotates_waitReturnsKeyAndReadsBack", async () => {
    const { clients, safe, actors } = await loadSdkFixture();
    expect(await safe.keys.memberKey(actors.bank.address)).to.equal(undefined);
    const first = x25519Key();
    const set = await (await clients.bank.keys.setMemberKey({ suite: "X25519Hpke", publicKey: first })).wait();
    expect(set).to.include({ member: actors.bank.address, suite: "X25519Hpke", publicKey: first });
    const sm2 = sm2Uncompressed();
    const rotated = await (await clients.bank.keys.setMemberKey({ suite: "Sm2", publicKey: sm2 })).wait();
    // The 0x04 prefix of an uncompressed point is dropped: the directory stores x || y.
    expect(rotated.publicKey).to.equal("0x" + sm2.slice(4));
    const stored = await safe.keys.memberKey(actors.bank.address);
    expect(stored).to.deep.equal({
      suite: "Sm2",
      setAt: (await ethers.provider.getBlock(rotated.receipt.blockNumber))!.timestamp,
      publicKey: "0x" + sm2.slice(4),
    });
  });

  it("test_setHolderKeyBySig_phoneSigns_appRelays_handOverEmptiesIt", async () => {
    const { clients, safe, phone, phoneHolder, actors } = await loadSdkFixture();
    const input = { subjectId: phoneHolder, suite: "X25519Hpke" as const, publicKey: x25519Key() };
    const authorization = await safe.keys.signHolderKey(phone, input);
    expect(authorization.nonce).to.equal(0n);
    const set = await (await clients.relayer.keys.setHolderKeyBySig(input, authorization)).wait();
    expect(set).to.include({ subjectId: phoneHolder, controller: phone.address, publicKey: input.publicKey });
    expect((await safe.keys.holderKey(phoneHolder))?.publicKey).to.equal(input.publicKey);
    expect(await safe.keys.nonceOf(phone.address)).to.equal(1n);
    expect(await ethers.provider.getBalance(phone.address)).to.equal(0n);

    // Replayed: a typed revert from the key directory's ABI (OpenZeppelin's Nonces error).
    const replay = (await thrown(() =>
      clients.relayer.keys.setHolderKeyBySig(input, authorization),
    )) as ContractRevertedError<"InvalidAccountNonce">;
    expect(replay.errorName).to.equal("InvalidAccountNonce");
    expect(replay.args).to.deep.equal({ account: phone.address, currentNonce: 1n });

    // The citizen hands control to a new key: the holder key is gone until that key sets one.
    await (
      await clients.citizen.keys.setHolderKey({ subjectId: CITIZEN, suite: "Sm2", publicKey: sm2Uncompressed() })
    ).wait();
    await (await clients.citizen.subjects.transferControl(CITIZEN, actors.others[3].address)).wait();
    expect(await safe.keys.holderKey(CITIZEN)).to.equal(undefined);
  });

  it("test_keyDirectoryReverts_decodeToTypedErrors", async () => {
    const { clients, actors } = await loadSdkFixture();
    const notMember = (await thrown(() =>
      clients.citizen.keys.setMemberKey({ suite: "X25519Hpke", publicKey: x25519Key() }),
    )) as ContractRevertedError<"MemberNotRegistered">;
    expect(notMember.errorName).to.equal("MemberNotRegistered");
    expect(notMember.args).to.deep.equal({ account: actors.citizen.address });
    const notController = (await thrown(() =>
      clients.bank.keys.setHolderKey({ subjectId: CITIZEN, suite: "X25519Hpke", publicKey: x25519Key() }),
    )) as ContractRevertedError<"NotSubjectController">;
    expect(notController.errorName).to.equal("NotSubjectController");
    expect(notController.args).to.deep.equal({ subjectId: CITIZEN, account: actors.bank.address });
  });

  it("test_publicKeyOf_refusesBadKeysBeforeSending", async () => {
    const { clients } = await loadSdkFixture();
    const cases: [Parameters<typeof publicKeyOf>[0], string, RegExp][] = [
      ["X25519Hpke", "0x" + "11".repeat(31), /32 bytes, got 31/],
      ["Sm2", x25519Key(), /64 bytes, got 32/],
      ["X25519Hpke", "0x" + "00".repeat(32), /all zero/],
      ["Sm2", "0x" + "11".repeat(64), /not a point of the SM2 curve/],
      ["X25519Hpke", "not hex", /0x-hex/],
    ];
    for (const [suite, key, message] of cases) {
      const error = (await thrown(() =>
        clients.bank.keys.setMemberKey({ suite, publicKey: key }),
      )) as InvalidInputError;
      expect(error).to.be.instanceOf(InvalidInputError);
      expect(error.field).to.equal("publicKey");
      expect(error.shortMessage).to.match(message);
    }
    const unsupported = (await thrown(() =>
      clients.bank.keys.setMemberKey({ suite: "None" as "Sm2", publicKey: x25519Key() }),
    )) as InvalidInputError;
    expect(unsupported).to.be.instanceOf(InvalidInputError);
    expect(unsupported.field).to.equal("suite");
  });

  it("test_isSm2Point_acceptsOpenSslKeys_refusesOthers", () => {
    for (let i = 0; i < 20; i++) expect(isSm2Point("0x" + sm2Uncompressed().slice(4))).to.equal(true);
    // The generator of GB/T 32918.5.
    const g =
      "0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7" +
      "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0";
    expect(isSm2Point(g)).to.equal(true);
    const flipped = g.slice(0, -1) + (g.endsWith("0") ? "1" : "0");
    expect(isSm2Point(flipped)).to.equal(false);
    expect(isSm2Point("0x" + "ff".repeat(64))).to.equal(false);
    expect(PUBLIC_KEY_LENGTH).to.deep.equal({ X25519Hpke: 32, Sm2: 64 });
  });

  it("test_clientWithoutKeyDirectory_keysThrowInvalidInput", async () => {
    const { dataSafe, actors } = await loadSdkFixture();
    const safe = await DataSafeClient.at(await dataSafe.getAddress(), ethers.provider);
    expect(safe.keyDirectoryAddress).to.equal(undefined);
    const error = (await thrown(() => safe.keys.memberKey(actors.bank.address))) as InvalidInputError;
    expect(error).to.be.instanceOf(InvalidInputError);
    expect(error.field).to.equal("keyDirectoryAddress");
  });
});
