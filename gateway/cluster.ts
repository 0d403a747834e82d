/**
 * Several gateway processes on one port (node:cluster): the primary migrates the database once,
 * forks `workers` processes that each run a whole gateway (its own chain reads, memo and database
 * connections) and share the listening socket, replaces a worker that dies, and stops them all on
 * SIGTERM/SIGINT. Nothing is shared between workers but the database, which is what makes a release
 * happen once: the release row's primary key (see store/), not any memory of a process.
 */
import cluster, { type Worker } from "node:cluster";
import { setTimeout as sleep } from "node:timers/promises";

import { pino } from "pino";

import { ConfigError, type ResolvedConfig } from "./config.js";
import type { RunningGateway } from "./gateway.js";
import { openStore } from "./store/index.js";

/** How long a worker has to finish its requests and close on stop before it is killed. */
const STOP_GRACE_MS = 10_000;
/** Pause before replacing a worker that died, so a worker that cannot start does not spin. */
const RESPAWN_DELAY_MS = 1_000;

/** A worker could not start (its reason: the chain id, the database, the port…). */
export class WorkerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerStartError";
  }
}

type WorkerMessage = { type: "ready"; url: string } | { type: "failed"; error: string };

/**
 * Runs the primary: migrates, forks `config.workers` workers, and resolves once all of them serve.
 * @throws if a worker fails to start (the others are stopped)
 */
export async function runPrimary(config: ResolvedConfig): Promise<{ url: string; stop(): Promise<void> }> {
  const logger = pino({ level: config.log.level, base: { service: "datasafe-gateway", role: "primary" } });
  // Migrate once, here: workers opening a new database together would race to create it.
  await (await openStore(config.database)).close();

  let stopping = false;
  const fork = (): Promise<{ worker: Worker; url: string }> => {
    const worker = cluster.fork();
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(new WorkerStartError(`gateway worker ${worker.process.pid} exited while starting (${signal ?? code})`));
      worker.once("exit", onExit);
      worker.on("message", (message: WorkerMessage) => {
        if (message.type === "failed") reject(new WorkerStartError(message.error));
        if (message.type !== "ready") return;
        worker.off("exit", onExit);
        worker.once("exit", (code, signal) => {
          if (stopping) return;
          logger.error({ event: "worker-exited", pid: worker.process.pid, code, signal }, "worker exited");
          void respawn();
        });
        resolve({ worker, url: message.url });
      });
    });
  };

  // A replacement that cannot start (the node is down, …) is tried again until it can.
  const respawn = async (): Promise<void> => {
    await sleep(RESPAWN_DELAY_MS);
    if (stopping) return;
    await fork().catch((error) => {
      logger.error({ event: "worker-failed", err: error }, "a replacement worker did not start");
      return respawn();
    });
  };

  const stopAll = async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    await Promise.all(
      workers.map(async (worker) => {
        if (worker.isDead()) return;
        const exited = new Promise((resolve) => worker.once("exit", resolve));
        // It may be exiting already (a signal to the whole process group): then the channel is closed.
        worker.on("error", () => undefined);
        if (worker.isConnected()) worker.send({ type: "stop" });
        const timer = setTimeout(() => worker.process.kill("SIGKILL"), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  };

  let started: { worker: Worker; url: string }[];
  try {
    started = await Promise.all(Array.from({ length: config.workers }, fork));
  } catch (error) {
    await stopAll();
    throw error;
  }
  const url = started[0].url;
  logger.info(
    { event: "started", url, workers: started.map(({ worker }) => worker.process.pid), pid: process.pid },
    "gateway started",
  );
  return {
    url,
    async stop() {
      await stopAll();
      logger.info({ event: "stopped" }, "gateway stopped");
    },
  };
}

/**
 * Runs a worker: starts a gateway, tells the primary, and closes it when the primary says stop
 * (or is gone).
 */
export async function runWorker(start: () => Promise<RunningGateway>): Promise<void> {
  let gateway: RunningGateway;
  try {
    gateway = await start();
  } catch (error) {
    const reason = error instanceof ConfigError ? error.message : String((error as Error).stack);
    process.send?.({ type: "failed", error: reason } satisfies WorkerMessage);
    throw error;
  }
  let closing: Promise<void> | undefined;
  const stop = () => {
    closing ??= gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("message", (message: { type?: string }) => message.type === "stop" && stop());
  // The primary died (or was killed -9): do not linger as an orphan serving the port.
  process.on("disconnect", stop);
  // A signal to the process group (Ctrl-C, a service manager) reaches the workers too.
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.send?.({ type: "ready", url: gateway.url } satisfies WorkerMessage);
}
