import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The suite's AccessManager. The deploying account is its first admin; hand the admin role to the
 * network's governance account with `AdminHandover` once the suite is configured.
 */
export default buildModule("Governance", (m) => {
  const manager = m.contract("DataSafeAccessManager", [m.getAccount(0)]);
  return { manager };
});
