import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Signature, Wallet, concat, hexlify, keccak256, recoverAddress, toBeHex } from "ethers";

import {
  consumerFetchTypedData,
  gatewayDomain,
  hashTypedData,
  holderFetchTypedData,
  uploadTypedData,
} from "../../sdk/index.js";

import { AtRestCipher, AtRestIntegrityError, keyIdOf } from "../../gateway/at-rest.js";
import { ConfigError, loadConfig } from "../../gateway/config.js";
import { GatewayDigests } from "../../gateway/digests.js";
import { recoverSigner, recoverWithEthers, signatureBackend } from "../../gateway/signatures.js";
import { GroupCommit } from "../../gateway/store/group-commit.js";
import { openStore, type PayloadStore, type StoredPayload } from "../../gateway/store/index.js";
import { type PostgresCluster, startPostgres } from "../helpers/postgres.js";

/*
 * The gateway's parts that need no chain: the EIP-712 digests, the at-rest cipher, the configuration
 * file, and the two stores held to one contract (the same cases against node:sqlite and a real
 * PostgreSQL server).
 */

const id32 = () => hexlify(randomBytes(32));

describe("gateway EIP-712 digests", () => {
  it("equal the SDK's typed-data hashes of every message, and recover the wallet that signed", async () => {
    const wallet = Wallet.createRandom();
    for (const chainId of [1337n, 1n]) {
      const domain = gatewayDomain(chainId, "0x0165878A594ca255338adfa4d48449f69242Eb8F");
      const digests = new GatewayDigests(domain);
      for (let i = 0; i < 10; i++) {
        const deadline = 1_700_000_000 + i * 7_919;
        const upload = { assetId: id32(), deadline };
        const holder = { assetId: id32(), subjectId: id32(), nonce: id32(), deadline };
        const consumer = { accessId: id32(), transactionHash: id32(), assetId: id32(), deadline };
        expect(digests.upload(upload)).to.equal(hashTypedData(uploadTypedData(domain, upload.assetId, deadline)));
        expect(digests.holderFetch(holder)).to.equal(hashTypedData(holderFetchTypedData(domain, holder)));
        const payload = consumerFetchTypedData(domain, consumer);
        expect(digests.consumerFetch(consumer)).to.equal(hashTypedData(payload));
        const signature = await wallet.signTypedData(payload.domain, payload.types, payload.message);
        expect(recoverAddress(digests.consumerFetch(consumer), signature)).to.equal(wallet.address);
      }
    }
  });
});

describe("gateway signature recovery (libsecp256k1)", () => {
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const wallet = Wallet.createRandom();
  const sign = (digest: string) => wallet.signingKey.sign(digest);
  const raw = (r: bigint | string, s: bigint | string, v: number) =>
    concat([toBeHex(r, 32), toBeHex(s, 32), toBeHex(v, 1)]);

  it("runs on the native binding here, not the pure-JS fallback", () => {
    expect(signatureBackend).to.equal("libsecp256k1 (native)");
  });

  it("recovers what ethers recovers from valid signatures, in every v ethers reads", () => {
    for (let i = 0; i < 50; i++) {
      const digest = id32();
      const sig = sign(digest);
      const parity = sig.yParity;
      // 27/28, 0/1, and EIP-155 v's (odd: parity 0) that fit the byte.
      for (const v of [27 + parity, parity, parity === 0 ? 37 : 38, parity === 0 ? 255 : 254]) {
        const signature = raw(sig.r, sig.s, v);
        expect(recoverSigner(digest, signature), `v=${v}`).to.equal(wallet.address.toLowerCase());
        expect(recoverWithEthers(digest, signature), `v=${v}`).to.equal(wallet.address.toLowerCase());
      }
    }
  });

  it("answers like ethers for malleated, out-of-range and malformed signatures", () => {
    const digest = id32();
    const sig = sign(digest);
    const r = BigInt(sig.r);
    const s = BigInt(sig.s);
    const cases: Record<string, string> = {
      // The same signature malleated to s' = n - s and the other parity: refused (s' >= 2^255).
      "high s": raw(r, N - s, 28 - sig.yParity),
      // Above n/2 but below 2^255: ethers reads it (some key signed it), and so does the gateway.
      "s just above n/2": raw(r, N / 2n + 1n, 27),
      "high s, same parity": raw(r, N - s, 27 + sig.yParity),
      "wrong parity": raw(r, s, 28 - sig.yParity),
      "r = 0": raw(0n, s, 27),
      "s = 0": raw(r, 0n, 27),
      "r = n": raw(N, s, 27),
      "s = n": raw(r, N, 27),
      "r > n": raw(N + 5n, s, 27),
      "r not an x on the curve": raw(5n, s, 27),
      "v = 2": raw(r, s, 2),
      "v = 26": raw(r, s, 26),
      "v = 29": raw(r, s, 29),
      "v = 34": raw(r, s, 34),
      "64 bytes (EIP-2098)": Signature.from(sig).compactSerialized,
      "66 bytes": concat([sig.serialized, "0x00"]),
      "another digest's": sign(id32()).serialized,
    };
    for (const [name, signature] of Object.entries(cases)) {
      const expected = recoverWithEthers(digest, signature);
      expect(recoverSigner(digest, signature), name).to.equal(expected);
      expect(expected, name).to.not.equal(wallet.address.toLowerCase());
    }
    expect(recoverSigner(digest, cases["high s"])).to.equal(undefined);
    expect(recoverSigner(digest, cases["s just above n/2"])).to.match(/^0x[0-9a-f]{40}$/);
    // A malformed hex string is no signature.
    expect(recoverSigner(digest, "0xzz")).to.equal(undefined);
  });

  it("answers like ethers for random bytes", () => {
    for (let i = 0; i < 300; i++) {
      const digest = keccak256(randomBytes(8));
      const signature = hexlify(randomBytes(65));
      expect(recoverSigner(digest, signature)).to.equal(recoverWithEthers(digest, signature));
    }
  });
});

