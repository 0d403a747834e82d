import { type TypedDataDomain, getAddress, getBytes, hexlify, randomBytes, toUtf8String } from "ethers";

import type { DataSafeClient } from "./client.js";
import { commitFields, commitRecord, verifyDisclosure } from "./commitments.js";
import { DEFAULT_SIGNATURE_LIFETIME } from "./constants.js";
import type { TypedDataSigner } from "./consent.js";
import { type KeyPair, openWith } from "./crypto/index.js";
import { GatewayUnavailableError, ReleaseVerificationError, gatewayErrorOf } from "./delivery-errors.js";
import {
  type CommitmentScheme,
  type ConsumerFetchBody,
  GATEWAY_ROUTES,
  type HolderFetchBody,
  type Release,
  type ReleasedPayload,
  type UploadBody,
  type UploadResult,
  consumerFetchTypedData,
  gatewayDomain,
  holderFetchTypedData,
  releaseAad,
  uploadTypedData,
} from "./delivery-protocol.js";
import { SignerRequiredError } from "./errors.js";
import { assetIdOf } from "./ids.js";
import type { AssetStatus } from "./constants.js";
import { bytes32 } from "./requests.js";
import type { TypedDataPayload } from "./typed-data.js";
import type { AccessRecord, Hex } from "./types.js";

/**
 * The client of a payload gateway: an issuer uploads the payload of an asset it issued; the holder
 * fetches its record sealed to its holder key; a consumer fetches, once per recorded read, what the
 * read covers sealed to its member key. Then `decrypt` opens a release with the recipient's key pair
 * and `verify` checks what it holds against the chain. Refusals throw one `GatewayError` subclass
 * per problem code (see delivery-errors.ts).
 *
 * @example
 * const delivery = new Delivery(safe.connect(bankSigner), "http://gateway:8787");
 * const access = await (await bank.accessLog.recordAccess(read)).wait();
 * const release = await delivery.fetchAsConsumer(access);
 * const { payload, verification } = await delivery.receive(release, bankKeyPair);
 */
export class Delivery {
  /** The gateway's base URL, without a trailing slash. */
  readonly url: string;
  readonly #safe: DataSafeClient;
  readonly #timeoutMs: number;
  #domain: TypedDataDomain | undefined;
  #chainId: bigint | undefined;

