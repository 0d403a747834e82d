import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import { z } from "zod";

import { GATEWAY_ROUTES } from "../sdk/delivery-protocol.js";
import { isAddress, isHexString } from "ethers";
import { Refusal, problemResponse } from "./problems.js";
import type { DeliveryService } from "./service.js";

/**
 * The gateway's HTTP API: three POST routes and a health check, bodies validated at the edge (one
 * zod schema each), every refusal mapped to `application/problem+json` in `onError`, and one log
 * line per upload, release and refusal.
 */

const hex32 = z.string().refine((value) => isHexString(value, 32), "expected 32 bytes as 0x-hex");
const address = z.string().refine((value) => isAddress(value), "expected an address");
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

  app.use(
    "*",
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new Refusal("payload-too-large", `the gateway accepts bodies up to ${maxBodyBytes} bytes`);
      },
    }),
  );

  app.get(GATEWAY_ROUTES.health, async (c) => c.json(await health()));

  app.post(GATEWAY_ROUTES.upload, async (c) => {
    const started = performance.now();
    const body = await parse(c.req.raw, UploadSchema);
    const { log, ...result } = await service.upload(body);
    logger.info({ event: "upload", ...result, ...log, ms: elapsed(started) }, "upload");
    return c.json(result, result.stored === "created" ? 201 : 200);
  });

  app.post(GATEWAY_ROUTES.holderRelease, async (c) => {
    const started = performance.now();
    const body = await parse(c.req.raw, HolderFetchSchema);
    const { release, log } = await service.fetchAsHolder(body);
    logger.info(
      { event: "release", kind: "holder", assetId: release.assetId, ...log, ms: elapsed(started) },
      "release",
    );
    return c.json(release);
  });

  app.post(GATEWAY_ROUTES.consumerRelease, async (c) => {
    const started = performance.now();
    const body = await parse(c.req.raw, ConsumerFetchSchema);
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

async function parse<S extends z.ZodType>(request: Request, schema: S): Promise<z.output<S>> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) throw new Refusal("invalid-request", "expected application/json");
  let body: unknown;
  try {
    body = await request.json();
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

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