describe("gateway group commit", () => {
  it("writes the rows of a turn in one batch and answers each caller for its own row", async () => {
    const batches: string[][] = [];
    const written = new Set<string>(["0xold"]);
    const commit = new GroupCommit<{ accessId: string }>((rows) => {
      batches.push(rows.map((r) => r.accessId));
      return rows.map((r) => !written.has(r.accessId) && Boolean(written.add(r.accessId)));
    });
    const ids = ["0xa", "0xb", "0xold", "0xa", "0xc", "0xa"];
    const answers = await Promise.all(ids.map((accessId) => commit.submit({ accessId })));
    expect(answers).to.deep.equal([true, true, false, false, true, false]);
    // One batch; a repeated access never reaches the database twice.
    expect(batches).to.deep.equal([["0xa", "0xb", "0xold", "0xc"]]);
    expect(await commit.submit({ accessId: "0xd" })).to.equal(true);
    expect(batches).to.have.length(2);
  });

  it("rejects every caller of a failed batch, repeats included, and writes the next batch", async () => {
    let fail = true;
    const commit = new GroupCommit<{ accessId: string }>(async (rows) => {
      if (fail) throw new Error("disk full");
      return rows.map(() => true);
    });
    const answers = await Promise.allSettled(["0xa", "0xa", "0xb"].map((accessId) => commit.submit({ accessId })));
    expect(answers.map((a) => a.status)).to.deep.equal(["rejected", "rejected", "rejected"]);
    fail = false;
    expect(await commit.submit({ accessId: "0xa" })).to.equal(true);
  });

  it("keeps at most `maxInFlight` batches writing; rows arriving meanwhile form the next batch", async () => {
    const batches: string[][] = [];
    let writing = 0;
    let most = 0;
    const commit = new GroupCommit<{ accessId: string }>(async (rows) => {
      writing++;
      most = Math.max(most, writing);
      batches.push(rows.map((r) => r.accessId));
      await new Promise((resolve) => setTimeout(resolve, 20));
      writing--;
      return rows.map(() => true);
    }, 1);
    const first = commit.submit({ accessId: "0x1" });
    await new Promise((resolve) => setImmediate(resolve));
    const rest = ["0x2", "0x3", "0x4"].map((accessId) => commit.submit({ accessId }));
    expect(await Promise.all([first, ...rest])).to.deep.equal([true, true, true, true]);
    expect(most).to.equal(1);
    expect(batches).to.deep.equal([["0x1"], ["0x2", "0x3", "0x4"]]);
  });
});

