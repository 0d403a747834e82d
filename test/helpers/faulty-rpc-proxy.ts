/**
 * A JSON-RPC proxy in front of a node that fails chosen calls the ways a network does, before or
 * after the node saw them: a transaction the node accepted whose answer is lost is the case a
 * sender must not take for a lost transaction. Every call is forwarded one HTTP request at a time,
 * in arrival order; batches are split so each call can fail on its own.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { Socket } from "node:net";

/** How a failed call looks to the client, and whether the node saw it. */
export type Fault =
  | "dropBefore" // the connection closes; the node never saw the call
  | "dropAfter" // the node handled the call; the connection closes before the answer
  | "unavailableBefore" // HTTP 503; the node never saw the call
  | "unavailableAfter"; // the node handled the call; HTTP 503 instead of its answer

interface RpcCall {
  jsonrpc: "2.0";
  id: number | string | null;
  method: string;
  params?: unknown[];
}

/** Chooses a fault for the `count`-th call (from 1) of `method`, or none. */
export type FaultRule = (method: string, count: number) => Fault | undefined;

export class FaultyRpcProxy {
  readonly url: string;
  /** Faults injected, in order, with the method and its count. */
  readonly injected: { method: string; count: number; fault: Fault }[] = [];
  failWhen: FaultRule = () => undefined;
  readonly #server: Server;
  readonly #upstream: string;
  readonly #counts = new Map<string, number>();
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, url: string, upstream: string) {
    this.#server = server;
    this.url = url;
    this.#upstream = upstream;
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  static async start(upstream: string): Promise<FaultyRpcProxy> {
    let proxy: FaultyRpcProxy | undefined;
    const server = createServer((request, response) => {
      proxy!.#handle(request, response).catch((error: unknown) => response.writeHead(500).end(String(error)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    proxy = new FaultyRpcProxy(server, `http://127.0.0.1:${port}`, upstream);
    return proxy;
  }

  /** Counts calls from zero again (the fault rule sees counts from now on). */
  startCounting(): void {
    this.#counts.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RpcCall | RpcCall[];
    const calls = Array.isArray(body) ? body : [body];
    const replies: unknown[] = [];
    let fault: Fault | undefined;
    for (const call of calls) {
      const count = (this.#counts.get(call.method) ?? 0) + 1;
      this.#counts.set(call.method, count);
      const chosen = fault === undefined ? this.failWhen(call.method, count) : undefined;
      if (chosen !== undefined) {
        this.injected.push({ method: call.method, count, fault: chosen });
        fault = chosen;
        if (chosen === "dropBefore" || chosen === "unavailableBefore") break;
      }
      replies.push(await this.#send(call));
      if (fault !== undefined) break;
    }
    if (fault === "dropBefore" || fault === "dropAfter") {
      request.socket.destroy();
      return;
    }
    if (fault !== undefined) {
      response.writeHead(503, { "content-type": "text/plain" }).end("Service Unavailable");
      return;
    }
    response
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify(Array.isArray(body) ? replies : replies[0]));
  }

  async #send(call: RpcCall): Promise<unknown> {
    const response = await fetch(this.#upstream, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(call),
    });
    return response.json();
  }
}
