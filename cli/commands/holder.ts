/*
 * holder: what a safe-box app does for a citizen or a company, signing with the subject's
 * controller key. `approve` scans the counter's QR code (a PNG, decoded with a real QR decoder) or
 * takes its URI, checks every line it showed against the chain, shows what it signs and signs; the
 * approval is relayed at once (`--relay`) or travels back as a QR code. The others list the
 * holder's assets, requests and usage, and grant, revoke, hand over control, recover a lost key
 * (the identity authority's side) and set the holder's encryption key.
 */
import type { Command } from "commander";

import { address, bytes32, integer, oneOf } from "../args.js";
import {
  asCliError,
  checkedJson,
  describeRequest,
  duration,
  ids,
  maskOf,
  names,
  purposeText,
  schemaSource,
  type TypeArg,
  typeArg,
  withIssuers,
} from "../consent-args.js";
import { BadInputError, RefusedError } from "../errors.js";
import { terminalQr, writeQrPng } from "../qr.js";
import type { Runtime } from "../runtime.js";
import { dataTypeTarget } from "../../sdk/index.js";
import { checkApproveUri, findRequest, signApproveUri } from "../../sdk/scan.js";
import { uriFrom } from "./consumer.js";

const SUBJECT = ["--subject <id>", "the holder's subject id (0x + 64 hex)"] as const;

