/** Where generate-network.ts and allowlists.ts write each file of a generated network folder. */
import path from "node:path";

import { PERMISSIONS_FILE } from "./topology.js";

export const networkFiles = (outDir: string) => ({
  genesis: path.join(outDir, "genesis.json"),
  nodes: path.join(outDir, "nodes.json"),
  key: (node: string) => path.join(outDir, node, "key"),
  publicKey: (node: string) => path.join(outDir, node, "key.pub"),
  env: (node: string) => path.join(outDir, node, "besu.env"),
  /** The allowlists every node starts with; docker-compose.yml installs it into each data volume. */
  permissions: path.join(outDir, PERMISSIONS_FILE),
  /** The allowlists as they were before the last change, kept to show what the change removed. */
  previousPermissions: path.join(outDir, PERMISSIONS_FILE.replace(/\.toml$/, ".previous.toml")),
});