describe("gateway at rest: AES-256-GCM bound to the asset id", () => {
  const cipher = new AtRestCipher(randomBytes(32));
  const assetId = id32();
  const plaintext = new TextEncoder().encode('{"record":{"balance":86400}}');

  it("opens what it sealed, with a fresh IV each time", () => {
    const a = cipher.seal(assetId, plaintext);
    const b = cipher.seal(assetId, plaintext);
    expect(a.iv.equals(b.iv)).to.equal(false);
    expect(a.sealed.equals(b.sealed)).to.equal(false);
    expect(new Uint8Array(cipher.open(assetId, a))).to.deep.equal(plaintext);
  });

  it("detects a flipped byte anywhere in the IV, the ciphertext or the tag", () => {
    const row = cipher.seal(assetId, plaintext);
    for (let i = 0; i < row.iv.length + row.sealed.length; i++) {
      const iv = Buffer.from(row.iv);
      const sealed = Buffer.from(row.sealed);
      if (i < iv.length) iv[i] ^= 0x01;
      else sealed[i - iv.length] ^= 0x80;
      expect(() => cipher.open(assetId, { iv, sealed, keyId: row.keyId }), `byte ${i}`).to.throw(AtRestIntegrityError);
    }
  });

  it("refuses a row moved to another asset, or sealed under another key", () => {
    const row = cipher.seal(assetId, plaintext);
    expect(() => cipher.open(id32(), row)).to.throw(AtRestIntegrityError, "authentication failed");
    const other = new AtRestCipher(randomBytes(32));
    expect(() => other.open(assetId, row)).to.throw(AtRestIntegrityError, `sealed under key ${cipher.keyId}`);
    expect(() => other.open(assetId, { ...row, keyId: other.keyId })).to.throw(AtRestIntegrityError);
  });

  it("names a key by an id that is not the key", () => {
    const key = randomBytes(32);
    expect(keyIdOf(key)).to.match(/^[0-9a-f]{16}$/);
    expect(key.toString("hex")).to.not.contain(keyIdOf(key));
    expect(() => new AtRestCipher(randomBytes(16))).to.throw(RangeError);
  });
});

