/**
 * The README's "SDK in ten lines", run as written: if this test fails, the README is wrong.
 */
import { expect } from "chai";

import { DataSafeClient } from "../../sdk/index.js";
import { ethers } from "../helpers/fixtures.js";
import { loadSdkFixture } from "./helpers.js";

describe("README: the SDK in ten lines", () => {
  it("requests, approves by a phone's signature, reads once, reports the outcome and lists the usage", async () => {
    const { dataSafe, actors, phone: phoneWallet, phoneHolder: subjectId, assets } = await loadSdkFixture();
    const provider = ethers.provider;
    const dataSafeAddress = await dataSafe.getAddress();
    const bankSigner = actors.bank;
    const { assetId, key: assetKey } = assets.phoneHousehold;

    // --- the README's lines ---
    const safe = await DataSafeClient.at(dataSafeAddress, provider);
    const bank = safe.connect(bankSigner);
    const { request } = await (
      await bank.consent.requestAccess({ subjectId, targets: [assetId], purpose: 1, grantDuration: 86_400 })
    ).wait();
    const authorization = await safe.consent.signApproval(phoneWallet, request); // the holder signs; pays nothing
    await (await bank.consent.approveBySig(request, authorization)).wait(); // anyone relays
    const access = await (await bank.accessLog.recordAccess({ asset: assetKey, purpose: 1 })).wait();
    await (await bank.accessLog.recordOutcome(access, 1)).wait(); // e.g. loan approved
    const usage = await safe.events.usageOf(subjectId); // the holder's trail, from events
    // --- end of the README's lines ---

    expect(await provider.getBalance(phoneWallet.address)).to.equal(0n);
    expect(access.readNumber).to.equal(1);
    expect(access.maxReads).to.equal(1);
    expect(usage).to.have.length(1);
    expect(usage[0].consumer).to.equal(bankSigner.address);
    expect(usage[0].assetId).to.equal(assetId);
    expect(usage[0].purpose).to.equal(1);
    expect(usage[0].readNumber).to.equal(1);
    expect(usage[0].outcome).to.equal(1);
  });
});
