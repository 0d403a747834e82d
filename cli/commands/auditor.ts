/*
 * auditor: the access trail of a holder or a consumer, statistics of reads, and an export of the
 * trail for a block range.
 */
import { writeFile } from "node:fs/promises";

import type { Command } from "commander";

import type { UsageRecord } from "../../sdk/index.js";
import { address, bytes32, integer, oneOf } from "../args.js";
import { BadInputError } from "../errors.js";
import { table, toJson } from "../output.js";
import type { Runtime } from "../runtime.js";
import { EventTrailSource, type StatsDimension, type TrailRange, type TrailSource, statsBy, toCsv } from "../trail.js";

const DIMENSIONS = ["consumer", "dataType", "purpose", "day"] as const;

export function register(program: Command, runtime: Runtime): void {
  const auditor = program
    .command("auditor")
    .description("the access trail: who read what, when, why, with which outcome");

  const withRange = (command: Command) =>
    command
      .option("--from-block <n>", "first block (default: the deployment's)", integer("--from-block"))
      .option("--to-block <n>", "last block (default: latest)", integer("--to-block"));

  withRange(auditor.command("trail"))
    .description("every recorded read of a holder's data (--holder) or by a consumer (--consumer)")
    .option("--holder <subjectId>", "the holder's subject id", bytes32("--holder"))
    .option("--consumer <address>", "the consumer's account", address("--consumer"))
    .action(async (o: { holder?: string; consumer?: string } & RangeOptions) => {
      if (o.holder === undefined && o.consumer === undefined) {
        throw new BadInputError("pass --holder SUBJECT_ID or --consumer ADDRESS (or both)", { field: "--holder" });
      }
      const reads = await (await source(runtime)).reads({ subjectId: o.holder, consumer: o.consumer }, rangeOf(o));
      runtime.emit(reads, () => table(reads.map(row)));
    });

  withRange(auditor.command("stats"))
    .description("reads by consumer, data type, purpose and day, with the share that reported an outcome")
    .option("--by <dimension>", `one of ${DIMENSIONS.join(", ")} (default: all)`, oneOf("--by", DIMENSIONS))
    .action(async (o: { by?: StatsDimension } & RangeOptions) => {
      const reads = await (await source(runtime)).reads({}, rangeOf(o));
      const dimensions = o.by === undefined ? DIMENSIONS : [o.by];
      const stats = Object.fromEntries(dimensions.map((d) => [d, statsBy(reads, d)]));
      runtime.emit({ reads: reads.length, ...stats }, () =>
        [
          `${reads.length} reads`,
          ...dimensions.flatMap((d) => [
            "",
            `by ${d}:`,
            table(
              stats[d].map((s) => ({
                [d]: s.key,
                reads: s.reads,
                withOutcome: s.withOutcome,
                ratio: s.outcomeRatio,
                outcomes: s.outcomes,
              })),
            ),
          ]),
        ].join("\n"),
      );
    });

  withRange(auditor.command("export"))
    .description("write the trail of a block range to a file (CSV or JSON)")
    .requiredOption("--out <file>", "file to write")
    .option("--format <format>", "csv or json", oneOf("--format", ["csv", "json"] as const), "csv")
    .option("--holder <subjectId>", "only this holder's data", bytes32("--holder"))
    .option("--consumer <address>", "only this consumer's reads", address("--consumer"))
    .action(async (o: { out: string; format: "csv" | "json"; holder?: string; consumer?: string } & RangeOptions) => {
      const trail = await source(runtime);
      const range = rangeOf(o);
      const reads = await trail.reads({ subjectId: o.holder, consumer: o.consumer }, range);
      await writeFile(o.out, o.format === "csv" ? toCsv(reads) : `${toJson(reads)}\n`);
      const result = { file: o.out, format: o.format, reads: reads.length, source: trail.name, ...range };
      runtime.emit(result, `${reads.length} reads → ${o.out}`);
    });
}

interface RangeOptions {
  fromBlock?: number;
  toBlock?: number;
}

function rangeOf(o: RangeOptions): TrailRange {
  if (o.fromBlock !== undefined && o.toBlock !== undefined && o.fromBlock > o.toBlock) {
    throw new BadInputError(`${o.fromBlock} is after --to-block ${o.toBlock}`, { field: "--from-block" });
  }
  return { fromBlock: o.fromBlock, toBlock: o.toBlock ?? "latest" };
}

/** The trail's source: the chain's events (an indexer API source plugs in here). */
async function source(runtime: Runtime): Promise<TrailSource> {
  return new EventTrailSource(await runtime.client(false));
}

function row(r: UsageRecord): Record<string, unknown> {
  return {
    readAt: new Date(r.readAt * 1000).toISOString(),
    consumer: r.consumerName || r.consumer,
    dataType: r.dataTypeName || r.dataType,
    issuer: r.issuerName || r.issuer,
    purpose: r.purpose,
    read: `${r.readNumber}/${r.maxReads}`,
    outcome: r.outcome ?? "",
    accessId: r.accessId,
  };
}
