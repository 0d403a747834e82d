/*
 * department: return data to holders in bulk (the SDK's resumable importAssets), revoke and
 * supersede assets, and answer holders' return requests.
 */
import type { Command } from "commander";
import { SingleBar } from "cli-progress";

import { type ImportProgress, type ImportReport, importAssets, readImportFile } from "../../sdk/index.js";
import { address, bytes32, integer, oneOf } from "../args.js";
import { RefusedError } from "../errors.js";
import type { Runtime } from "../runtime.js";

export function register(program: Command, runtime: Runtime): void {
  const department = program
    .command("department")
    .description("issue, revoke and supersede assets; answer return requests");

  department
    .command("issue")
    .description(
      "issue the rows of a CSV or JSONL file (subjectId,dataType,contentCommitment[,payloadPointer,validUntil,issuer]); " +
        "every row is checked before anything is sent; a killed run, run again, finishes with nothing duplicated",
    )
    .requiredOption("--from <file>", "the rows: .csv (with a header) or .jsonl")
    .option("--checkpoint <file>", "journal that makes the import resumable (default: <file>.checkpoint.jsonl)")
    .option(
      "--format <format>",
      "csv or jsonl (default: from the extension)",
      oneOf("--format", ["csv", "jsonl"] as const),
    )
    .option("--max-rows <n>", "refuse a file of more rows (default 1,000,000)", integer("--max-rows", 1))
    .option(
      "--batch-size <n>",
      "assets per transaction at most (default: as many as the gas cap allows)",
      integer("--batch-size", 1, 10_000),
    )
    .option(
      "--in-flight <n>",
      "transactions sent and not yet mined at once (default 8)",
      integer("--in-flight", 1, 256),
    )
    .option("--no-progress", "no progress bar")
    .action(
      async (o: {
        from: string;
        checkpoint?: string;
        format?: "csv" | "jsonl";
        maxRows?: number;
        batchSize?: number;
        inFlight?: number;
        progress: boolean;
      }) => {
        const client = await runtime.client(true);
        const gasPrice = await runtime.gasPrice();
        const rows = await readImportFile(o.from, client, { format: o.format, maxRows: o.maxRows });
        runtime.note(`${rows.length} rows checked`);
        const abort = new AbortController();
        const stop = () => abort.abort();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        const bar = o.progress && !runtime.json ? progressBar() : undefined;
        let report: ImportReport;
        try {
          report = await importAssets(client, rows, {
            journal: o.checkpoint ?? `${o.from}.checkpoint.jsonl`,
            maxBatchSize: o.batchSize,
            maxInFlight: o.inFlight,
            signal: abort.signal,
            fees: gasPrice === undefined ? undefined : { gasPrice },
            onProgress: (progress) => bar?.update(progress),
          });
        } finally {
          bar?.stop();
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
        }
        const perSecond = report.elapsedMs > 0 ? Math.round((report.issued * 1000) / report.elapsedMs) : 0;
        const summary = {
          total: report.total,
          issued: report.issued,
          alreadyIssued: report.alreadyIssued,
          refused: report.refused,
          transactions: report.transactions,
          gasUsed: report.gasUsed,
          batchSize: report.batchSize,
          resumed: report.resumed,
          elapsedMs: report.elapsedMs,
          assetsPerSecond: perSecond,
        };
        runtime.emit(summary, () =>
          [
            `issued ${report.issued}, already issued ${report.alreadyIssued}, refused ${report.refused.length} of ${report.total} rows`,
            `${report.transactions} transactions, ${report.gasUsed} gas, ${perSecond} assets/s${report.resumed ? " (resumed)" : ""}`,
            ...report.refused.slice(0, 20).map((r) => `refused row ${r.row} (${r.assetId}): ${r.reason}`),
          ].join("\n"),
        );
        if (report.refused.length > 0) {
          throw new RefusedError(
            `${report.refused.length} rows refused by the chain (first: row ${report.refused[0].row}: ${report.refused[0].reason})`,
            {
              row: report.refused[0].row,
              file: o.from,
            },
          );
        }
      },
    );

  const assetKey = (command: Command) =>
    command
      .requiredOption("--subject <id>", "the holder's subject id", bytes32("--subject"))
      .requiredOption("--data-type <n>", "the data type", integer("--data-type", 1, 2 ** 32 - 1))
      .requiredOption("--commitment <hex>", "the asset's content commitment", bytes32("--commitment"))
      .option("--issuer <address>", "the issuing department (default: the keystore's account)", address("--issuer"));

  assetKey(department.command("revoke"))
    .description("revoke an asset this department issued")
    .requiredOption("--reason <code>", "reason code (the network's convention)", integer("--reason", 0, 65_535))
    .action(async (o: KeyOptions & { reason: number }) => {
      const client = await runtime.client(true);
      const key = await keyOf(runtime, o);
      const mined = await (await client.assets.revoke(key, o.reason)).wait();
      runtime.emit(
        { assetId: mined.assetId, reason: o.reason, transaction: mined.receipt.hash },
        `revoked ${mined.assetId}`,
      );
    });

  assetKey(department.command("supersede"))
    .description("replace an asset by a new version (the old one becomes Superseded)")
    .requiredOption("--new-commitment <hex>", "the new version's content commitment", bytes32("--new-commitment"))
    .option("--payload-pointer <hex>", "locator of the new version's encrypted payload", bytes32("--payload-pointer"))
    .option("--valid-until <unix>", "expiry of the new version (default none)", integer("--valid-until"))
    .action(async (o: KeyOptions & { newCommitment: string; payloadPointer?: string; validUntil?: number }) => {
      const client = await runtime.client(true);
      const key = await keyOf(runtime, o);
      const mined = await (
        await client.assets.supersede(key, {
          subjectId: key.subjectId,
          dataType: key.dataType,
          contentCommitment: o.newCommitment,
          payloadPointer: o.payloadPointer,
          validUntil: o.validUntil,
        })
      ).wait();
      runtime.emit(
        { previousAssetId: mined.previousAssetId, assetId: mined.assetId, transaction: mined.receipt.hash },
        `superseded ${mined.previousAssetId} by ${mined.assetId}`,
      );
    });

  const returns = department.command("returns").description("holders' requests that this department return data");
  returns
    .command("list")
    .description("return requests addressed to this department (--department, or the keystore's account)")
    .option("--department <address>", "the department (default: the keystore's account)", address("--department"))
    .option("--all", "include fulfilled, declined and cancelled requests")
    .action(async (o: { department?: string; all?: boolean }) => {
      const client = await runtime.client(false);
      const department = o.department ?? (await (await runtime.signer()).getAddress());
      const core = client.contracts.dataSafe;
      const events = await core.queryFilter(
        core.filters.ReturnRequested(undefined, undefined, department),
        client.fromBlock,
      );
      const requests = await Promise.all(
        events.map(async (e) => ({
          ...(await client.assets.getReturnRequest(e.args.requestId)),
          block: e.blockNumber,
        })),
      );
      runtime.emit(o.all === true ? requests : requests.filter((r) => r.status === "Open"));
    });
  returns
    .command("fulfil")
    .description("answer a return request with an asset")
    .argument("<requestId>", "the request", bytes32("requestId"))
    .requiredOption("--commitment <hex>", "the asset's content commitment", bytes32("--commitment"))
    .option("--payload-pointer <hex>", "locator of the encrypted payload", bytes32("--payload-pointer"))
    .option("--valid-until <unix>", "expiry (default none)", integer("--valid-until"))
    .action(async (requestId: string, o: { commitment: string; payloadPointer?: string; validUntil?: number }) => {
      const client = await runtime.client(true);
      const request = await client.assets.getReturnRequest(requestId);
      const mined = await (
        await client.assets.fulfilReturnRequest(requestId, {
          subjectId: request.subjectId,
          dataType: request.dataType,
          contentCommitment: o.commitment,
          payloadPointer: o.payloadPointer,
          validUntil: o.validUntil,
        })
      ).wait();
      runtime.emit(
        { requestId, assetId: mined.assetId, transaction: mined.receipt.hash },
        `fulfilled ${requestId} with ${mined.assetId}`,
      );
    });
  returns
    .command("decline")
    .description("decline a return request")
    .argument("<requestId>", "the request", bytes32("requestId"))
    .requiredOption("--reason <code>", "reason code (the network's convention)", integer("--reason", 0, 65_535))
    .action(async (requestId: string, o: { reason: number }) => {
      const client = await runtime.client(true);
      const mined = await (await client.assets.declineReturnRequest(requestId, o.reason)).wait();
      runtime.emit(
        { requestId: mined.requestId, reason: o.reason, transaction: mined.receipt.hash },
        `declined ${requestId}`,
      );
    });
}

interface KeyOptions {
  subject: string;
  dataType: number;
  commitment: string;
  issuer?: string;
}

async function keyOf(runtime: Runtime, o: KeyOptions) {
  const issuer = o.issuer ?? (await (await runtime.signer()).getAddress());
  return { issuer, subjectId: o.subject, dataType: o.dataType, contentCommitment: o.commitment };
}

/** A counting bar on stderr: rows done of total, rate, ETA; lines every 2 s when stderr is not a terminal. */
function progressBar(): { update(progress: ImportProgress): void; stop(): void } {
  const bar = new SingleBar({
    format:
      "issuing {bar} {value}/{total} rows | {issued} issued, {alreadyIssued} already, {refused} refused | {transactions} tx | {eta_formatted}",
    stream: process.stderr,
    noTTYOutput: !process.stderr.isTTY,
    notTTYSchedule: 2000,
    hideCursor: true,
  });
  let started = false;
  return {
    update(p) {
      const payload = {
        issued: p.issued,
        alreadyIssued: p.alreadyIssued,
        refused: p.refused,
        transactions: p.transactions,
      };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else bar.update(p.done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
