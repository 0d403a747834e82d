import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

import { sign, verify } from "hono/jwt";
import { type Address, type Hex, type PublicClient, getAddress, isAddressEqual, parseAbi, zeroAddress } from "viem";
import { parseSiweMessage, validateSiweMessage, verifySiweMessage } from "viem/siwe";

import type { Session, SessionRole } from "../../../sdk/supervision.js";
import { Refusal } from "./problems.js";

/**
 * Sign-in (EIP-4361) and sessions.
 *
 * Nonces are stateless: `expiry (10 hex) | random (24 hex) | HMAC (32 hex)` under a key derived from
 * the session secret, so issuing one stores nothing (a flood of `GET /nonce` costs no memory) and a
 * nonce this process did not issue, or one past its expiry, is refused without a lookup. Single use
 * needs memory: a nonce is remembered from its first successful sign-in until it expires, in this
 * process (the API is one process: Ponder's, which owns the embedded database). A restart forgets
 * used nonces, but only unexpired ones matter and a restart with a new random secret makes them all
 * invalid anyway; with a fixed `DATASAFE_SESSION_SECRET` the replay window after a restart is the
 * nonce lifetime (5 minutes).
 *
 * A session is an HS256 JWT signed with the session secret: role, address, subject (holders), and a
 * short expiry (15 minutes). Roles are checked on chain at sign-in only; the short expiry bounds how
 * long a suspended regulator or a rotated-away controller keeps reading.
 */

/** MemberKind.Regulator in contracts/Common.sol. */
const REGULATOR_KIND = 3;

export const AUTH_ABI = parseAbi([
  "function isActiveMember(address account, uint8 kind) view returns (bool)",
  "function controllerOf(bytes32 subjectId) view returns (address)",
]);

/** What sign-in asks the chain. */
export interface AuthChain {
  chainId: number;
  /** Whether `account` is an active member of kind Regulator now. */
  isActiveRegulator(account: Address): Promise<boolean>;
  /** The subject's controller now (the zero address for an unknown subject). */
  controllerOf(subjectId: Hex): Promise<Address>;
  /** Whether `signature` is `address`'s over the EIP-191 message (EOA or EIP-1271 wallet). */
  verifySignature(message: string, signature: Hex): Promise<boolean>;
}

/** The chain side of sign-in through a viem public client (Ponder's `publicClients[chain]`). */
export function authChainOf(client: PublicClient, chainId: number, dataSafe: Address): AuthChain {
  return {
    chainId,
    isActiveRegulator: (account) =>
      client.readContract({
        address: dataSafe,
        abi: AUTH_ABI,
        functionName: "isActiveMember",
        args: [account, REGULATOR_KIND],
      }),
    controllerOf: (subjectId) =>
      client.readContract({ address: dataSafe, abi: AUTH_ABI, functionName: "controllerOf", args: [subjectId] }),
    verifySignature: (message, signature) => verifySiweMessage(client, { message, signature }),
  };
}

export interface AuthOptions {
  /** HMAC key of sessions and nonces (DATASAFE_SESSION_SECRET), at least 32 bytes. */
  secret: string;
  /** The domain sign-in messages must name; default the request's Host. */
  domain?: string;
  nonceTtlSeconds?: number;
  sessionTtlSeconds?: number;
  /** Tolerated clock difference for `issuedAt`, in seconds. */
  clockSkewSeconds?: number;
  now?: () => number;
}

/** Claims of a session token. */
export interface SessionClaims {
  role: SessionRole;
  address: Address;
  subjectId?: Hex;
  expiresAt: number;
}

/** Where the request came from: what the message's domain and URI must match. */
export interface RequestOrigin {
  /** The Host header (host[:port]). */
  host: string;
  /** scheme://host[:port] */
  origin: string;
}

const ISSUER = "datasafe-supervision";

