import type { IncomingMessage } from "node:http";

import { type Context, Hono } from "hono";
import type { Logger } from "pino";
import { z } from "zod";

import { GATEWAY_ROUTES } from "../sdk/delivery-protocol.js";
import { isHexString } from "ethers";
import { Refusal, problemResponse } from "./problems.js";
import type { DeliveryService } from "./service.js";

/**
 * The gateway's HTTP API: three POST routes and a health check, bodies validated at the edge (one
 * zod schema each), every refusal mapped to `application/problem+json` in `onError`, and one log
 * line per upload, release and refusal.
 */

const hex32 = z.string().refine((value) => isHexString(value, 32), "expected 32 bytes as 0x-hex");
// The shape only: the service checksums it once (`getAddress`), a bad checksum is `invalid-request` there.
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected an address");
const signature = z.string().refine((value) => isHexString(value) && value.length >= 132, "expected a signature");
const deadline = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const UploadSchema = z.strictObject({
  assetId: hex32,
  issuer: address,
  subjectId: hex32,
  dataType: z
    .number()
    .int()
    .min(1)
    .max(2 ** 32 - 1),
  scheme: z.enum(["record", "fields"]),
  record: z.unknown().refine((value) => value !== undefined, "required"),
  salt: hex32,
  deadline,
  signature,
});

const HolderFetchSchema = z.strictObject({
  account: address,
  assetId: hex32,
  subjectId: hex32,
  nonce: hex32,
  deadline,
  signature,
});

const ConsumerFetchSchema = z.strictObject({
  account: address,
  accessId: hex32,
  transactionHash: hex32,
  assetId: hex32,
  deadline,
  signature,
});

export interface ServerOptions {
  service: DeliveryService;
  logger: Logger;
  maxBodyBytes: number;
  /** What `/healthz` reports besides the confirmed block. */
  health: () => Promise<Record<string, unknown>>;
}

export function createApp({ service, logger, maxBodyBytes, health }: ServerOptions): Hono {
  const app = new Hono();
  const parse = <S extends z.ZodType>(c: Context, schema: S) => parseBody(c, schema, maxBodyBytes);

  app.get(GATEWAY_ROUTES.health, async (c) => c.json(await health()));

  app.post(GATEWAY_ROUTES.upload, async (c) => {
    const started = performance.now();
    const body = await parse(c, UploadSchema);
    const { log, ...result } = await service.upload(body);
    logger.info({ event: "upload", ...result, ...log, ms: elapsed(started) }, "upload");
    return c.json(result, result.stored === "created" ? 201 : 200);
  });

  app.post(GATEWAY_ROUTES.holderRelease, async (c) => {
    const started = performance.now();
    const body = await parse(c, HolderFetchSchema);
    const { release, log } = await service.fetchAsHolder(body);
    logger.info(
      { event: "release", kind: "holder", assetId: release.assetId, ...log, ms: elapsed(started) },
      "release",
    );
    return c.json(release);
  });

  app.post(GATEWAY_ROUTES.consumerRelease, async (c) => {
    const started = performance.now();
    const body = await parse(c, ConsumerFetchSchema);
    const { release, log } = await service.fetchAsConsumer(body);
    logger.info(
      { event: "release", kind: "consumer", assetId: release.assetId, ...log, ms: elapsed(started) },
      "release",
    );
    return c.json(release);
  });

  app.notFound((c) => {
    throw new Refusal("not-found", `${c.req.method} ${c.req.path}`);
  });

  // The one place a refusal becomes a response.
  app.onError((error, c) => {
    const refusal = error instanceof Refusal ? error : new Refusal("internal-error", "the gateway failed; see its log");
    const line = {
      event: "refusal",
      code: refusal.code,
      status: refusal.status,
      route: c.req.path,
      detail: refusal.detail,
      ...refusal.extensions,
    };
    if (refusal.status >= 500) logger.error({ ...line, err: error }, "refusal");
    else logger.warn(line, "refusal");
    return problemResponse(refusal, c.req.path);
  });

  return app;
}

/** The body as JSON, validated by `schema`; at most `maxBytes` of it are read. */
async function parseBody<S extends z.ZodType>(c: Context, schema: S, maxBytes: number): Promise<z.output<S>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/json")) throw new Refusal("invalid-request", "expected application/json");
  let body: unknown;
  try {
    body = JSON.parse((await readBody(c, maxBytes)).toString("utf8"));
  } catch (error) {
    if (error instanceof Refusal) throw error;
    throw new Refusal("invalid-request", "the body is not JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Refusal("invalid-request", `${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * The request body, refused past `maxBytes` (by its declared length before reading, or as it
 * arrives). Read from Node's request itself (`c.env.incoming`, which @hono/node-server passes
 * through): a web `Request` built around it, its stream and reader, cost more than the rest of the
 * route's parsing.
 */
async function readBody(c: Context, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new Refusal("payload-too-large", `the gateway accepts bodies up to ${maxBytes} bytes`);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming === undefined) {
    const bytes = Buffer.from(await c.req.arrayBuffer());
    if (bytes.length > maxBytes) throw tooLarge();
    return bytes;
  }
  const declared = incoming.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
