/**
 * The signals subgraph: the Shared Signals transmitter (`transmitter.ts`) as
 * its own service. Its GraphQL admin fields (`resolvers/`), its SSF HTTP
 * endpoints on the same port, its `ssf_*` tables, and its own consumer of
 * `compliance.changed` on topic `policies`.
 */
import { olderThan } from "../../lib/retention.js";
import { PROCESSED_EVENTS_KEPT_MS, runSubgraph, type SubgraphDeps } from "../runtime.js";
import type { Context } from "./context.js";
import { SSF_ENTITIES, SsfProcessedEventEntity } from "./data/entities.js";
import { Ssf0001 } from "./data/migrations/0001-ssf.js";
import { Ssf0002 } from "./data/migrations/0002-coarse-errors.js";
import { Ssf0003 } from "./data/migrations/0003-processed-events-age.js";
import { resolvers } from "./resolvers/index.js";
import { createTransmitter } from "./transmitter.js";
import type { Resolver } from "./egress.js";

/** `resolve`: how push endpoints' host names are resolved (default the system resolver; tests inject one). */
export function start(deps: SubgraphDeps & { resolve?: Resolver }) {
  return runSubgraph<Context>(deps, {
    name: "signals",
    entities: SSF_ENTITIES,
    migrations: [Ssf0001, Ssf0002, Ssf0003],
    setup: ({ config, database, outbox, events, logger, audit }) => {
      const transmitter = createTransmitter({ config, dataSource: database.dataSource, events, logger, audit: { trail: audit, outbox }, resolve: deps.resolve });
      return {
        resolvers,
        routes: transmitter?.routes,
        context: (base): Context => ({ ...base, ssf: transmitter?.admin }),
        retention: [olderThan(SsfProcessedEventEntity, "processedAt", PROCESSED_EVENTS_KEPT_MS, "date")],
        // The transmitter names itself by the service's origin unless an issuer is configured.
        afterListen: async (url) => transmitter?.start(new URL(url).origin),
        dispose: async () => transmitter?.dispose(),
      };
    },
  });
}
