/**
 * The payload gateway beside the demo's embedded network. The gateway is its own process, started
 * by its documented command (`npm run gateway -- --config FILE`), and knows the chain only over
 * JSON-RPC; the embedded network has no HTTP endpoint, so the demo serves its EIP-1193 provider
 * over loopback HTTP for the gateway to call, as a node's RPC port would.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { hexlify, randomBytes } from "ethers";

import type { GatewayConfigInput } from "../../gateway/config.js";
import { freePort } from "./ports.js";

/** What the demo needs of a Hardhat network connection's provider. */
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface JsonRpcCall {
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

/** Answers one JSON-RPC call through the provider, errors included (code, message, data). */
async function answer(provider: Eip1193, call: JsonRpcCall): Promise<Record<string, unknown>> {
  const id = call.id ?? null;
  if (typeof call.method !== "string") {
    return { jsonrpc: "2.0", id, error: { code: -32600, message: "invalid request: no method" } };
  }
  try {
    const params = Array.isArray(call.params) ? call.params : [];
    return { jsonrpc: "2.0", id, result: await provider.request({ method: call.method, params }) };
  } catch (error) {
    const e = error as { code?: unknown; message?: string; data?: unknown };
    return {
      jsonrpc: "2.0",
      id,
      error: { code: typeof e.code === "number" ? e.code : -32603, message: e.message ?? String(error), data: e.data },
    };
  }
}

/** Serves `provider` as a JSON-RPC endpoint (single and batch calls) on a free loopback port. */
export async function serveJsonRpc(provider: Eip1193): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          res.writeHead(400, { "content-type": "application/json" });
          res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }));
          return;
        }
        // The embedded network answers one call at a time; a batch is answered in order.
        const reply = Array.isArray(body)
          ? await body.reduce<Promise<unknown[]>>(
              async (done, call) => [...(await done), await answer(provider, call as JsonRpcCall)],
              Promise.resolve([]),
            )
          : await answer(provider, body as JsonRpcCall);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify(reply, (_key, value: unknown) =>
            typeof value === "bigint" ? `0x${value.toString(16)}` : value,
          ),
        );
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A gateway process started for the demo; `stop()` ends it and removes its database. */
export interface DemoGateway {
  url: string;
  stop(): Promise<void>;
}

/**
 * Writes a gateway configuration (embedded database in a temporary folder, a fresh at-rest key passed
 * through the environment, never written down) and starts `npm run gateway -- --config FILE`;
 * resolves when its health check answers.
 */
export async function startDemoGateway(options: {
  rpcUrl: string;
  chainId: number;
  addresses: { dataSafe: string; keyDirectory: string };
  /** The catalog's schema documents, so reads that name fields can be served. */
  schemas: unknown[];
}): Promise<DemoGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), "datasafe-demo-gateway-"));
  const port = await freePort();
  writeFileSync(path.join(dir, "schemas.json"), JSON.stringify(options.schemas));
  const config: GatewayConfigInput = {
    listen: { host: "127.0.0.1", port },
    chain: { rpcUrl: options.rpcUrl, chainId: options.chainId, confirmations: 1 },
    deployment: { dataSafe: options.addresses.dataSafe, keyDirectory: options.addresses.keyDirectory },
    database: { kind: "sqlite", path: "gateway.db" },
    atRestKey: { env: "DATASAFE_GATEWAY_AT_REST_KEY" },
    schemas: "schemas.json",
    log: { level: "warn" },
  };
  const configFile = path.join(dir, "gateway.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn("npm", ["run", "--silent", "gateway", "--", "--config", configFile], {
    detached: true,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DATASAFE_GATEWAY_AT_REST_KEY: hexlify(randomBytes(32)).slice(2) },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the gateway exited with code ${child.exitCode} before answering`);
    }
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the gateway did not answer on ${url} within 60 s`);
    }
    await sleep(200);
  }
}
