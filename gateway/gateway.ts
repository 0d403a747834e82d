/**
 * Starts a gateway from a resolved configuration: checks the node serves the configured chain,
 * opens (and migrates) the database, and serves HTTP. Logs are JSON lines on stdout.
 */
import cluster from "node:cluster";

import { type ServerType, serve } from "@hono/node-server";
import { FetchRequest, JsonRpcProvider, Network } from "ethers";
import { pino } from "pino";

import { AtRestCipher } from "./at-rest.js";
import { ChainView } from "./chain.js";
import { ConfigError, type ResolvedConfig } from "./config.js";
import { GatewayJsonRpcProvider } from "./rpc.js";
import { createApp } from "./server.js";
import { DeliveryService } from "./service.js";
import { signatureBackend } from "./signatures.js";
import { type PayloadStore, openStore } from "./store/index.js";

const NONCE_PURGE_MS = 60_000;

/** A running gateway. */
export interface RunningGateway {
  /** The address it listens on, e.g. `http://127.0.0.1:8787`. */
  url: string;
  close(): Promise<void>;
}

/** Starts a gateway from a resolved configuration. */
export async function startGateway(config: ResolvedConfig): Promise<RunningGateway> {
  // Synchronous writes: a release's or refusal's line is out before its answer (pino's default
  // buffers and writes later, so a line could trail its response or die with a killed process).
  const logger = pino(
    {
      level: config.log.level,
      base: { service: "datasafe-gateway", ...(cluster.isWorker ? { worker: process.pid } : {}) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
  const request = new FetchRequest(config.chain.rpcUrl);
  request.timeout = 10_000;
  const probe = new JsonRpcProvider(request, undefined, { staticNetwork: false });
  const chainId = (await probe.getNetwork()).chainId;
  probe.destroy();
  if (config.chain.chainId !== undefined && BigInt(config.chain.chainId) !== chainId) {
    throw new ConfigError(`chain.chainId: the node at ${config.chain.rpcUrl} serves chain ${chainId}`);
  }
  // A fixed network (no chain-id probe per call); calls made in the same tick share one HTTP batch.
  const provider = new GatewayJsonRpcProvider(request, Network.from(chainId), {
    staticNetwork: true,
    batchStallTime: 0,
    batchMaxCount: 50,
    cacheTimeout: -1,
  });
  const chain = new ChainView({
    provider,
    dataSafe: config.addresses.dataSafe,
    keyDirectory: config.addresses.keyDirectory,
    confirmations: config.chain.confirmations,
    headCacheMs: config.chain.headCacheMs,
  });
  await chain.init();

  let store: PayloadStore | undefined;
  try {
    store = await openStore(config.database);
    const service = new DeliveryService({
      chain,
      store,
      cipher: new AtRestCipher(config.atRestKey),
      chainId,
      schemas: config.schemas,
      maxSignatureLifetime: config.limits.maxSignatureLifetime,
    });
    const app = createApp({
      service,
      logger,
      maxBodyBytes: config.limits.maxBodyBytes,
      health: async () => ({
        status: "ok",
        chainId: chainId.toString(),
        dataSafe: config.addresses.dataSafe,
        confirmedBlock: await chain.confirmedBlock(),
        database: store!.kind,
      }),
    });
    const purge = setInterval(() => {
      service.purgeNonces().catch((error) => logger.warn({ event: "purge-failed", err: error }, "purge"));
    }, NONCE_PURGE_MS);
    purge.unref();

    const { server, port } = await listen(app.fetch, config.listen.host, config.listen.port);
    const url = `http://${config.listen.host.includes(":") ? `[${config.listen.host}]` : config.listen.host}:${port}`;
    logger.info(
      {
        event: "started",
        url,
        chainId: chainId.toString(),
        dataSafe: config.addresses.dataSafe,
        keyDirectory: config.addresses.keyDirectory,
        confirmations: config.chain.confirmations,
        database: store.kind,
        atRestKey: config.atRestKeySource,
        schemas: [...config.schemas.keys()],
        signatures: signatureBackend,
      },
      "gateway started",
    );
    const opened = store;
    return {
      url,
      async close() {
        clearInterval(purge);
        // Stop accepting, finish requests in flight, and drop idle keep-alive connections, which
        // would otherwise hold the close open until their clients hang up.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        if ("closeIdleConnections" in server) server.closeIdleConnections();
        await closed;
        await opened.close();
        provider.destroy();
        logger.info({ event: "stopped" }, "gateway stopped");
      },
    };
  } catch (error) {
    await store?.close();
    provider.destroy();
    throw error;
  }
}

function listen(
  fetch: Parameters<typeof serve>[0]["fetch"],
  hostname: string,
  port: number,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, (info) => resolve({ server, port: info.port }));
    server.once("error", reject);
  });
}
