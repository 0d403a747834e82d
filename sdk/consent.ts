import type { TransactionReceipt, TypedDataDomain, TypedDataField } from "ethers";

import type { AccessRequestStructOutput } from "../typechain-types/DataSafe.js";
import { type RequestReturnInput, requestReturnOf } from "./assets.js";
import { type AccessRequestStatus, DEFAULT_SIGNATURE_LIFETIME, enumName, enumValue } from "./constants.js";
import type { Context } from "./context.js";
import { DomainMismatchError } from "./errors.js";
import { grantIdOf, requestIdOf } from "./ids.js";
import { FULL_WORD, nonceParts, nonceWordOf } from "./nonces.js";
import {
  type GrantKeyInput,
  type GrantTermsInput,
  type RequestAccessInput,
  accessRequestStruct,
  bytes32,
  grantKeyOf,
  grantKeyStruct,
  grantTermsOf,
  grantTermsStruct,
  requestAccessOf,
  uint,
} from "./requests.js";
import { type PendingTransaction, eventIn, eventsIn } from "./transaction.js";
import {
  type SignatureTerms,
  type TypedDataPayload,
  approveRequestTypedData,
  dataSafeDomain,
  domainSeparatorOf,
  grantTypedData,
  rejectRequestTypedData,
  requestReturnTypedData,
  revokeTypedData,
} from "./typed-data.js";
import type {
  AccessRequest,
  Authorization,
  Grant,
  GrantKey,
  Hex,
  IssuedGrant,
  RevocationAuthorization,
} from "./types.js";