export class Auth {
  readonly #chain: AuthChain;
  readonly #secret: string;
  readonly #nonceKey: Buffer;
  readonly #domain: string | undefined;
  readonly #nonceTtl: number;
  readonly #sessionTtl: number;
  readonly #skew: number;
  readonly #now: () => number;
  /** Nonces used by a successful sign-in, until their expiry. */
  readonly #used = new Map<string, number>();

  constructor(chain: AuthChain, options: AuthOptions) {
    if (Buffer.byteLength(options.secret, "utf8") < 32) {
      throw new Error("DATASAFE_SESSION_SECRET must be at least 32 bytes");
    }
    this.#chain = chain;
    this.#secret = options.secret;
    this.#nonceKey = createHmac("sha256", options.secret).update("datasafe-supervision/nonce").digest();
    this.#domain = options.domain;
    this.#nonceTtl = options.nonceTtlSeconds ?? 300;
    this.#sessionTtl = options.sessionTtlSeconds ?? 900;
    this.#skew = options.clockSkewSeconds ?? 60;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** A fresh nonce, with what the message must carry. */
  issueNonce(from: RequestOrigin): { nonce: string; expiresAt: number; domain: string; uri: string; chainId: number } {
    const expiresAt = this.#now() + this.#nonceTtl;
    const body = expiresAt.toString(16).padStart(10, "0") + randomBytes(12).toString("hex");
    return {
      nonce: body + this.#nonceMac(body),
      expiresAt,
      domain: this.#domain ?? from.host,
      uri: `${from.origin}/api`,
      chainId: this.#chain.chainId,
    };
  }

  /**
   * Checks a signed sign-in message and the signer's role on chain; returns a session.
   * @throws Refusal 401 with the check that failed, 403 `not-authorised`, 503 `chain-unavailable`
   */
  async signIn(input: { message: string; signature: Hex; subjectId?: Hex }, from: RequestOrigin): Promise<Session> {
    const now = this.#now();
    let parsed: ReturnType<typeof parseSiweMessage>;
    try {
      parsed = parseSiweMessage(input.message);
    } catch {
      throw new Refusal("signin-malformed", "the message does not parse as EIP-4361");
    }
    const { address, domain, uri, chainId, nonce, version, expirationTime, notBefore, issuedAt } = parsed;
    if (!address || !domain || !uri || chainId === undefined || !nonce || version !== "1" || !issuedAt) {
      throw new Refusal(
        "signin-malformed",
        "address, domain, uri, version 1, chain id, nonce and issued-at are required",
      );
    }
    if (!expirationTime) throw new Refusal("signin-malformed", "the message must carry an expiration time");
    if (!validateSiweMessage({ message: parsed }))
      throw new Refusal("signin-malformed", "the message's fields are invalid");
    const expectedDomain = this.#domain ?? from.host;
    if (domain !== expectedDomain)
      throw new Refusal("signin-wrong-domain", `expected ${expectedDomain}, got ${domain}`);
    let uriHost: string;
    try {
      uriHost = new URL(uri).host;
    } catch {
      throw new Refusal("signin-wrong-uri", `${uri} is not a URL`);
    }
    if (uriHost !== expectedDomain) throw new Refusal("signin-wrong-uri", `${uri} is not on ${expectedDomain}`);
    if (chainId !== this.#chain.chainId) {
      throw new Refusal("signin-wrong-chain", `expected chain ${this.#chain.chainId}, got ${chainId}`);
    }
    if (expirationTime.getTime() / 1000 <= now)
      throw new Refusal("signin-expired", `expired at ${expirationTime.toISOString()}`);
    if (notBefore && notBefore.getTime() / 1000 > now) {
      throw new Refusal("signin-not-yet-valid", `valid from ${notBefore.toISOString()}`);
    }
    if (issuedAt.getTime() / 1000 > now + this.#skew) throw new Refusal("signin-not-yet-valid", "issued in the future");
    const nonceExpiry = this.#nonceExpiry(nonce);
    if (nonceExpiry === undefined) throw new Refusal("signin-bad-nonce", "this API did not issue the nonce");
    if (nonceExpiry <= now) throw new Refusal("signin-bad-nonce", "the nonce has expired: ask for a new one");
    if (this.#used.has(nonce)) throw new Refusal("signin-replayed");

    let valid: boolean;
    try {
      valid = await this.#chain.verifySignature(input.message, input.signature);
    } catch (error) {
      throw new Refusal("chain-unavailable", `cannot verify the signature: ${(error as Error).message}`);
    }
    if (!valid) throw new Refusal("signin-bad-signature", `not signed by ${address}`);
    // Checked and marked with no await between: two concurrent sign-ins with one nonce cannot both pass.
    if (this.#used.has(nonce)) throw new Refusal("signin-replayed");
    this.#forgetExpired(now);
    this.#used.set(nonce, nonceExpiry);

    const account = getAddress(address);
    const role = await this.#roleOf(account, input.subjectId);
    const expiresAt = now + this.#sessionTtl;
    const token = await sign(
      {
        iss: ISSUER,
        aud: `${ISSUER}:${this.#chain.chainId}`,
        sub: account,
        role,
        ...(role === "holder" ? { sid: input.subjectId } : {}),
        iat: now,
        nbf: now,
        exp: expiresAt,
      },
      this.#secret,
      "HS256",
    );
    return {
      token,
      role,
      address: account,
      ...(role === "holder" ? { subjectId: input.subjectId } : {}),
      expiresAt,
    };
  }

  /**
   * The session of an `Authorization: Bearer` header.
   * @throws Refusal 401 `token-missing`, `token-invalid` or `token-expired`
   */
  async authenticate(header: string | undefined): Promise<SessionClaims> {
    const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
    if (match === null) throw new Refusal("token-missing");
    let payload: Record<string, unknown>;
    try {
      payload = await verify(match[1], this.#secret, {
        alg: "HS256",
        iss: ISSUER,
        aud: `${ISSUER}:${this.#chain.chainId}`,
      });
    } catch (error) {
      if ((error as Error).name === "JwtTokenExpired") throw new Refusal("token-expired");
      throw new Refusal("token-invalid");
    }
    const { role, sub, sid, exp } = payload;
    if ((role !== "regulator" && role !== "holder") || typeof sub !== "string" || typeof exp !== "number") {
      throw new Refusal("token-invalid");
    }
    if (role === "holder" && typeof sid !== "string") throw new Refusal("token-invalid");
    return {
      role,
      address: sub as Address,
      ...(role === "holder" ? { subjectId: sid as Hex } : {}),
      expiresAt: exp,
    };
  }

  async #roleOf(account: Address, subjectId: Hex | undefined): Promise<SessionRole> {
    try {
      if (subjectId !== undefined) {
        const controller = await this.#chain.controllerOf(subjectId);
        if (controller !== zeroAddress && isAddressEqual(controller, account)) return "holder";
        throw new Refusal("not-authorised", `${account} does not control subject ${subjectId}`);
      }
      if (await this.#chain.isActiveRegulator(account)) return "regulator";
    } catch (error) {
      if (error instanceof Refusal) throw error;
      throw new Refusal("chain-unavailable", `cannot read the member directory: ${(error as Error).message}`);
    }
    throw new Refusal("not-authorised", `${account} is not an active regulator member`);
  }

  #nonceMac(body: string): string {
    return createHmac("sha256", this.#nonceKey).update(body).digest("hex").slice(0, 32);
  }

  /** The expiry a nonce carries, if this process's key made it. */
  #nonceExpiry(nonce: string): number | undefined {
    if (!/^[0-9a-f]{66}$/.test(nonce)) return undefined;
    const body = nonce.slice(0, 34);
    const given = Buffer.from(nonce.slice(34), "hex");
    if (!timingSafeEqual(given, Buffer.from(this.#nonceMac(body), "hex"))) return undefined;
    return Number.parseInt(nonce.slice(0, 10), 16);
  }

  #forgetExpired(now: number): void {
    if (this.#used.size < 1_024) return;
    for (const [nonce, expiry] of this.#used) if (expiry <= now) this.#used.delete(nonce);
  }
}
