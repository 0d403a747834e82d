import type { GatewayConfig } from "../config.js";
import { PostgresStore } from "./postgres.js";
import { SqliteStore } from "./sqlite.js";
import type { PayloadStore } from "./store.js";

export type { PayloadStore, ReleaseRow, StoredPayload } from "./store.js";

/** Opens (and migrates) the store the configuration names. */
export async function openStore(database: GatewayConfig["database"]): Promise<PayloadStore> {
  const store =
    database.kind === "sqlite" ? new SqliteStore(database.path) : new PostgresStore(database.url, database.poolSize);
  await store.init();
  return store;
}