export function register(program: Command, runtime: Runtime): void {
  const holder = program
    .command("holder")
    .description("a holder's safe-box app: assets, requests, approve by QR, grants, usage, key hand-over and recovery");

  holder
    .command("register")
    .description("register a holder's subject id with its controller key (caller: an identity authority)")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .requiredOption(
      "--controller <address>",
      "the key that acts for the holder (its phone wallet)",
      address("--controller"),
    )
    .action(async (options: { subject: string; controller: string }) => {
      const client = await runtime.client(true);
      const { subjectId, receipt } = await (await client.subjects.register(options.subject, options.controller)).wait();
      runtime.emit(
        { subjectId, controller: options.controller, transactionHash: receipt.hash },
        `Subject ${subjectId} registered, controlled by ${options.controller}.`,
      );
    });

  holder
    .command("assets")
    .description("the holder's assets (its digital safe), oldest first")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .action(async (options: { subject: string }) => {
      const assets = await (await runtime.client(false)).events.assetsOf(options.subject);
      runtime.emit(assets, () =>
        assets.length === 0
          ? "(no assets)"
          : assets
              .map(
                (a) =>
                  `${a.assetId}  ${a.dataTypeName || `type ${a.key.dataType}`} from ${a.issuerName || a.key.issuer}  ` +
                  `${a.status}${a.valid ? "" : " (not valid)"}  issued ${new Date(a.issuedAt * 1000).toISOString()}`,
              )
              .join("\n"),
      );
    });

  holder
    .command("requests")
    .description("the access requests made to the holder, oldest first")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .option("--open", "only those still open")
    .action(async (options: { subject: string; open?: boolean }) => {
      const all = await (await runtime.client(false)).events.requestsOf(options.subject);
      const requests = options.open === true ? all.filter((r) => r.status === "Open") : all;
      runtime.emit(requests, () =>
        requests.length === 0
          ? "(no requests)"
          : requests
              .map(
                (r) =>
                  `${r.requestId}  ${r.status}  ${r.consumerName || r.request.consumer}  ${purposeText(r.request.purpose)}  ` +
                  `${r.request.targets.length} target(s), ${r.request.maxReads} read(s), ${r.request.grantDuration} s`,
              )
              .join("\n"),
      );
    });

  holder
    .command("approve")
    .description("scan a counter's request QR code (or URI), check it against the chain, show it and sign the approval")
    .option("--uri <uri>", "the datasafe:1/approve URI")
    .option("--qr <file>", "a PNG of the request's QR code")
    .option("--relay", "send the approval now (the holder's account pays) instead of printing it as a QR code")
    .option("--png <file>", "without --relay: write the approval's QR code to this PNG")
    .option("--schemas <file>", "JSON array of schema documents to check field names (default: the seed catalog)")
    .option("--no-terminal-qr", "do not draw the approval's QR code in the terminal")
    .action(
      async (options: {
        uri?: string;
        qr?: string;
        relay?: boolean;
        png?: string;
        schemas?: string;
        terminalQr: boolean;
      }) => {
        const field = options.qr === undefined ? "--uri" : "--qr";
        const scanned = await uriFrom(options).catch((e) => Promise.reject(asCliError(e, field)));
        const client = await runtime.client(true);
        const wallet = await runtime.signer();
        const checked = await checkApproveUri(client, scanned, { schemas: await schemaSource(options.schemas) }).catch(
          (e) => Promise.reject(asCliError(e, field)),
        );
        // With --json the request is in the output; without, the person reads it before the signature.
        if (!runtime.json) runtime.note(`${describeRequest(checked)}\nSigning the approval as ${wallet.address}.`);
        const { authorization, uri } = await signApproveUri(client, wallet, checked).catch((e) =>
          Promise.reject(asCliError(e, field)),
        );
        if (options.relay === true) {
          const { grants, receipt } = await (await client.consent.approveBySig(checked.request, authorization)).wait();
          runtime.emit(
            {
              ...checkedJson(checked),
              relayed: true,
              grantIds: grants.map((g) => g.grantId),
              grants,
              transactionHash: receipt.hash,
            },
            `Approved: ${grants.length} grant(s) ${grants.map((g) => g.grantId).join(", ")} (transaction ${receipt.hash}).`,
          );
          return;
        }
        if (options.png !== undefined)
          await writeQrPng(options.png, uri).catch((e) => Promise.reject(asCliError(e, "--png")));
        const drawn = await terminalQr(uri).catch((e) => Promise.reject(asCliError(e, "uri")));
        runtime.emit(
          {
            ...checkedJson(checked),
            relayed: false,
            approval: uri,
            authorization,
            qrVersion: drawn.version,
            png: options.png,
          },
          () =>
            [
              ...(options.terminalQr ? [drawn.drawing] : []),
              `Signed. Show this to the counter (consumer relay --uri …): ${uri}`,
              `QR version ${drawn.version} (error correction M)${options.png === undefined ? "" : `, written to ${options.png}`}.`,
            ].join("\n"),
        );
      },
    );

  holder
    .command("reject")
    .description("reject an open request (the holder's account sends the transaction)")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .requiredOption("--request <id>", "the request id", bytes32("--request"))
    .option("--reason <code>", "reason code", integer("--reason", 0, 65_535), 0)
    .action(async (options: { subject: string; request: string; reason: number }) => {
      const client = await runtime.client(true);
      const request = await findRequest(client, options.request);
      if (request === undefined || request.subjectId !== options.subject) {
        throw new BadInputError(`no request ${options.request} to this holder`, { field: "--request" });
      }
      const { requestId, receipt } = await (await client.consent.reject(request, options.reason)).wait();
      runtime.emit(
        { requestId, reason: options.reason, transactionHash: receipt.hash },
        `Request ${requestId} rejected.`,
      );
    });

  holder
    .command("grant")
    .description("grant a consumer access directly, without a request")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .requiredOption("--consumer <address>", "the consumer", address("--consumer"))
    .option("--data-type <type[@department]>", "a data type granted (repeatable)", typeArg("--data-type"))
    .option("--asset <id>", "an asset granted (repeatable; instead of --data-type)", ids("--asset"))
    .requiredOption("--purpose <code>", "purpose code", integer("--purpose", 0, 65_535))
    .requiredOption(
      "--duration <time>",
      "how long the grants last: seconds or 90s, 15m, 12h, 30d",
      duration("--duration"),
    )
    .option("--max-reads <n>", "reads allowed per grant", integer("--max-reads", 1, 2 ** 32 - 1), 1)
    .option("--fields <names>", "only these fields (default: the whole record)", names("--fields"))
    .option("--schemas <file>", "JSON array of schema documents for --fields (default: the seed catalog)")
    .action(
      async (options: {
        subject: string;
        consumer: string;
        dataType?: TypeArg[];
        asset?: string[];
        purpose: number;
        duration: number;
        maxReads: number;
        fields?: string[];
        schemas?: string;
      }) => {
        const types = options.dataType ?? [];
        const assets = options.asset ?? [];
        if ((types.length === 0) === (assets.length === 0)) {
          throw new BadInputError("name what is granted: --data-type or --asset, not both", { field: "--data-type" });
        }
        const client = await runtime.client(true);
        const held = assets.length > 0 ? await client.events.assetsOf(options.subject) : [];
        const targets =
          types.length > 0
            ? (await withIssuers(client, types, "--data-type")).map((t) => ({
                dataType: t.dataType,
                target: dataTypeTarget(t.issuer, t.dataType),
              }))
            : assets.map((id) => {
                const found = held.find((a) => a.assetId === id);
                if (found === undefined) throw new BadInputError(`the holder has no asset ${id}`, { field: "--asset" });
                return { dataType: found.key.dataType, target: id };
              });
        const { mask } = await maskOf(
          await schemaSource(options.schemas),
          [...new Set(targets.map((t) => t.dataType))],
          options.fields,
        );
        const now = (await (await runtime.provider()).getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000);
        const { grants, receipt } = await (
          await client.consent.grant({
            subjectId: options.subject,
            consumers: [options.consumer],
            scope: types.length > 0 ? "DataType" : "Asset",
            targets: targets.map((t) => t.target),
            fields: mask,
            purpose: options.purpose,
            expiresAt: now + options.duration,
            maxReads: options.maxReads,
          })
        ).wait();
        runtime.emit(
          { grantIds: grants.map((g) => g.grantId), grants, transactionHash: receipt.hash },
          `Granted: ${grants.map((g) => `${g.grantId} (until ${new Date(g.expiresAt * 1000).toISOString()})`).join(", ")}.`,
        );
      },
    );

  holder
    .command("grants")
    .description("the holder's grants in their latest versions, with reads used")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .action(async (options: { subject: string }) => {
      const grants = await (await runtime.client(false)).events.grantsOf(options.subject);
      runtime.emit(grants, () =>
        grants.length === 0
          ? "(no grants)"
          : grants
              .map(
                (g) =>
                  `${g.grantId}  ${g.status}  ${g.consumerName || g.key.consumer}  ${purposeText(g.key.purpose)}  ` +
                  `${g.reads}/${g.maxReads} reads  until ${new Date(g.expiresAt * 1000).toISOString()}`,
              )
              .join("\n"),
      );
    });

  holder
    .command("revoke")
    .description("revoke a grant at once")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .requiredOption("--grant <id>", "the grant id (holder grants lists them)", bytes32("--grant"))
    .action(async (options: { subject: string; grant: string }) => {
      const client = await runtime.client(true);
      const grant = (await client.events.grantsOf(options.subject)).find((g) => g.grantId === options.grant);
      if (grant === undefined)
        throw new BadInputError(`the holder has no grant ${options.grant}`, { field: "--grant" });
      const { grantId, version, receipt } = await (await client.consent.revoke(grant.key)).wait();
      runtime.emit(
        { grantId, version, transactionHash: receipt.hash },
        `Grant ${grantId} (version ${version}) revoked.`,
      );
    });

  holder
    .command("usage")
    .description("who read the holder's data, when, for what, read n of m, with the outcome reported")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .action(async (options: { subject: string }) => {
      const usage = await (await runtime.client(false)).events.usageOf(options.subject);
      runtime.emit(usage, () =>
        usage.length === 0
          ? "(nobody has read this holder's data)"
          : usage
              .map(
                (u) =>
                  `${new Date(u.readAt * 1000).toISOString()}  ${u.consumerName || u.consumer} read ` +
                  `${u.dataTypeName || `type ${u.dataType}`} from ${u.issuerName || u.issuer} for ${purposeText(u.purpose)}: ` +
                  `read ${u.readNumber} of ${u.maxReads}, outcome ${u.outcome ?? "not reported"}`,
              )
              .join("\n"),
      );
    });

  holder
    .command("handover")
    .description("hand control of the subject to a new key (ends every outstanding signature)")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .requiredOption("--to <address>", "the new controller", address("--to"))
    .action(async (options: { subject: string; to: string }) => {
      const client = await runtime.client(true);
      const { subjectId, controller, receipt } = await (
        await client.subjects.transferControl(options.subject, options.to)
      ).wait();
      runtime.emit(
        { subjectId, controller, transactionHash: receipt.hash },
        `Subject ${subjectId} is now controlled by ${controller}.`,
      );
    });

  const recovery = holder
    .command("recovery")
    .description("recover a lost key: an identity authority starts, anyone completes after the delay");
  recovery
    .command("start")
    .description("start the recovery of a lost key (signed by an identity authority)")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .requiredOption("--new-controller <address>", "the holder's new key", address("--new-controller"))
    .action(async (options: { subject: string; newController: string }) => {
      const client = await runtime.client(true);
      const { executableAt, receipt } = await (
        await client.subjects.initiateRecovery(options.subject, options.newController)
      ).wait();
      runtime.emit(
        {
          subjectId: options.subject,
          newController: options.newController,
          executableAt,
          transactionHash: receipt.hash,
        },
        `Recovery started: ${options.newController} can take control from ${new Date(executableAt * 1000).toISOString()} ` +
          `unless the current key or the authority cancels it.`,
      );
    });
  recovery
    .command("cancel")
    .description("cancel a pending recovery (the current controller, or the authority that started it)")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .action(async (options: { subject: string }) => {
      const client = await runtime.client(true);
      const { subjectId, receipt } = await (await client.subjects.cancelRecovery(options.subject)).wait();
      runtime.emit({ subjectId, transactionHash: receipt.hash }, `Recovery of ${subjectId} cancelled.`);
    });
  recovery
    .command("complete")
    .description("complete a recovery whose delay has passed (anyone may)")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .action(async (options: { subject: string }) => {
      const client = await runtime.client(true);
      const { controller, receipt } = await (await client.subjects.completeRecovery(options.subject)).wait();
      runtime.emit(
        { subjectId: options.subject, controller, transactionHash: receipt.hash },
        `Subject ${options.subject} is now controlled by ${controller}.`,
      );
    });
  recovery
    .command("status")
    .description("the pending recovery, if any")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .action(async (options: { subject: string }) => {
      const pending = await (await runtime.client(false)).subjects.pendingRecovery(options.subject);
      runtime.emit(
        pending ?? null,
        pending === undefined
          ? "(no recovery pending)"
          : `${pending.newController} can take control from ${new Date(pending.executableAt * 1000).toISOString()} (started by ${pending.authority}).`,
      );
    });

  const key = holder
    .command("key")
    .description("the holder's encryption key in the key directory (payloads are released to it)");
  key
    .command("set")
    .description("set or rotate the holder's key with the controller's EIP-712 signature (relayed by this account)")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .requiredOption(
      "--suite <suite>",
      "X25519Hpke (32-byte key) or Sm2 (64-byte point)",
      oneOf("--suite", ["X25519Hpke", "Sm2"] as const),
    )
    .requiredOption("--public-key <hex>", "the public key, 0x-hex")
    .action(async (options: { subject: string; suite: "X25519Hpke" | "Sm2"; publicKey: string }) => {
      const client = await runtime.client(true);
      const wallet = await runtime.signer();
      const controller = (await client.subjects.get(options.subject)).controller;
      if (controller.toLowerCase() !== wallet.address.toLowerCase()) {
        throw new RefusedError(`${wallet.address} does not control the subject (${controller} does)`, {
          field: "--keystore",
        });
      }
      const input = { subjectId: options.subject, suite: options.suite, publicKey: options.publicKey };
      const authorization = await client.keys.signHolderKey(wallet, input);
      const set = await (await client.keys.setHolderKeyBySig(input, authorization)).wait();
      runtime.emit(
        {
          subjectId: options.subject,
          suite: options.suite,
          publicKey: options.publicKey,
          authorization,
          transactionHash: set.receipt.hash,
        },
        `Holder key of ${options.subject} set (${options.suite}).`,
      );
    });
  key
    .command("show")
    .description("the holder's current key, if any")
    .requiredOption(...SUBJECT, bytes32("--subject"))
    .action(async (options: { subject: string }) => {
      const current = await (await runtime.client(false)).keys.holderKey(options.subject);
      runtime.emit(current ?? null, current === undefined ? "(no key set)" : `${current.suite} ${current.publicKey}`);
    });
}
