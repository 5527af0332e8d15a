/**
 * Rate limits at the gateway, enforced once the operation is known and before
 * it is planned or sent anywhere:
 * - per tenant: every HTTP operation costs one token of the bucket `tenant:<tid>`;
 * - per partner: the mutation fields a subgraph marks `@rateLimited(bucket: "partner")`
 *   in its SDL (the ingest mutations) cost tokens of `partner:<tid>:<partner>`,
 *   one per field, or one per item of its `costArgument` (one per report of a
 *   batch, so the bucket counts reports, not requests). The gateway reads the
 *   directive from the supergraph (a spec composed with `@composeDirective`, as
 *   `@resumable` is) at every load; it names no field itself;
 * - per tenant, every subscription started (`subscribe:<tid>`, on every
 *   transport: the subscription engine takes it with `takeToken`).
 * An empty bucket refuses the whole operation with `RATE_LIMITED`
 * (`extensions.retryAfterSeconds`, HTTP 429, `Retry-After`). When the store
 * cannot answer (Redis down), the operation goes through: availability wins,
 * readiness turns red and `mtd_rate_limit_store_errors_total` counts it.
 */
import type { ApolloServerPlugin, GraphQLRequestContext } from "@apollo/server";
import { isListType, isNonNullType, Supergraph } from "@apollo/federation-internals";
import { Kind, valueFromASTUntyped, type DocumentNode, type GraphQLError, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { Identity } from "../lib/auth.js";
import type { BucketLimit, RateLimits } from "../lib/config.js";
import { rateLimited } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import { metrics } from "../lib/metrics.js";
import type { TokenBuckets } from "../lib/rate-limit/index.js";
import { spanOf, traceIdOf, type Span } from "../lib/tracing.js";

/** The identity of the rate-limit spec a subgraph links to (`@link(url: "https://mtd-graph.dev/ratelimit/v1.0")`). */
export const RATE_LIMIT_SPEC = "https://mtd-graph.dev/ratelimit";
/** The buckets a field may name: `partner`, the calling partner's in its tenant. */
const FIELD_BUCKETS: readonly string[] = ["partner"];

/** A mutation field's `@rateLimited` arguments. */
export interface RateLimitedField {
  bucket: "partner";
  /** A list argument: one token per item (at least one); absent: one per call. */
  costArgument?: string;
}

/** Mutation fields carrying `@rateLimited`, by name, read from a supergraph; throws when one names a bucket or argument the gateway cannot charge. */
export function rateLimitedFields(supergraphSdl: string): ReadonlyMap<string, RateLimitedField> {
  const { schema } = Supergraph.build(supergraphSdl);
  const directive = schema.coreFeatures?.getByIdentity(RATE_LIMIT_SPEC)?.directiveNameInSchema("rateLimited");
  const mutation = schema.schemaDefinition.rootType("mutation");
  const found = new Map<string, RateLimitedField>();
  if (directive === undefined || mutation === undefined) return found;
  for (const field of mutation.fields()) {
    for (const applied of field.appliedDirectivesOf<{ bucket: string; costArgument?: string | null }>(directive)) {
      const { bucket, costArgument } = applied.arguments();
      if (!FIELD_BUCKETS.includes(bucket)) throw new Error(`@${directive} on Mutation.${field.name}: expected bucket ${FIELD_BUCKETS.join(" or ")}; got ${JSON.stringify(bucket)}`);
      if (costArgument == null) {
        found.set(field.name, { bucket: "partner" });
        continue;
      }
      const type = field.argument(costArgument)?.type;
      if (type === undefined || !isListType(isNonNullType(type) ? type.ofType : type)) {
        throw new Error(`@${directive} on Mutation.${field.name}: expected costArgument to name a list argument; got ${JSON.stringify(costArgument)}`);
      }
      found.set(field.name, { bucket: "partner", costArgument });
    }
  }
  return found;
}

export interface RateLimitOptions<TContext> {
  buckets: TokenBuckets;
  limits: RateLimits;
  identityOf: (context: TContext) => Identity | undefined;
  logger: Logger;
}

/** The buckets' scopes: `RATE_LIMITED`'s `extensions.scope` and the `scope` label of `mtd_rate_limited_total`. */
export type RateScope = "tenant" | "partner" | "subscribe";

/**
 * Takes `cost` tokens of the bucket `<scope>:<key>`: resolves to the
 * RATE_LIMITED error when it is empty, to nothing when it is not or when the
 * store cannot answer (let through: counted and logged, with the trace id of
 * `span`, the operation's).
 */
export async function takeToken(buckets: TokenBuckets, logger: Logger, scope: RateScope, key: string, limit: BucketLimit, cost = 1, span?: Span): Promise<GraphQLError | undefined> {
  if (limit.perSecond === 0 || cost === 0) return undefined;
  let decision;
  try {
    decision = await buckets.take(`${scope}:${key}`, limit, cost);
  } catch (error) {
    metrics.rateLimitErrors.inc();
    // The trace id of the operation let through, from the span its request carries (`span`): the gateway has no current one.
    logger.warn({ err: error, scope, traceId: traceIdOf(span) }, "rate limit store unavailable; operation let through");
    return undefined;
  }
  if (decision.allowed) return undefined;
  metrics.rateLimited.inc({ scope });
  return rateLimited(scope, decision.retryAfterSeconds);
}

export function rateLimitPlugin<TContext extends object>({ buckets, limits, identityOf, logger }: RateLimitOptions<TContext>): ApolloServerPlugin<TContext> {
  // Read from the supergraph at every load (none before the first: the gateway serves nothing then).
  let limitedFields: ReadonlyMap<string, RateLimitedField> = new Map();
  const take = async (scope: "tenant" | "partner", key: string, cost: number, span: Span | undefined) => {
    const refused = await takeToken(buckets, logger, scope, key, limits[scope], cost, span);
    if (refused !== undefined) throw refused;
  };

  return {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ coreSupergraphSdl }) {
          if (coreSupergraphSdl !== undefined) limitedFields = rateLimitedFields(coreSupergraphSdl);
        },
      };
    },
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext: GraphQLRequestContext<TContext>) {
          const identity = identityOf(requestContext.contextValue);
          if (identity === undefined) return;
          const span = spanOf(requestContext.contextValue);
          if (identity.role === "partner" && identity.partner !== undefined) {
            const cost = partnerCost(limitedFields, requestContext.document!, requestContext.operation!, requestContext.request.variables ?? {});
            await take("partner", `${identity.tenantId}:${identity.partner}`, cost, span);
          }
          await take("tenant", identity.tenantId, 1, span);
        },
      };
    },
  };
}

/** Tokens the operation's rate-limited fields cost (0 for anything else), fragments on the root included. */
function partnerCost(fields: ReadonlyMap<string, RateLimitedField>, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
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
        const limited = fields.get(selection.name.value);
        if (limited === undefined) continue;
        if (limited.costArgument === undefined) {
          total += 1;
          continue;
        }
        const argument = selection.arguments?.find((a) => a.name.value === limited.costArgument);
        const items = argument === undefined ? undefined : valueFromASTUntyped(argument.value, variables);
        total += Array.isArray(items) ? Math.max(1, items.length) : 1;
      }
    }
    return total;
  };
  return cost(operation.selectionSet);
}