/** Anything that signs EIP-712 data: an ethers Wallet (no provider needed), a HardhatEthersSigner... */
export interface TypedDataSigner {
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** Nonce and deadline of a signature; chosen from the chain when not given. */
export interface SignOptions {
  /** Default: `nextNonce(subjectId)`, an unused nonce of the current epoch this client has not handed out. */
  nonce?: bigint | number;
  /** Default: the chain's time plus an hour. */
  deadline?: bigint | number;
}

/** The grants an approval or a direct grant issued. */
export interface GrantsIssued {
  grants: IssuedGrant[];
  /** The ids of `grants`, in order. */
  grantIds: Hex[];
}

/**
 * Consent: a consumer asks, the holder approves (by transaction or by a signature anyone relays),
 * rejects or lets the request expire; a holder also grants directly and revokes at any time. The
 * holder's signatures are made here, the return request's too (relayed by `assets.requestReturnBySig`).
 */
export class Consent {
  readonly #ctx: Context;
  /** Nonces this client handed out for signatures, by subject: not handed out twice. */
  readonly #reserved = new Map<Hex, Set<bigint>>();

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /**
   * Asks a holder for consent. Caller: an active consumer.
   * @returns a transaction whose `wait()` gives the `requestId` and the stored `request` (with its
   * nonce), which the holder approves as is
   * @example
   * const { request } = await (await bank.consent.requestAccess({ subjectId, targets: [assetId], purpose: 1, grantDuration: 86400 })).wait();
   */
  async requestAccess(
    input: RequestAccessInput,
  ): Promise<PendingTransaction<{ requestId: Hex; request: AccessRequest }>> {
    const r = requestAccessOf(input, input.expiresAt === undefined ? await this.#ctx.now() : 0);
    const scope = enumValue("GrantScope", r.scope);
    return this.#ctx.write(
      "requestAccess",
      () =>
        this.#ctx.dataSafe.requestAccess(
          r.subjectId,
          scope,
          r.targets,
          r.fields,
          r.purpose,
          r.grantDuration,
          r.maxReads,
          r.expiresAt,
        ),
      (receipt) => {
        const { args } = eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("AccessRequested"));
        return { requestId: args.requestId, request: accessRequestOf(args.request) };
      },
    );
  }

  /** Approves a request, one grant per target. Caller: the holder's controller. */
  async approve(request: AccessRequest): Promise<PendingTransaction<GrantsIssued & { requestId: Hex }>> {
    const struct = accessRequestStruct(request);
    return this.#ctx.write(
      "approveRequest",
      () => this.#ctx.dataSafe.approveRequest(struct),
      (receipt) => ({ requestId: requestIdOf(request), ...this.#grants(receipt) }),
    );
  }

  /**
   * Approves a request with the controller's signature (see `signApproval`). Anyone may relay.
   * @example
   * const authorization = await app.consent.signApproval(phone, request);
   * const { grantIds } = await (await app.consent.approveBySig(request, authorization)).wait();
   */
  async approveBySig(
    request: AccessRequest,
    authorization: Authorization,
  ): Promise<PendingTransaction<GrantsIssued & { requestId: Hex }>> {
    const struct = accessRequestStruct(request);
    return this.#ctx.write(
      "approveRequestBySig",
      () => this.#ctx.dataSafe.approveRequestBySig(struct, authorizationStruct(authorization)),
      (receipt) => ({ requestId: requestIdOf(request), ...this.#grants(receipt) }),
    );
  }

  /** Rejects a request. Caller: the holder's controller. */
  async reject(request: AccessRequest, reason: number): Promise<PendingTransaction<{ requestId: Hex }>> {
    const code = uint("reason", reason, 16);
    return this.#ctx.write(
      "rejectRequest",
      () => this.#ctx.dataSafe.rejectRequest(accessRequestStruct(request), code),
      () => ({ requestId: requestIdOf(request) }),
    );
  }

  /** Rejects a request with the controller's signature (see `signRejection`). Anyone may relay. */
  async rejectBySig(
    request: AccessRequest,
    reason: number,
    authorization: Authorization,
  ): Promise<PendingTransaction<{ requestId: Hex }>> {
    const code = uint("reason", reason, 16);
    return this.#ctx.write(
      "rejectRequestBySig",
      () =>
        this.#ctx.dataSafe.rejectRequestBySig(accessRequestStruct(request), code, authorizationStruct(authorization)),
      () => ({ requestId: requestIdOf(request) }),
    );
  }

  /** Withdraws an open request. Caller: the consumer that made it. */
  async cancel(request: AccessRequest): Promise<PendingTransaction<{ requestId: Hex }>> {
    return this.#ctx.write(
      "cancelRequest",
      () => this.#ctx.dataSafe.cancelRequest(accessRequestStruct(request)),
      () => ({ requestId: requestIdOf(request) }),
    );
  }

  /**
   * Grants every consumer access to every target. Caller: the holder's controller.
   * @returns a transaction whose `wait()` gives the grants, consumer-major then target order
   */
  async grant(input: GrantTermsInput): Promise<PendingTransaction<GrantsIssued>> {
    const terms = grantTermsStruct(grantTermsOf(input));
    return this.#ctx.write(
      "grant",
      () => this.#ctx.dataSafe.grant(terms),
      (receipt) => this.#grants(receipt),
    );
  }

  /** Grants with the controller's signature (see `signGrant`). Anyone may relay. */
  async grantBySig(input: GrantTermsInput, authorization: Authorization): Promise<PendingTransaction<GrantsIssued>> {
    const terms = grantTermsStruct(grantTermsOf(input));
    return this.#ctx.write(
      "grantBySig",
      () => this.#ctx.dataSafe.grantBySig(terms, authorizationStruct(authorization)),
      (receipt) => this.#grants(receipt),
    );
  }

  /** Revokes a grant. Caller: the holder's controller. */
  async revoke(key: GrantKeyInput): Promise<PendingTransaction<{ grantId: Hex; version: number }>> {
    const k = grantKeyOf(key);
    return this.#ctx.write(
      "revoke",
      () => this.#ctx.dataSafe.revoke(grantKeyStruct(k)),
      (receipt) => this.#revoked(receipt),
    );
  }

  /**
   * Revokes a grant with the controller's signature (see `signRevocation`, whose result carries the
   * version signed for). Anyone may relay.
   */
  async revokeBySig(
    key: GrantKeyInput,
    authorization: RevocationAuthorization,
  ): Promise<PendingTransaction<{ grantId: Hex; version: number }>> {
    const k = grantKeyOf(key);
    const version = uint("version", authorization.version, 32);
    return this.#ctx.write(
      "revokeBySig",
      () => this.#ctx.dataSafe.revokeBySig(grantKeyStruct(k), version, authorizationStruct(authorization)),
      (receipt) => this.#revoked(receipt),
    );
  }

  /**
   * An unused nonce for a new signature of the holder: the lowest index of the current epoch that
   * is neither used nor cancelled on chain, nor handed out before by this client. Signatures made
   * with nonces from here can be relayed in any order.
   */
  async nextNonce(subjectId: Hex): Promise<bigint> {
    const id = bytes32("subjectId", subjectId);
    const ds = this.#ctx.dataSafe;
    const epoch = (await this.#ctx.read("getSubject", () => ds.getSubject(id))).nonce;
    const reserved = this.#reserved.get(id) ?? new Set<bigint>();
    this.#reserved.set(id, reserved);
    for (let word = 0n; ; word++) {
      const wordPos = nonceWordOf(epoch, word);
      const used = await this.#ctx.read("nonceBitmap", () => ds.nonceBitmap(id, wordPos));
      for (let bit = 0n; bit < 256n; bit++) {
        const nonce = (wordPos << 8n) | bit;
        if (((used >> bit) & 1n) === 0n && !reserved.has(nonce)) {
          reserved.add(nonce);
          return nonce;
        }
      }
    }
  }

  /** Whether a signature carrying `nonce` can no longer be used (used, cancelled, or of another epoch). */
  async isNonceUsed(subjectId: Hex, nonce: bigint | number): Promise<boolean> {
    const id = bytes32("subjectId", subjectId);
    const n = BigInt(nonce);
    nonceParts(n);
    return this.#ctx.read("isNonceUsed", () => this.#ctx.dataSafe.isNonceUsed(id, n));
  }

  /**
   * Cancels one outstanding signature by its nonce, so nobody can relay it. Caller: the controller.
   * @example await (await phoneClient.consent.cancelNonce(subjectId, authorization.nonce)).wait();
   */
  async cancelNonce(
    subjectId: Hex,
    nonce: bigint | number,
  ): Promise<PendingTransaction<{ wordPos: bigint; mask: bigint }>> {
    const { wordPos, bit } = nonceParts(nonce);
    return this.#cancel(subjectId, wordPos, 1n << BigInt(bit));
  }

  /** Cancels every nonce of a word (256 of them: `nonceParts(nonce).wordPos`). Caller: the controller. */
  async cancelNonceWord(
    subjectId: Hex,
    wordPos: bigint,
  ): Promise<PendingTransaction<{ wordPos: bigint; mask: bigint }>> {
    return this.#cancel(subjectId, nonceParts(wordPos << 8n).wordPos, FULL_WORD);
  }

  /**
   * Has the holder's controller sign the approval of `request`. The signer needs no provider and
   * no funds: a phone wallet signs, whoever relays pays.
   * @param signer the holder's controller (any `signTypedData` wallet)
   */
  async signApproval(
    signer: TypedDataSigner,
    request: AccessRequest,
    options: SignOptions = {},
  ): Promise<Authorization> {
    const terms = await this.#signatureTerms(request.subjectId, options);
    return sign(signer, approveRequestTypedData(await this.domain(), request, terms), terms);
  }

  /** Has the holder's controller sign the rejection of `request`. */
  async signRejection(
    signer: TypedDataSigner,
    request: AccessRequest,
    reason: number,
    options: SignOptions = {},
  ): Promise<Authorization> {
    const terms = await this.#signatureTerms(request.subjectId, options);
    return sign(signer, rejectRequestTypedData(await this.domain(), request, uint("reason", reason, 16), terms), terms);
  }

  /** Has the holder's controller sign a direct grant; relay it with `grantBySig(input, authorization)`. */
  async signGrant(signer: TypedDataSigner, input: GrantTermsInput, options: SignOptions = {}): Promise<Authorization> {
    const grant = grantTermsOf(input);
    const terms = await this.#signatureTerms(grant.subjectId, options);
    return sign(signer, grantTypedData(await this.domain(), grant, terms), terms);
  }

  /**
   * Has the holder's controller sign the revocation of the grant's current version (or of
   * `options.version`; 0 = whichever is current when relayed); relay it with
   * `revokeBySig(key, authorization)`. A renewal made after signing is not revoked by it.
   */
  async signRevocation(
    signer: TypedDataSigner,
    key: GrantKeyInput,
    options: SignOptions & { version?: number } = {},
  ): Promise<RevocationAuthorization> {
    const k = grantKeyOf(key);
    const version = uint("version", options.version ?? (await this.grantOf(k)).version, 32);
    const terms = await this.#signatureTerms(k.subjectId, options);
    return { ...(await sign(signer, revokeTypedData(await this.domain(), k, version, terms), terms)), version };
  }

  /**
   * Has the holder's controller sign a request that a department return data of a type; relay it
   * with `assets.requestReturnBySig(input, authorization)`.
   */
  async signReturnRequest(
    signer: TypedDataSigner,
    input: RequestReturnInput,
    options: SignOptions = {},
  ): Promise<Authorization> {
    const request = requestReturnOf(input);
    const terms = await this.#signatureTerms(request.subjectId, options);
    return sign(signer, requestReturnTypedData(await this.domain(), request, terms), terms);
  }

  /** The EIP-712 domain of this deployment on the connected chain. */
  async domain(): Promise<TypedDataDomain> {
    return dataSafeDomain(await this.#ctx.chainId(), String(this.#ctx.dataSafe.target));
  }

  /**
   * Checks the domain the SDK signs in against the contract's `domainSeparator()`.
   * @returns the domain; throws `DomainMismatchError` if the chain or contract disagree
   */
  async checkDomain(): Promise<TypedDataDomain> {
    const domain = await this.domain();
    const expected = await this.#ctx.read("domainSeparator", () => this.#ctx.dataSafe.domainSeparator());
    const actual = domainSeparatorOf(domain);
    if (expected !== actual) {
      throw new DomainMismatchError(
        expected,
        actual,
        `domain ${JSON.stringify(domain, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`,
      );
    }
    return domain;
  }

  /** The grant `grantId` (status `"None"` if never granted). */
  async getGrant(grantId: Hex): Promise<Grant> {
    const id = bytes32("grantId", grantId);
    const g = await this.#ctx.read("getGrant", () => this.#ctx.dataSafe.getGrant(id));
    return {
      grantId: id,
      status: enumName("GrantStatus", g.status),
      grantedAt: Number(g.grantedAt),
      expiresAt: Number(g.expiresAt),
      maxReads: Number(g.maxReads),
      reads: Number(g.reads),
      version: Number(g.version),
      fields: g.fields,
    };
  }

  /** The grant a key names. */
  async grantOf(key: GrantKeyInput): Promise<Grant> {
    return this.getGrant(grantIdOf(grantKeyOf(key)));
  }

  /** The status of a request (`"None"` if never made). */
  async requestStatus(requestId: Hex): Promise<AccessRequestStatus> {
    const id = bytes32("requestId", requestId);
    return enumName(
      "AccessRequestStatus",
      await this.#ctx.read("getRequestStatus", () => this.#ctx.dataSafe.getRequestStatus(id)),
    );
  }

  async #signatureTerms(subjectId: Hex, options: SignOptions): Promise<SignatureTerms> {
    const nonce = options.nonce ?? (await this.nextNonce(subjectId));
    const deadline = options.deadline ?? (await this.#ctx.now()) + DEFAULT_SIGNATURE_LIFETIME;
    return { nonce: BigInt(nonce), deadline: BigInt(deadline) };
  }

  async #cancel(
    subjectId: Hex,
    wordPos: bigint,
    mask: bigint,
  ): Promise<PendingTransaction<{ wordPos: bigint; mask: bigint }>> {
    const id = bytes32("subjectId", subjectId);
    return this.#ctx.write(
      "cancelNonces",
      () => this.#ctx.dataSafe.cancelNonces(id, wordPos, mask),
      (receipt) => {
        const { args } = eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("NoncesCancelled"));
        return { wordPos: args.wordPos, mask: args.mask };
      },
    );
  }

  #grants(receipt: TransactionReceipt): GrantsIssued {
    const grants = eventsIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("GrantIssued")).map(
      ({ args }) => ({
        grantId: args.grantId,
        key: {
          subjectId: args.subjectId,
          consumer: args.consumer,
          scope: enumName("GrantScope", args.scope),
          target: args.target,
          purpose: Number(args.purpose),
        } satisfies GrantKey,
        fields: args.fields,
        expiresAt: Number(args.expiresAt),
        maxReads: Number(args.maxReads),
        version: Number(args.version),
        requestId: args.requestId,
      }),
    );
    return { grants, grantIds: grants.map((g) => g.grantId) };
  }

  #revoked(receipt: TransactionReceipt): { grantId: Hex; version: number } {
    const { args } = eventIn(receipt, this.#ctx.dataSafe, this.#ctx.dataSafe.getEvent("GrantRevoked"));
    return { grantId: args.grantId, version: Number(args.version) };
  }
}

/** An access request as the SDK types it, from the ABI's output. */
export function accessRequestOf(r: AccessRequestStructOutput): AccessRequest {
  return {
    subjectId: r.subjectId,
    consumer: r.consumer,
    scope: enumName("GrantScope", r.scope),
    targets: [...r.targets],
    fields: r.fields,
    purpose: Number(r.purpose),
    grantDuration: Number(r.grantDuration),
    maxReads: Number(r.maxReads),
    expiresAt: Number(r.expiresAt),
    nonce: r.nonce,
  };
}

/** The ABI tuple of an authorization (without the SDK's extras, such as a revocation's version). */
function authorizationStruct(a: Authorization): Authorization {
  return { nonce: a.nonce, deadline: a.deadline, signature: a.signature };
}

async function sign(signer: TypedDataSigner, p: TypedDataPayload, terms: SignatureTerms): Promise<Authorization> {
  const signature = await signer.signTypedData(p.domain, p.types, p.message);
  return { nonce: BigInt(terms.nonce), deadline: BigInt(terms.deadline), signature };
}
