/**
 * The shape of the private network that docker-compose.yml runs: four QBFT validators and one RPC
 * node on a private bridge network with fixed addresses. generate-network.ts writes the keys,
 * genesis and bootnode lists for exactly these nodes; ops/scripts/check-compose.ts checks that the
 * compose file matches them.
 */

export type NodeRole = "validator" | "rpc";

export interface BesuNode {
  /** Compose service name; also the folder of its key under the generated network folder. */
  name: string;
  role: NodeRole;
  /** Fixed address on the compose network: enode URLs need an IP address, not a host name. */
  ip: string;
}

/** The compose network: private to the host, addresses fixed so enode URLs stay valid. */
export const SUBNET = "172.16.240.0/24";

export const NODES: readonly BesuNode[] = [
  { name: "validator1", role: "validator", ip: "172.16.240.11" },
  { name: "validator2", role: "validator", ip: "172.16.240.12" },
  { name: "validator3", role: "validator", ip: "172.16.240.13" },
  { name: "validator4", role: "validator", ip: "172.16.240.14" },
  { name: "rpc1", role: "rpc", ip: "172.16.240.21" },
];

export const VALIDATORS = NODES.filter((node) => node.role === "validator");

/** Devp2p (TCP) and discovery (UDP) port inside every container. */
export const P2P_PORT = 30303;

/** JSON-RPC over HTTP, served by the RPC node only. */
export const RPC_HTTP_PORT = 8545;

/**
 * Where the RPC node's JSON-RPC port is published on the host: loopback only. Remote clients
 * (the SDK, the CLI, integrators) go through a TLS reverse proxy on the host, see README.md.
 */
export const RPC_HOST_BINDING = `127.0.0.1:${RPC_HTTP_PORT}`;

/**
 * Where JSON-RPC over HTTP listens inside each container. A validator serves it on the container's
 * loopback only, for its health check: nothing outside the container reaches it. The RPC node
 * listens on every interface of its container, because Docker forwards the published port (and the
 * compose network) to the container's own address, not to its loopback.
 */
export const RPC_HTTP_HOST: Record<NodeRole, string> = { validator: "127.0.0.1", rpc: "0.0.0.0" };

/**
 * World-state storage by role. Validators need recent state only: Bonsai, Besu's default, small
 * and fast. The RPC node answers auditors, who query the state at past blocks (`eth_call` and
 * `eth_getStorageAt` at a block number): it keeps every block's state, as an archive node, with
 * Forest. Besu 25.12 has an archive mode for Bonsai only as an experimental option
 * (`X_BONSAI_ARCHIVE`); Besu's documentation says not to run an archive node on plain Bonsai.
 */
export const DATA_STORAGE_FORMAT: Record<NodeRole, string> = { validator: "BONSAI", rpc: "FOREST" };

/** Besu's liveness endpoint, served on the JSON-RPC HTTP port: 200 once the node runs. */
export const LIVENESS_PATH = "/liveness";

/** The local permissioning file (accounts and nodes allowlists), one for every node. */
export const PERMISSIONS_FILE = "permissions_config.toml";

/** Paths inside the containers. */
export const CONTAINER_PATHS = {
  config: "/config",
  network: "/network",
  genesis: "/network/genesis.json",
  data: "/opt/besu/data",
  nodeKey: "/opt/besu/data/key",
  // In the data volume, which belongs to the besu user: Besu does not apply a permissions file it
  // cannot write (besu#2515), and a read-only bind mount would be one.
  permissions: `/opt/besu/data/${PERMISSIONS_FILE}`,
} as const;

/** The besu user of the hyperledger/besu image. */
export const BESU_UID = 1000;

/** The generated network folder, relative to ops/besu (git-ignored by ops/besu/.gitignore). */
export const DEFAULT_NETWORK_DIR = "network";
