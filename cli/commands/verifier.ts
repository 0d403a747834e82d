/*
 * verifier: anyone checks an asset (an electronic licence) on chain: issued by whom, for which
 * data type, and whether it is valid now. Exit 0 when valid, 3 when not (unknown, revoked,
 * superseded, expired, or its issuer suspended).
 */
import type { Command } from "commander";

import { getAddress } from "ethers";

import { type AssetKey, type DataSafeClient, URI_SCHEME, assetIdOf, parseVerifyUri } from "../../sdk/index.js";
import { bytes32 } from "../args.js";
import { BadInputError, RefusedError } from "../errors.js";
import { fields } from "../output.js";
import type { Runtime } from "../runtime.js";

export function register(program: Command, runtime: Runtime): void {
  const verifier = program.command("verifier").description("check an asset on chain");
  verifier
    .command("verify")
    .description("is this asset valid now? (exit 0 valid, 3 not)")
    .argument("<asset>", "the asset id (0x…, 32 bytes) or a scanned datasafe:1/verify?… URI")
    .action(async (asset: string) => {
      const client = await runtime.client(false);
      const { assetId, key } = await assetOf(asset, client);
      // With the key (a URI that carries it), verifyAsset also proves issuer, holder and content match the id.
      const [record, valid] = await Promise.all([
        client.assets.get(assetId),
        key === undefined ? client.assets.isValid(assetId) : client.assets.verify(key).then((v) => v.valid),
      ]);
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
        checkedKey: key !== undefined,
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

/** The asset id (and key, if the URI carries it) of an id or a `datasafe:` verify URI for this deployment. */
async function assetOf(asset: string, client: DataSafeClient): Promise<{ assetId: string; key?: AssetKey }> {
  if (!asset.startsWith(`${URI_SCHEME}:`)) return { assetId: bytes32("asset")(asset) };
  const uri = parseVerifyUri(asset);
  const provider = client.runner.provider;
  const chainId = provider === null || provider === undefined ? undefined : (await provider.getNetwork()).chainId;
  if (chainId !== undefined && uri.chainId !== chainId) {
    throw new BadInputError(`the URI is for chain ${uri.chainId}, the node serves ${chainId}`, { field: "asset" });
  }
  if (getAddress(uri.dataSafe) !== getAddress(client.address)) {
    throw new BadInputError(`the URI names the deployment ${uri.dataSafe}, not ${client.address}`, { field: "asset" });
  }
  if (uri.key !== undefined) return { assetId: assetIdOf(uri.key), key: uri.key };
  return { assetId: uri.assetId as string };
}
