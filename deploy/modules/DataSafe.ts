import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import DataCatalog from "./DataCatalog.js";

/** Three days: long enough for a holder to notice a recovery and cancel it. */
const DEFAULT_RECOVERY_DELAY = 3 * 24 * 60 * 60;

/** The core: members, subjects, assets, consent and the access log. */
export default buildModule("DataSafe", (m) => {
  const { manager, catalog } = m.useModule(DataCatalog);
  const recoveryDelay = m.getParameter("recoveryDelay", DEFAULT_RECOVERY_DELAY);
  const dataSafe = m.contract("DataSafe", [manager, catalog, recoveryDelay]);
  return { manager, catalog, dataSafe };
});
