/**
 * A JSON-RPC proxy in front of a node that behaves like Besu with `--rpc-max-logs-range`: an
 * `eth_getLogs` whose block range spans more blocks than the cap is refused with Besu's error
 * (-32005 "Requested range exceeds maximum RPC range limit"), everything else is forwarded. It
 * records every `eth_getLogs` it sees, and fails chosen HTTP requests the ways real networks do:
 * HTTP 503, HTTP 429, a dropped connection, no answer at all, or a JSON-RPC "limit exceeded".
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { Socket } from "node:net";

/** Besu's error for a range over `--rpc-max-logs-range` (RpcErrorType.EXCEEDS_RPC_MAX_BLOCK_RANGE). */
export const BESU_RANGE_ERROR = { code: -32005, message: "Requested range exceeds maximum RPC range limit" };
/** What Besu and hosted nodes answer when shedding load. */
export const LIMIT_EXCEEDED_ERROR = { code: -32005, message: "limit exceeded" };

/** How an injected failure looks to the client. */
export type InjectedFailure =
  | "unavailable" // HTTP 503
  | "tooManyRequests" // HTTP 429
  | "dropConnection" // the socket closes with no response
  | "noAnswer" // the request is held until the client gives up
  | "limitExceeded" // HTTP 200 with a JSON-RPC -32005 "limit exceeded" for each eth_getLogs
  | "invalidParams"; // HTTP 200 with a JSON-RPC -32602 for each eth_getLogs: not worth retrying

/** An eth_getLogs as the proxy sees it. */
export interface LogQueryShape {
  fromBlock: number;
  toBlock: number;
  /** The event's topic, or null for a query of every event. */
  topic0: string | null;
}

export interface LogQuery extends LogQueryShape {
  /** Forwarded to the node, refused for its range, or failed on purpose. */
  outcome: "forwarded" | "refused" | InjectedFailure;
}

/**
 * Chooses a failure for an HTTP request that carries `eth_getLogs` calls (their ranges given), or
 * none. `requestNumber` counts such requests from 1.
 */
export type FailureRule = (queries: LogQueryShape[], requestNumber: number) => InjectedFailure | undefined;

interface RpcCall {
  jsonrpc: "2.0";
  id: number | string | null;
  method: string;
  params?: unknown[];
}

interface RpcReply {
  jsonrpc: "2.0";
  id: number | string | null;
  result?: unknown;
  error?: { code: number; message: string };
}

export class CappedRpcProxy {
  readonly url: string;
  /** Every eth_getLogs seen, in arrival order. */
  readonly queries: LogQuery[] = [];
  /** Decides injected failures; none by default. */
  failWhen: FailureRule = () => undefined;
  readonly #server: Server;
  readonly #upstream: string;
  readonly #maxRange: number;
  readonly #sockets = new Set<Socket>();
  #requestsWithLogs = 0;

  private constructor(server: Server, url: string, upstream: string, maxRange: number) {
    this.#server = server;
    this.url = url;
    this.#upstream = upstream;
    this.#maxRange = maxRange;
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  /** A proxy to `upstream` on a free loopback port, refusing log queries over `maxRange` blocks. */
  static async start(upstream: string, maxRange = 1_000): Promise<CappedRpcProxy> {
    let proxy: CappedRpcProxy | undefined;
    const server = createServer((request, response) => {
      proxy!.#handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    proxy = new CappedRpcProxy(server, `http://127.0.0.1:${port}`, upstream, maxRange);
    return proxy;
  }

  /** Forgets the queries seen and the failure rule. */
  reset(): void {
    this.queries.length = 0;
    this.failWhen = () => undefined;
    this.#requestsWithLogs = 0;
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

    const logCalls = calls.filter((call) => call.method === "eth_getLogs");
    const ranges = new Map<RpcCall, LogQueryShape>();
    for (const call of logCalls) ranges.set(call, await this.#shapeOf(call));
    const failure = logCalls.length > 0 ? this.failWhen([...ranges.values()], ++this.#requestsWithLogs) : undefined;

    if (failure !== undefined) {
      for (const range of ranges.values()) this.queries.push({ ...range, outcome: failure });
      switch (failure) {
        case "unavailable":
          response.writeHead(503, { "content-type": "text/plain" }).end("Service Unavailable");
          return;
        case "tooManyRequests":
          response.writeHead(429, { "content-type": "text/plain" }).end("Too Many Requests");
          return;
        case "dropConnection":
          request.socket.destroy();
          return;
        case "noAnswer":
          return; // held until the client times out or the proxy closes
        case "limitExceeded":
        case "invalidParams":
          break;
      }
    }

    const replies = new Map<RpcCall, RpcReply>();
    for (const [call, range] of ranges) {
      const error =
        failure === "limitExceeded"
          ? LIMIT_EXCEEDED_ERROR
          : failure === "invalidParams"
            ? { code: -32602, message: "Invalid params: bad filter" }
            : range.toBlock - range.fromBlock + 1 > this.#maxRange
              ? BESU_RANGE_ERROR
              : undefined;
      if (error !== undefined) {
        replies.set(call, { jsonrpc: "2.0", id: call.id, error });
        if (failure === undefined) this.queries.push({ ...range, outcome: "refused" });
      } else {
        this.queries.push({ ...range, outcome: "forwarded" });
      }
    }
    const forward = calls.filter((call) => !replies.has(call));
    if (forward.length > 0) {
      const answered = (await this.#send(forward)) as RpcReply[];
      forward.forEach((call) =>
        replies.set(
          call,
          answered.find((reply) => reply.id === call.id)!,
        ),
      );
    }
    const out = calls.map((call) => replies.get(call));
    response
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify(Array.isArray(body) ? out : out[0]));
  }

  /** The numeric range of an eth_getLogs, tags resolved on the node as Besu resolves them, and its event. */
  async #shapeOf(call: RpcCall): Promise<LogQueryShape> {
    const filter = (call.params?.[0] ?? {}) as { fromBlock?: string; toBlock?: string; topics?: unknown[] };
    const number = async (tag: string | undefined): Promise<number> => {
      if (tag === undefined || tag === "latest" || tag === "safe" || tag === "finalized" || tag === "pending") {
        const [reply] = (await this.#send([{ jsonrpc: "2.0", id: 0, method: "eth_blockNumber", params: [] }])) as {
          result: string;
        }[];
        return Number(reply.result);
      }
      return tag === "earliest" ? 0 : Number(tag);
    };
    const topic0 = filter.topics?.[0];
    return {
      fromBlock: await number(filter.fromBlock),
      toBlock: await number(filter.toBlock),
      topic0: typeof topic0 === "string" ? topic0 : null,
    };
  }

  async #send(calls: RpcCall[]): Promise<unknown[]> {
    const response = await fetch(this.#upstream, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(calls),
    });
    return (await response.json()) as unknown[];
  }
}