describe("gateway configuration file", () => {
  let dir: string;
  const key = randomBytes(32).toString("hex");
  const base = {
    chain: { rpcUrl: "http://127.0.0.1:8545" },
    deployment: {
      dataSafe: "0x0165878a594ca255338adfa4d48449f69242eb8f",
      keyDirectory: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    },
    database: { kind: "sqlite", path: "data/gateway.db" },
    atRestKey: { env: "GW_KEY" },
  };
  const write = (config: unknown) => {
    const file = path.join(dir, `config-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  before(() => (dir = mkdtempSync(path.join(tmpdir(), "datasafe-gw-config-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("fills the defaults, resolves paths against the file and reads the key from the environment", () => {
    const config = loadConfig(write(base), { GW_KEY: key });
    expect(config.listen).to.deep.equal({ host: "127.0.0.1", port: 8787 });
    expect(config.chain.confirmations).to.equal(1);
    expect(config.chain.headCacheMs).to.equal(250);
    expect(config.workers).to.equal(availableParallelism());
    expect(loadConfig(write({ ...base, workers: 1 }), { GW_KEY: key }).workers).to.equal(1);
    expect(config.limits).to.deep.equal({ maxBodyBytes: 1024 * 1024, maxSignatureLifetime: 600 });
    expect(config.database).to.deep.equal({ kind: "sqlite", path: path.join(dir, "data", "gateway.db") });
    expect(config.addresses.dataSafe).to.equal("0x0165878A594ca255338adfa4d48449f69242Eb8F");
    expect(config.atRestKey.toString("hex")).to.equal(key);
    expect(config.atRestKeySource).to.equal("environment variable GW_KEY");
  });

  it("names every invalid field", () => {
    const bad = {
      ...base,
      chain: { rpcUrl: "ftp://node", confirmations: -1 },
      database: { kind: "mysql" },
      workers: 0,
      extra: true,
    };
    let error: unknown;
    try {
      loadConfig(write(bad), { GW_KEY: key });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const message = (error as Error).message;
    for (const field of ["chain.rpcUrl", "chain.confirmations", "database.kind", "workers", "(root)"]) {
      expect(message).to.contain(`${field}:`);
    }
  });

  it("has no default key: a missing variable, a short key or a world-readable key file stops it", () => {
    expect(() => loadConfig(write(base), {})).to.throw(ConfigError, "GW_KEY is not set");
    expect(() => loadConfig(write(base), { GW_KEY: "00".repeat(16) })).to.throw(ConfigError, "not 32 bytes");
    const keyFile = path.join(dir, "key.hex");
    writeFileSync(keyFile, key, { mode: 0o644 });
    expect(() => loadConfig(write({ ...base, atRestKey: { file: keyFile } }), {})).to.throw(ConfigError, "chmod 600");
    writeFileSync(keyFile, key, { mode: 0o600 });
    rmSync(keyFile);
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    expect(loadConfig(write({ ...base, atRestKey: { file: keyFile } }), {}).atRestKey.toString("hex")).to.equal(key);
  });

  it("reads the addresses of an Ignition deployment folder", () => {
    const deployment = path.join(dir, "chain-1337");
    rmSync(deployment, { recursive: true, force: true });
    const addresses = {
      "DataSafe#DataSafe": "0x0165878A594ca255338adfa4d48449f69242Eb8F",
      "KeyDirectory#KeyDirectory": "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853",
    };
    writeFileSync(path.join(dir, "deployed_addresses.json"), JSON.stringify(addresses));
    const config = loadConfig(write({ ...base, deployment: { ignitionDir: "." } }), { GW_KEY: key });
    expect(config.addresses).to.deep.equal({
      dataSafe: addresses["DataSafe#DataSafe"],
      keyDirectory: addresses["KeyDirectory#KeyDirectory"],
    });
    writeFileSync(
      path.join(dir, "deployed_addresses.json"),
      JSON.stringify({ "DataSafe#DataSafe": addresses["DataSafe#DataSafe"] }),
    );
    expect(() => loadConfig(write({ ...base, deployment: { ignitionDir: "." } }), { GW_KEY: key })).to.throw(
      ConfigError,
      "records no KeyDirectory",
    );
  });
});

for (const kind of ["sqlite", "postgres"] as const) {
  describe(`gateway store (${kind})`, function () {
    this.timeout(60_000);
    let cluster: PostgresCluster | undefined;
    let dir: string;
    let databaseUrl: string;
    let store: PayloadStore;

    const open = () =>
      openStore(
        kind === "sqlite" ? { kind, path: path.join(dir, "gateway.db") } : { kind, url: databaseUrl, poolSize: 10 },
      );
    const payload = (assetId = id32()): StoredPayload => ({
      assetId,
      issuer: "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
      subjectId: id32(),
      dataType: 8,
      keyId: "0123456789abcdef",
      iv: randomBytes(12),
      sealed: randomBytes(1040),
      uploadedAt: Date.now(),
    });
    const release = (accessId: string) => ({
      accessId,
      assetId: id32(),
      consumer: "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
      transactionHash: id32(),
      blockNumber: 42,
      releasedAt: Date.now(),
    });

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), `datasafe-gw-store-${kind}-`));
      if (kind === "postgres") {
        cluster = await startPostgres();
        databaseUrl = await cluster.createDatabase("gateway_store");
      }
      store = await open();
    });
    after(async () => {
      await store?.close();
      await cluster?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("stores a payload once: a second put leaves the first row as it was", async () => {
      const first = payload();
      expect(await store.putPayload(first)).to.equal("created");
      expect(await store.putPayload({ ...first, sealed: randomBytes(10) })).to.equal("existing");
      const read = await store.getPayload(first.assetId);
      expect(read).to.deep.equal(first);
      expect(await store.getPayload(id32())).to.equal(undefined);
    });

    it("writes an access's release row exactly once, also under 50 concurrent attempts", async () => {
      const accessId = id32();
      expect(await store.isReleased(accessId)).to.equal(false);
      const results = await Promise.all(Array.from({ length: 50 }, () => store.recordRelease(release(accessId))));
      expect(results.filter(Boolean)).to.have.length(1);
      expect(await store.isReleased(accessId)).to.equal(true);
      expect(await store.recordRelease(release(accessId))).to.equal(false);
    });

    it("remembers a signer's nonce until its deadline, then forgets it", async () => {
      const signer = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
      const nonce = id32();
      expect(await store.useNonce(signer, nonce, 1_000)).to.equal(true);
      expect(await store.useNonce(signer, nonce, 1_000)).to.equal(false);
      expect(await store.useNonce("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720", nonce, 1_000)).to.equal(true);
      expect(await store.purgeNonces(999)).to.equal(0);
      expect(await store.purgeNonces(1_001)).to.be.greaterThanOrEqual(2);
      expect(await store.useNonce(signer, nonce, 2_000)).to.equal(true);
    });

    it("keeps everything across a close and reopen (migrations are idempotent)", async () => {
      const kept = payload();
      const accessId = id32();
      await store.putPayload(kept);
      await store.recordRelease(release(accessId));
      await store.close();
      store = await open();
      expect(await store.getPayload(kept.assetId)).to.deep.equal(kept);
      expect(await store.isReleased(accessId)).to.equal(true);
    });

    it("lets one of two processes' stores on the same database release an access, never both", async () => {
      const second = await open();
      try {
        for (let round = 0; round < 20; round++) {
          const accessId = id32();
          const results = await Promise.all([
            store.recordRelease(release(accessId)),
            second.recordRelease(release(accessId)),
            store.recordRelease(release(accessId)),
            second.recordRelease(release(accessId)),
          ]);
          expect(results.filter(Boolean), `round ${round}`).to.have.length(1);
        }
      } finally {
        await second.close();
      }
    });
  });
}
