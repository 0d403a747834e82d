import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { freePort } from "./processes.js";

/*
 * A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` and `pg_ctl` from Debian's
 * `postgresql` package in a temporary directory, listening on a free loopback port, stopped and
 * deleted by `stop()`. PostgreSQL refuses to run as root, so under root the cluster belongs to the
 * `postgres` user the package creates. Only loopback connections are accepted (trust auth).
 */

const run = promisify(execFile);

/** A running throwaway cluster. */
export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  url: string;
  port: number;
  /** The server's major version, e.g. 15. */
  version: number;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and deletes its files. Safe to call twice. */
  stop(): Promise<void>;
}

/** The directory of `initdb` and `pg_ctl`: `$PG_BIN`, else the newest `/usr/lib/postgresql/N/bin`. */
export function postgresBinDir(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? path.join(root, versions[0], "bin") : undefined;
}

/**
 * Starts a fresh cluster.
 * @throws if the PostgreSQL binaries are not installed (`apt-get install -y postgresql`)
 */
export async function startPostgres(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (bin === undefined) {
    throw new Error("PostgreSQL is not installed: apt-get update && apt-get install -y postgresql (or set PG_BIN)");
  }
  const asRoot = userInfo().uid === 0;
  const base = mkdtempSync(path.join(tmpdir(), "datasafe-pg-"));
  const dataDir = path.join(base, "data");
  const socketDir = path.join(base, "socket");
  mkdirSync(dataDir);
  mkdirSync(socketDir);
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    for (const dir of [base, dataDir, socketDir]) chownSync(dir, Number(stdout), Number(gid));
  }
  chmodSync(dataDir, 0o700);
  const asOwner = (file: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", path.join(bin, file), ...args]) : run(path.join(bin, file), args);

  await asOwner("initdb", ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions"]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${socketDir}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=on",
    "-c max_connections=50",
  ].join(" ");
  await asOwner("pg_ctl", [
    "-D",
    dataDir,
    "-o",
    options,
    "-l",
    path.join(base, "server.log"),
    "-w",
    "-t",
    "60",
    "start",
  ]);

  const version = Number(readFileSync(path.join(dataDir, "PG_VERSION"), "utf8").trim());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    port,
    version,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await run(path.join(bin, "psql"), [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-c",
        `CREATE DATABASE ${name}`,
      ]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await asOwner("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
}
