import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import Governance from "./Governance.js";

/** The data catalog (data dictionary), governed by the suite's AccessManager. */
export default buildModule("DataCatalog", (m) => {
  const { manager } = m.useModule(Governance);
  const catalog = m.contract("DataCatalog", [manager]);
  return { manager, catalog };
});
