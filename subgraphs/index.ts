/** Every subgraph this build serves, by name: the one list `npm start` and the tests read. */
import type { SubgraphName } from "../lib/config.js";
import type { RunningSubgraph, SubgraphDeps } from "./runtime.js";
import { start as devices } from "./devices/server.js";
import { start as threats } from "./threats/server.js";
import { start as inventory } from "./inventory/server.js";
import { start as policies } from "./policies/server.js";
import { start as signals } from "./signals/server.js";

export const SUBGRAPHS: Partial<Record<SubgraphName, (deps: SubgraphDeps) => Promise<RunningSubgraph>>> = {
  devices,
  threats,
  inventory,
  policies,
  signals,
};
