import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import Permissions from "./Permissions.js";
import { Role } from "./roles.js";

/**
 * Hands the AccessManager's admin role from the deploying account to the network's governance
 * account (a multisig, say) with an execution delay, and has the deployer renounce it. Run it
 * once the suite is configured and `newAdmin` is checked: afterwards every change of roles or
 * function mappings is scheduled by `newAdmin` and waits `adminDelay` seconds.
 *
 * Parameters (module "AdminHandover"): newAdmin (address), adminDelay (seconds, default 1 day).
 */
export default buildModule("AdminHandover", (m) => {
  const { manager, catalog, dataSafe, keyDirectory } = m.useModule(Permissions);
  const grant = m.call(
    manager,
    "grantRole",
    [Role.ADMIN, m.getParameter<string>("newAdmin"), m.getParameter("adminDelay", 86_400)],
    {
      id: "grant_new_admin",
    },
  );
  m.call(manager, "renounceRole", [Role.ADMIN, m.getAccount(0)], { id: "renounce_deployer_admin", after: [grant] });
  return { manager, catalog, dataSafe, keyDirectory };
});
