import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import KeyDirectory from "./KeyDirectory.js";
import { CATALOG_FUNCTION_ROLES, DATA_SAFE_FUNCTION_ROLES, Role, type RoleName, selectorsOf } from "./roles.js";

const PARAMETER_OF: Record<RoleName, string> = {
  OPERATOR: "operator",
  MEMBER_ADMIN: "memberAdmin",
  CATALOG_ADMIN: "catalogAdmin",
  REGULATOR: "regulator",
};

/**
 * Who may do what: maps every restricted function to its role, labels the roles, and grants each
 * role to the account named by the parameters with the execution delay they set. A role member
 * with a delay must schedule its calls through the AccessManager and wait before executing them;
 * the regulator's suspensions are protective and have none.
 *
 * Parameters (module "Permissions"): operator, memberAdmin, catalogAdmin, regulator (addresses);
 * operatorDelay, memberAdminDelay, catalogAdminDelay (seconds, default 0); grantDelay (seconds
 * before a newly granted role takes effect, default 0).
 */
export default buildModule("Permissions", (m) => {
  const { manager, catalog, dataSafe, keyDirectory } = m.useModule(KeyDirectory);
  const grantDelay = m.getParameter("grantDelay", 0);

  for (const role of Object.keys(PARAMETER_OF) as RoleName[]) {
    const roleId = Role[role];
    const coreSelectors = selectorsOf(DATA_SAFE_FUNCTION_ROLES[role]);
    const catalogSelectors = selectorsOf(CATALOG_FUNCTION_ROLES[role]);
    const label = m.call(manager, "labelRole", [roleId, role], { id: `label_${role}` });
    const wiring = [];
    if (coreSelectors.length > 0) {
      wiring.push(m.call(manager, "setTargetFunctionRole", [dataSafe, coreSelectors, roleId], { id: `core_${role}` }));
    }
    if (catalogSelectors.length > 0) {
      wiring.push(
        m.call(manager, "setTargetFunctionRole", [catalog, catalogSelectors, roleId], { id: `catalog_${role}` }),
      );
    }
    const delay = role === "REGULATOR" ? 0 : m.getParameter(`${PARAMETER_OF[role]}Delay`, 0);
    const setGrantDelay = m.call(manager, "setGrantDelay", [roleId, grantDelay], {
      id: `grantDelay_${role}`,
      after: [label],
    });
    m.call(manager, "grantRole", [roleId, m.getParameter<string>(PARAMETER_OF[role]), delay], {
      id: `grant_${role}`,
      after: [...wiring, setGrantDelay],
    });
  }

  return { manager, catalog, dataSafe, keyDirectory };
});
