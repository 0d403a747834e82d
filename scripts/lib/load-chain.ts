/**
 * The chain the load generator fills: Hardhat's embedded network (EDR) in this process, configured
 * like the private network (besuLike: chain id 1337, zero gas price), its clock starting in December
 * 2020 so the load's January-to-May 2021 timeline fits after the deployment, blocks large enough for
 * an hour of a city's traffic, and the suite deployed through the production Ignition modules (the
 * operator with an execution delay, so its acts go through the AccessManager's schedule).
 *
 * The embedded network has no HTTP port; `serveJsonRpc` (demo-gateway.ts) serves its provider to
 * processes that follow it over JSON-RPC (the indexer).
 */
import { network } from "hardhat";

import Permissions from "../../deploy/modules/Permissions.js";
import { DEPARTMENTS, type DepartmentKey } from "../catalog.js";
import type { Address } from "../../sdk/index.js";
import { CONNECTING_BANKS, JOINED_BANKS, type LoadChain } from "./load.js";

/** The operator's execution delay on the load chain (seconds). */
export const LOAD_OPERATOR_DELAY = 86_400;

/** A load chain and the connection it lives in. */
export interface StartedLoadChain extends LoadChain {
  connection: Awaited<ReturnType<typeof network.create>>;
  /** The block the suite was deployed from (the indexer's start block). */
  startBlock: number;
  close(): Promise<void>;
}

/**
 * Starts the embedded network and deploys the suite. Accounts (the network's dev accounts, unlocked):
 * 0 deployer, 1 operator, 2 member admin, 3 catalog admin, 4 regulator, 5 identity authority,
 * 6 the safe-box app (relayer), 7-12 the six departments, 13-26 the fourteen banks.
 */
export async function startLoadChain(): Promise<StartedLoadChain> {
  const connection = await network.create({
    network: "besuLike",
    override: {
      initialDate: "2020-12-01T00:00:00Z",
      // An hour of traffic (hundreds of reads, tens of 100-asset batches) goes in one block.
      blockGasLimit: 20_000_000_000n,
      accounts: { count: 30 },
    },
  });
  const provider = connection.provider;
  const accounts = (await provider.request({ method: "eth_accounts" })) as Address[];
  const departmentKeys = Object.keys(DEPARTMENTS) as DepartmentKey[];
  const roles = {
    operator: accounts[1],
    memberAdmin: accounts[2],
    catalogAdmin: accounts[3],
    regulator: accounts[4],
    identityAuthority: accounts[5],
    relayer: accounts[6],
    departments: Object.fromEntries(departmentKeys.map((key, i) => [key, accounts[7 + i]])) as Record<
      DepartmentKey,
      Address
    >,
    banks: accounts.slice(13, 13 + JOINED_BANKS + CONNECTING_BANKS),
  };
  const startBlock = Number(BigInt((await provider.request({ method: "eth_blockNumber" })) as string)) + 1;
  const deployed = await connection.ignition.deploy(Permissions, {
    parameters: {
      Permissions: {
        operator: roles.operator,
        memberAdmin: roles.memberAdmin,
        catalogAdmin: roles.catalogAdmin,
        regulator: roles.regulator,
        operatorDelay: LOAD_OPERATOR_DELAY,
      },
    },
  });
  const chainId = BigInt((await provider.request({ method: "eth_chainId" })) as string);
  return {
    connection,
    provider,
    chainId,
    startBlock,
    operatorDelay: LOAD_OPERATOR_DELAY,
    suite: {
      dataSafe: (await deployed.dataSafe.getAddress()) as Address,
      catalog: (await deployed.catalog.getAddress()) as Address,
      keyDirectory: (await deployed.keyDirectory.getAddress()) as Address,
      accessManager: (await deployed.manager.getAddress()) as Address,
    },
    roles,
    close: () => connection.close(),
  };
}
