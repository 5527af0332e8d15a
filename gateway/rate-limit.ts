/**
 * Rate limits at the gateway, enforced once the operation is known and before
 * it is planned or sent anywhere:
 * - per tenant: every HTTP operation costs one token of the bucket `tenant:<tid>`;
 * - per partner: the ingest mutations cost tokens of `partner:<tid>:<partner>`,
 *   one per `reportThreats` / `partnerHeartbeat` field and one per report of
 *   `reportThreatsBatch`, so the bucket counts reports, not requests.
 * An empty bucket refuses the whole operation with `RATE_LIMITED`
 * (`extensions.retryAfterSeconds`, HTTP 429, `Retry-After`). When the store
 * cannot answer (Redis down), the operation goes through: availability wins,
 * readiness turns red and `mtd_rate_limit_store_errors_total` counts it.
 */
import type { ApolloServerPlugin, GraphQLRequestContext } from "@apollo/server";
import { Kind, valueFromASTUntyped, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { Identity } from "../lib/auth.js";
import type { RateLimits } from "../lib/config.js";
import { rateLimited } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import { metrics } from "../lib/metrics.js";
import type { TokenBuckets } from "../lib/rate-limit/index.js";

/** Mutation fields that ingest partner data, and how many tokens one call costs. */
const INGEST_FIELDS: Record<string, (args: Record<string, unknown>) => number> = {
  reportThreats: () => 1,
  partnerHeartbeat: () => 1,
  reportThreatsBatch: (args) => (Array.isArray(args.inputs) ? Math.max(1, args.inputs.length) : 1),
};

export interface RateLimitOptions<TContext> {
  buckets: TokenBuckets;
  limits: RateLimits;
  identityOf: (context: TContext) => Identity | undefined;
  logger: Logger;
}

export function rateLimitPlugin<TContext extends object>({ buckets, limits, identityOf, logger }: RateLimitOptions<TContext>): ApolloServerPlugin<TContext> {
  const take = async (scope: "tenant" | "partner", key: string, cost: number) => {
    const limit = limits[scope];
    if (limit.perSecond === 0 || cost === 0) return;
    let decision;
    try {
      decision = await buckets.take(`${scope}:${key}`, limit, cost);
    } catch (error) {
      metrics.rateLimitErrors.inc();
      logger.warn({ err: error, scope }, "rate limit store unavailable; operation let through");
      return;
    }
    if (!decision.allowed) {
      metrics.rateLimited.inc({ scope });
      throw rateLimited(scope, decision.retryAfterSeconds);
    }
  };

  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext: GraphQLRequestContext<TContext>) {
          const identity = identityOf(requestContext.contextValue);
          if (identity === undefined) return;
          if (identity.role === "partner" && identity.partner !== undefined) {
            const cost = ingestCost(requestContext.document!, requestContext.operation!, requestContext.request.variables ?? {});
            await take("partner", `${identity.tenantId}:${identity.partner}`, cost);
          }
          await take("tenant", identity.tenantId, 1);
        },
      };
    },
  };
}

/** Tokens the operation's ingest fields cost (0 for anything else), fragments on the root included. */
export function ingestCost(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
  if (operation.operation !== "mutation") return 0;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const seen = new Set<string>();
  const cost = (selectionSet: SelectionSetNode): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) total += cost(selection.selectionSet);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment !== undefined && !seen.has(fragment.name.value)) {
          seen.add(fragment.name.value);
          total += cost(fragment.selectionSet);
        }
      } else {
        const price = INGEST_FIELDS[selection.name.value];
        if (price === undefined) continue;
        const args = Object.fromEntries((selection.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value, variables)]));
        total += price(args);
      }
    }
    return total;
  };
  return cost(operation.selectionSet);
}
