import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import DataSafe from "./DataSafe.js";

/**
 * The key directory: the encryption keys of members and holders that payloads are released to,
 * beside the core it reads members and controllers from. It has no governed function and no
 * parameters: members and controllers set their own keys.
 */
export default buildModule("KeyDirectory", (m) => {
  const { manager, catalog, dataSafe } = m.useModule(DataSafe);
  const keyDirectory = m.contract("KeyDirectory", [dataSafe]);
  return { manager, catalog, dataSafe, keyDirectory };
});
