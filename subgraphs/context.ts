/** What every subgraph resolver can rely on: a verified caller. Each subgraph's `context.ts` extends it with its loaders and services. */
import type { Identity } from "../lib/auth.js";
import type { Logger } from "../lib/logger.js";

export interface RequestContext {
  identity: Identity;
  requestId: string;
  logger: Logger;
}