  /**
   * @param safe a client of the deployment; its runner signs requests unless a method is given a signer
   * @param gatewayUrl e.g. `http://127.0.0.1:8787`
   * @param options `timeoutMs` of each HTTP request (default 30 s)
   */
  constructor(safe: DataSafeClient, gatewayUrl: string, options: { timeoutMs?: number } = {}) {
    this.#safe = safe;
    this.url = gatewayUrl.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The same gateway, acting for another client (another account). */
  connect(safe: DataSafeClient): Delivery {
    return new Delivery(safe, this.url, { timeoutMs: this.#timeoutMs });
  }

  /** The EIP-712 domain of this deployment's gateway messages. */
  async domain(): Promise<TypedDataDomain> {
    this.#domain ??= gatewayDomain(await this.#chain(), this.#safe.address);
    return this.#domain;
  }

  /**
   * Uploads an asset's payload. Caller: the asset's issuer (it signs). Uploading the same payload
   * again stores nothing new (`stored: "existing"`).
   * @param input the asset key without its commitment, the record, the salt, and how it was committed
   * @example
   * const { root, salt } = commitFields(record);
   * await department.assets.issue({ subjectId, dataType: 1, contentCommitment: root });
   * await delivery.upload({ subjectId, dataType: 1, scheme: "fields", record, salt });
   */
  async upload(
    input: {
      subjectId: Hex;
      dataType: number;
      scheme: CommitmentScheme;
      record: unknown;
      salt: Hex;
      deadline?: number;
    },
    signer?: DeliverySigner,
  ): Promise<UploadResult> {
    const account = this.#signer(signer, "upload");
    const issuer = getAddress(await account.getAddress());
    const contentCommitment =
      input.scheme === "fields"
        ? commitFields(input.record as Record<string, unknown>, input.salt).root
        : commitRecord(input.record, input.salt).commitment;
    const assetId = assetIdOf({ issuer, subjectId: input.subjectId, dataType: input.dataType, contentCommitment });
    const deadline = input.deadline ?? (await this.#deadline());
    const signature = await sign(account, uploadTypedData(await this.domain(), assetId, deadline));
    const body: UploadBody = {
      assetId,
      issuer,
      subjectId: bytes32("subjectId", input.subjectId),
      dataType: input.dataType,
      scheme: input.scheme,
      record: input.record,
      salt: bytes32("salt", input.salt),
      deadline,
      signature,
    };
    return this.#post<UploadResult>(GATEWAY_ROUTES.upload, body);
  }

  /**
   * Fetches the holder's own record, sealed to its holder key. Caller: the subject's current
   * controller (it signs a one-time request).
   * @returns the release, with what was asked (to open it: `decrypt(release, holderKeyPair)`)
   */
  async fetchAsHolder(
    input: { assetId: Hex; subjectId: Hex; deadline?: number; nonce?: Hex },
    signer?: DeliverySigner,
  ): Promise<DeliveredRelease> {
    const account = this.#signer(signer, "fetchAsHolder");
    const request = {
      assetId: bytes32("assetId", input.assetId),
      subjectId: bytes32("subjectId", input.subjectId),
      nonce: input.nonce === undefined ? hexlify(randomBytes(32)) : bytes32("nonce", input.nonce),
      deadline: input.deadline ?? (await this.#deadline(300)),
    };
    const signature = await sign(account, holderFetchTypedData(await this.domain(), request));
    const body: HolderFetchBody = { account: getAddress(await account.getAddress()), ...request, signature };
    const release = await this.#post<Release>(GATEWAY_ROUTES.holderRelease, body);
    return { ...release, requested: { kind: "holder", assetId: request.assetId, nonce: request.nonce } };
  }

  /**
   * Fetches what a recorded read covers, sealed to the consumer's member key; each read is served
   * once. Caller: the consumer that recorded the read (it signs).
   * @param access what `accessLog.recordAccess(...).wait()` returned, or the ids and transaction hash
   */
  async fetchAsConsumer(
    access:
      | (Pick<AccessRecord, "accessId" | "assetId"> & { receipt: { hash: string } })
      | { accessId: Hex; assetId: Hex; transactionHash: Hex },
    options: { deadline?: number } = {},
    signer?: DeliverySigner,
  ): Promise<DeliveredRelease> {
    const account = this.#signer(signer, "fetchAsConsumer");
    const request = {
      accessId: bytes32("accessId", access.accessId),
      transactionHash: bytes32("transactionHash", "receipt" in access ? access.receipt.hash : access.transactionHash),
      assetId: bytes32("assetId", access.assetId),
      deadline: options.deadline ?? (await this.#deadline(300)),
    };
    const signature = await sign(account, consumerFetchTypedData(await this.domain(), request));
    const body: ConsumerFetchBody = { account: getAddress(await account.getAddress()), ...request, signature };
    const release = await this.#post<Release>(GATEWAY_ROUTES.consumerRelease, body);
    return { ...release, requested: { kind: "consumer", assetId: request.assetId, accessId: request.accessId } };
  }

  /**
   * Opens a release with the recipient's key pair. The additional data is rebuilt from what was
   * asked, not from what the gateway answered, so a release for another request never opens.
   * @throws ReleaseVerificationError if the release answers another request
   * @throws DecryptionError (sdk/crypto) if the key, the data or a byte differs
   */
  async decrypt(release: DeliveredRelease, keyPair: KeyPair): Promise<ReleasedPayload> {
    const asked = release.requested;
    if (release.kind !== asked.kind || release.assetId.toLowerCase() !== asked.assetId.toLowerCase()) {
      throw new ReleaseVerificationError("the release answers another request", {
        details: `asked ${asked.kind} ${asked.assetId}, got ${release.kind} ${release.assetId}`,
      });
    }
    if (asked.kind === "consumer" && release.accessId?.toLowerCase() !== asked.accessId.toLowerCase()) {
      throw new ReleaseVerificationError("the release is for another access", {
        details: `asked ${asked.accessId}, got ${release.accessId}`,
      });
    }
    const aad = releaseAad(await this.#chain(), this.#safe.address, asked);
    const plaintext = await openWith(keyPair, getBytes(release.sealed), aad);
    let payload: ReleasedPayload;
    try {
      payload = JSON.parse(toUtf8String(plaintext)) as ReleasedPayload;
    } catch (error) {
      throw new ReleaseVerificationError("the release did not hold a payload", { cause: error });
    }
    if (assetIdOf(payload.key).toLowerCase() !== asked.assetId.toLowerCase()) {
      throw new ReleaseVerificationError("the payload is another asset's", {
        details: `asked ${asked.assetId}, the payload's key hashes to ${assetIdOf(payload.key)}`,
      });
    }
    return payload;
  }

  /**
   * Checks a released payload against the chain: the record and salt (or each disclosed field with
   * its proof) recompute the content commitment, and the asset it names is on chain and valid.
   * @returns the verification; `valid` is false if anything does not hold
   */
  async verify(payload: ReleasedPayload): Promise<DeliveryVerification> {
    const key = payload.key;
    let contentMatches: boolean;
    if (payload.kind === "record") {
      let commitment: string | undefined;
      try {
        commitment =
          payload.scheme === "fields"
            ? commitFields(payload.record as Record<string, unknown>, payload.salt).root
            : commitRecord(payload.record, payload.salt).commitment;
      } catch {
        commitment = undefined;
      }
      contentMatches = commitment?.toLowerCase() === key.contentCommitment.toLowerCase();
    } else {
      contentMatches = verifyDisclosure(payload.disclosure, key.contentCommitment);
    }
    const onChain = await this.#safe.assets.verify(key);
    return {
      assetId: onChain.assetId,
      contentMatches,
      status: onChain.status,
      valid: contentMatches && onChain.valid,
    };
  }

  /**
   * `decrypt` then `verify`, throwing unless the payload verifies.
   * @throws ReleaseVerificationError if the payload does not match a valid asset on chain
   */
  async receive(
    release: DeliveredRelease,
    keyPair: KeyPair,
  ): Promise<{ payload: ReleasedPayload; verification: DeliveryVerification }> {
    const payload = await this.decrypt(release, keyPair);
    const verification = await this.verify(payload);
    if (!verification.valid) {
      throw new ReleaseVerificationError("the released payload does not verify against the chain", {
        details: `asset ${verification.assetId}: content ${verification.contentMatches ? "matches" : "does not match"}, status ${verification.status}`,
      });
    }
    return { payload, verification };
  }

  #signer(signer: DeliverySigner | undefined, action: string): DeliverySigner {
    const candidate = signer ?? (this.#safe.runner as Partial<DeliverySigner>);
    if (typeof candidate.signTypedData !== "function" || typeof candidate.getAddress !== "function") {
      throw new SignerRequiredError(action);
    }
    return candidate as DeliverySigner;
  }

  async #chain(): Promise<bigint> {
    if (this.#chainId === undefined) {
      const provider = this.#safe.runner.provider ?? (this.#safe.runner as { getNetwork?: unknown });
      if (typeof (provider as { getNetwork?: unknown }).getNetwork !== "function") {
        throw new SignerRequiredError("delivery (a provider, to learn the chain id)");
      }
      this.#chainId = (await (provider as { getNetwork(): Promise<{ chainId: bigint }> }).getNetwork()).chainId;
    }
    return this.#chainId;
  }

  /** A deadline `seconds` from now by the local clock (the gateway checks against its own). */
  async #deadline(seconds = DEFAULT_SIGNATURE_LIFETIME): Promise<number> {
    return Math.floor(Date.now() / 1000) + seconds;
  }

  async #post<T>(route: string, body: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, application/problem+json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new GatewayUnavailableError(`cannot reach the gateway at ${this.url}`, { cause: error });
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: reported as is below.
    }
    if (!response.ok) throw gatewayErrorOf(response.status, parsed);
    if (typeof parsed !== "object" || parsed === null) {
      throw new GatewayUnavailableError("the gateway answered without a JSON body", { status: response.status });
    }
    return parsed as T;
  }
}

/** An account that signs gateway requests: an ethers Signer or Wallet. */
export type DeliverySigner = TypedDataSigner & { getAddress(): Promise<string> };

/** A release with what the client asked for, which `decrypt` binds it to. */
export type DeliveredRelease = Release & {
  requested: { kind: "consumer"; assetId: Hex; accessId: Hex } | { kind: "holder"; assetId: Hex; nonce: Hex };
};

/** What `verify` learns about a released payload. */
export interface DeliveryVerification {
  assetId: Hex;
  /** The record and salt, or every disclosed field and its proof, recompute the asset's commitment. */
  contentMatches: boolean;
  /** The asset's status on chain. */
  status: AssetStatus;
  /** Content matches and the asset is valid on chain. */
  valid: boolean;
}

async function sign(signer: DeliverySigner, payload: TypedDataPayload): Promise<Hex> {
  return signer.signTypedData(payload.domain, payload.types, payload.message);
}
