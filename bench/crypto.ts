/**
 * Benchmark of the SDK's cipher suites beside Node's built-in AES-256-GCM (node:crypto), the floor,
 * in the same run: encrypt and decrypt MB/s (MB = 2^20 bytes) and operations per second at 1 KB,
 * 64 KB and 1 MB payloads. Every suite's encrypt includes its public-key step (HPKE encapsulation, SM2
 * key wrap); AES-256-GCM is symmetric only. The cells run round-robin for ROUNDS rounds of about
 * CELL_SECONDS each (at least 3, at most 5,000 operations), and each figure is the median round, so
 * that a burst of load from other processes moves one round, not the figure. Prints a table and
 * saves bench/results/crypto.json.
 *
 *   npx tsx bench/crypto.ts
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { KeySuite, cipherSuite } from "../sdk/crypto/index.js";

const RESULTS = fileURLToPath(new URL("./results/crypto.json", import.meta.url));
const SIZES = [1024, 64 * 1024, 1024 * 1024];
const ROUNDS = 5;
const CELL_SECONDS = Number(process.env.BENCH_CRYPTO_CELL_SECONDS ?? 0.25);
const MIN_OPS = 3;
const MAX_OPS = 5_000;
const MB = 1024 * 1024;

export interface Row {
  /** `AES-256-GCM (node:crypto)` or a suite's name. */
  suite: string;
  operation: "encrypt" | "decrypt";
  payloadBytes: number;
  /** Operations timed, over all rounds. */
  operations: number;
  /** Seconds timed, over all rounds. */
  seconds: number;
  /** Median over the rounds. */
  mbPerSecond: number;
  /** Median over the rounds. */
  operationsPerSecond: number;
}

interface Contender {
  suite: string;
  /** Prepares one payload size: returns its encrypt and decrypt of one message. */
  prepare(plaintext: Uint8Array): Promise<{ encrypt(): Promise<unknown>; decrypt(): Promise<unknown> }>;
}

const AAD = new TextEncoder().encode("access 0x5f0ad3c3");

const aesGcm: Contender = {
  suite: "AES-256-GCM (node:crypto)",
  async prepare(plaintext) {
    const key = randomBytes(32);
    const encrypt = async () => {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, nonce).setAAD(AAD);
      return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    };
    const sealed = await encrypt();
    return {
      encrypt,
      async decrypt() {
        const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12)).setAAD(AAD);
        decipher.setAuthTag(sealed.subarray(sealed.length - 16));
        return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
      },
    };
  },
};

function suiteContender(suite: KeySuite): Contender {
  const cs = cipherSuite(suite);
  return {
    suite: cs.name,
    async prepare(plaintext) {
      const { publicKey, privateKey } = await cs.generateKeyPair();
      const envelope = await cs.seal(publicKey, plaintext, AAD);
      return {
        encrypt: () => cs.seal(publicKey, plaintext, AAD),
        decrypt: () => cs.open(privateKey, envelope, AAD),
      };
    },
  };
}

/** Times `operation` for about CELL_SECONDS: operations done and seconds taken. */
async function measure(operation: () => Promise<unknown>): Promise<{ operations: number; seconds: number }> {
  let operations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (operations < MAX_OPS && (operations < MIN_OPS || elapsed < CELL_SECONDS * 1000)) {
    await operation();
    operations++;
    elapsed = performance.now() - start;
  }
  return { operations, seconds: elapsed / 1000 };
}

/** Runs the benchmark and returns one row per suite, operation and payload size. */
export async function benchCrypto(): Promise<Row[]> {
  const contenders = [aesGcm, suiteContender(KeySuite.X25519Hpke), suiteContender(KeySuite.Sm2)];
  const cells: { suite: string; operation: Row["operation"]; payloadBytes: number; run: () => Promise<unknown> }[] = [];
  for (const payloadBytes of SIZES) {
    const plaintext = randomBytes(payloadBytes);
    for (const contender of contenders) {
      const { encrypt, decrypt } = await contender.prepare(plaintext);
      // Warm-up: first-call compilation, key import and the SM2 recipient precomputation stay out.
      for (let i = 0; i < 2; i++) await Promise.all([encrypt(), decrypt()]);
      cells.push({ suite: contender.suite, operation: "encrypt", payloadBytes, run: encrypt });
      cells.push({ suite: contender.suite, operation: "decrypt", payloadBytes, run: decrypt });
    }
  }
  const rounds = cells.map(() => [] as { operations: number; seconds: number }[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, cell] of cells.entries()) rounds[index].push(await measure(cell.run));
  }
  return cells.map(({ suite, operation, payloadBytes }, index) => {
    const timed = rounds[index];
    const rate = median(timed.map(({ operations, seconds }) => operations / seconds));
    return {
      suite,
      operation,
      payloadBytes,
      operations: timed.reduce((sum, t) => sum + t.operations, 0),
      seconds: round(
        timed.reduce((sum, t) => sum + t.seconds, 0),
        3,
      ),
      mbPerSecond: round((rate * payloadBytes) / MB, 2),
      operationsPerSecond: round(rate, 1),
    };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The rows as a fixed-width table, one line per suite and size, encrypt and decrypt side by side. */
export function formatCryptoTable(rows: Row[]): string {
  const header = ["payload", "suite", "encrypt MB/s", "decrypt MB/s", "encrypt op/s", "decrypt op/s"];
  const lines = [header];
  for (const row of rows.filter((r) => r.operation === "encrypt")) {
    const decrypt = rows.find(
      (r) => r.operation === "decrypt" && r.suite === row.suite && r.payloadBytes === row.payloadBytes,
    );
    lines.push([
      sizeLabel(row.payloadBytes),
      row.suite,
      row.mbPerSecond.toFixed(2),
      decrypt?.mbPerSecond.toFixed(2) ?? "-",
      row.operationsPerSecond.toFixed(0),
      decrypt?.operationsPerSecond.toFixed(0) ?? "-",
    ]);
  }
  const widths = header.map((_, column) => Math.max(...lines.map((line) => line[column].length)));
  return lines
    .map((line) =>
      line.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  "),
    )
    .join("\n");
}

function sizeLabel(bytes: number): string {
  return bytes >= MB ? `${bytes / MB} MB` : `${bytes / 1024} KB`;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const rows = await benchCrypto();
  console.log(formatCryptoTable(rows));
  mkdirSync(dirname(RESULTS), { recursive: true });
  const machine = { node: process.version, cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length };
  const settings = { rounds: ROUNDS, cellSeconds: CELL_SECONDS, loadAverage: loadavg()[0] };
  writeFileSync(RESULTS, JSON.stringify({ date: new Date().toISOString(), machine, settings, rows }, null, 2) + "\n");
  console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s; saved ${RESULTS}`);
}
