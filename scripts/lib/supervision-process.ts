/**
 * The supervision process (the Ponder indexer serving the supervision API and the dashboard) as
 * the supervision demo and benchmark start it: `npm run indexer -- --port P --schema S` in its own
 * process group, its output in a log file, with the environment the API contract names
 * (/work/supervision-api.md): DATASAFE_RPC_URL, DATASAFE_CHAIN_ID, DATASAFE_ADDRESSES, and either
 * DATABASE_URL (PostgreSQL) or DATASAFE_INDEXER_DIR (embedded PGlite in a folder of its own).
 *
 * The tests have their own copy of this plumbing (test/helpers/supervision.ts, processes.ts); the
 * scripts do not import test helpers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import type { Status } from "../../sdk/supervision.js";
import { freePort } from "./ports.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

export interface SupervisionProcessOptions {
  rpcUrl: string;
  chainId: bigint | number;
  addresses: { dataSafe: string; dataCatalog: string; keyDirectory: string; accessManager: string; startBlock: number };
  /** PostgreSQL; absent = embedded PGlite in `dir`. */
  databaseUrl?: string;
  /** Ponder's schema name (a fresh one per run on PostgreSQL). */
  schema: string;
  /** Folder for the PGlite database and the log. */
  dir: string;
  port?: number;
}

export interface SupervisionProcess {
  url: string;
  log: string;
  /** Resolves to the exit code when the process ends. */
  exited: Promise<number | null>;
  /** The last lines of its log. */
  tail(chars?: number): string;
  /** GET /api/status, or undefined while the process does not answer it. */
  status(): Promise<Status | undefined>;
  /**
   * Waits until the API says `ready` with `block` indexed; `onStatus` sees each status read. Throws
   * if the process exits or `timeoutMs` passes.
   */
  waitForBlock(block: number, options?: { timeoutMs?: number; onStatus?: (status: Status) => void }): Promise<Status>;
  /** SIGTERM to the process group, SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL to the process group at once (for an `exit` handler, which cannot wait). */
  kill(): void;
}

export async function startSupervisionProcess(options: SupervisionProcessOptions): Promise<SupervisionProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const log = path.join(options.dir, `supervision-${port}.log`);
  const fd = openSync(log, "a");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATASAFE_RPC_URL: options.rpcUrl,
    DATASAFE_CHAIN_ID: String(options.chainId),
    DATASAFE_ADDRESSES: JSON.stringify(options.addresses),
    DATASAFE_INDEXER_DIR: path.join(options.dir, "indexer"),
    DATABASE_SCHEMA: options.schema,
  };
  delete env.DATASAFE_DEPLOYMENT_DIR;
  if (options.databaseUrl === undefined) delete env.DATABASE_URL;
  else env.DATABASE_URL = options.databaseUrl;
  const child: ChildProcess = spawn(
    "npm",
    ["run", "--silent", "indexer", "--", "--port", String(port), "--schema", options.schema],
    { cwd: ROOT, detached: true, stdio: ["ignore", fd, fd], env },
  );
  closeSync(fd);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const tail = (chars = 3_000) => {
    try {
      return readFileSync(log, "utf8").slice(-chars);
    } catch {
      return "";
    }
  };
  const status = async (): Promise<Status | undefined> => {
    try {
      const response = await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(5_000) });
      return response.ok ? ((await response.json()) as Status) : undefined;
    } catch {
      return undefined;
    }
  };
  const stop = async () => {
    if (exitCode !== undefined || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    const ended = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!ended) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
      await exited;
    }
  };
  const waitForBlock: SupervisionProcess["waitForBlock"] = async (block, { timeoutMs = 600_000, onStatus } = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`the supervision process exited (${exitCode}):\n${tail()}`);
      const s = await status();
      if (s !== undefined) {
        onStatus?.(s);
        if (s.ready && s.indexedBlock >= block) return s;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the supervision process did not index block ${block} within ${timeoutMs / 1000} s:\n${tail()}`,
        );
      }
      await sleep(250);
    }
  };
  const kill = () => {
    if (exitCode !== undefined || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
  };
  return { url, log, exited, tail, status, waitForBlock, stop, kill };
}
