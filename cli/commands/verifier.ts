/*
 * verifier: anyone checks an asset (an electronic licence) on chain: issued by whom, for which
 * data type, and whether it is valid now. Exit 0 when valid, 3 when not (unknown, revoked,
 * superseded, expired, or its issuer suspended).
 */
import type { Command } from "commander";

import { bytes32 } from "../args.js";
import { RefusedError } from "../errors.js";
import { fields } from "../output.js";
import type { Runtime } from "../runtime.js";

export function register(program: Command, runtime: Runtime): void {
  const verifier = program.command("verifier").description("check an asset on chain");
  verifier
    .command("verify")
    .description("is this asset valid now? (exit 0 valid, 3 not)")
    .argument("<asset>", "the asset id (0x…, 32 bytes)")
    .action(async (asset: string) => {
      const assetId = bytes32("asset")(asset);
      const client = await runtime.client(false);
      const [record, valid] = await Promise.all([client.assets.get(assetId), client.assets.isValid(assetId)]);
      const core = client.contracts.dataSafe;
      const [issued] =
        record.status === "None" ? [] : await core.queryFilter(core.filters.AssetIssued(assetId), client.fromBlock);
      const issuer = issued?.args.issuer;
      const [issuerName, typeName] = await Promise.all([
        issuer === undefined ? "" : client.members.get(issuer).then((m) => m.name),
        record.status === "None" ? "" : client.catalog.get(record.dataType).then((t) => t.name),
      ]);
      const result = {
        assetId,
        valid,
        status: record.status,
        dataType: record.dataType,
        dataTypeName: typeName,
        issuer: issuer ?? null,
        issuerName,
        subjectTag: record.subjectTag,
        issuedAt: record.issuedAt,
        validUntil: record.validUntil,
      };
      runtime.emit(result, () => fields({ ...result, valid: valid ? "VALID" : "NOT VALID" }));
      if (!valid) {
        throw new RefusedError(
          record.status === "None"
            ? "no asset with this id was ever issued"
            : `the asset is not valid (status ${record.status})`,
          { field: "asset" },
        );
      }
    });
}
