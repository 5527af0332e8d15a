/** The devices subgraph: enrollment, retirement, and the Device entity every other subgraph extends. */
import { runSubgraph, type SubgraphDeps } from "../runtime.js";
import { createContext } from "./context.js";
import { DeviceEntity } from "./data/entities.js";
import { Devices0001 } from "./data/migrations/0001-devices.js";
import { DeviceRepository } from "./data/repository.js";
import { resolvers } from "./resolvers/index.js";

export function start(deps: SubgraphDeps) {
  return runSubgraph(deps, {
    name: "devices",
    entities: [DeviceEntity],
    migrations: [Devices0001],
    setup: ({ database, outbox }) => {
      const devices = new DeviceRepository(database.dataSource, outbox);
      return { resolvers, context: (base) => createContext(base, devices) };
    },
  });
}
