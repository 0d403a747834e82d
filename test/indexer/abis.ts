/*
 * indexer/abis.ts is generated from artifacts/ and committed (the indexer runs without a compile):
 * it must still be what the generator makes from the contracts as compiled now.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

import { ABI_SOURCES, abisSource, eventsOf } from "../../indexer/scripts/generate-abis.js";
import { ROOT } from "../helpers/processes.js";

describe("indexer ABIs", () => {
  it("indexer/abis.ts matches the compiled contracts (npm run indexer:abis regenerates it)", async () => {
    const committed = readFileSync(path.join(ROOT, "indexer", "abis.ts"), "utf8");
    expect(committed).to.equal(await abisSource());
  });

  it("holds every event of the suite's interfaces and of the AccessManager", () => {
    const names = (contract: string) => eventsOf(contract).map((item) => item.name);
    expect(names(ABI_SOURCES.dataSafeAbi)).to.include.members([
      "MemberRegistered",
      "MemberSuspended",
      "SubjectRegistered",
      "ControllerChanged",
      "RecoveryInitiated",
      "AssetIssued",
      "AssetSuperseded",
      "ReturnRequested",
      "AccessRequested",
      "GrantIssued",
      "GrantRevoked",
      "AccessRecorded",
      "AccessOutcomeRecorded",
    ]);
    expect(names(ABI_SOURCES.dataCatalogAbi)).to.include.members(["DataTypeDefined", "IssuerAuthorised"]);
    expect(names(ABI_SOURCES.keyDirectoryAbi)).to.include.members(["MemberKeySet", "HolderKeySet"]);
    expect(names(ABI_SOURCES.accessManagerAbi)).to.include.members([
      "OperationScheduled",
      "OperationExecuted",
      "OperationCanceled",
      "RoleGranted",
      "RoleRevoked",
      "TargetFunctionRoleUpdated",
      "RoleGrantDelayChanged",
      "TargetAdminDelayUpdated",
    ]);
  });
});
