/** The inventory subgraph: app inventories synced by the MDM, shared with the MTD partner only as the tenant allows. */
import { runSubgraph, type SubgraphDeps } from "../runtime.js";
import { consumeDeviceEvents } from "./consumers.js";
import { createContext } from "./context.js";
import { ENTITIES } from "./data/entities.js";
import { Inventory0001_1767225600000 } from "./data/migrations/0001-inventory.js";
import { InventoryRepository } from "./data/repository.js";
import { resolvers } from "./resolvers/index.js";

export function start(deps: SubgraphDeps) {
  return runSubgraph(deps, {
    name: "inventory",
    entities: ENTITIES,
    migrations: [Inventory0001_1767225600000],
    setup: ({ work, events, logger, audit }) => {
      const inventory = new InventoryRepository(work, audit);
      return { resolvers, context: (base) => createContext(base, inventory), consumers: [consumeDeviceEvents(events, inventory, logger)] };
    },
  });
}
