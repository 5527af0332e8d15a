/**
 * The gateway's one data source for subgraph fetches: queries and mutations
 * (through @apollo/gateway) and the per-event entity fetches of subscriptions
 * (gateway/subscriptions/execute.ts) alike.
 *
 * - Forwards the caller's verified token and the request id.
 * - The fetches of a query may join an identical one in flight (same token,
 *   subgraph-http.ts); a mutation's or subscription's never do.
 * - Times every fetch: `mtd_gateway_subgraph_fetch_duration_seconds{subgraph, operation}`;
 *   with tracing on, in a client span `fetch <subgraph>` under the span the
 *   request's context carries (its request span, or a subscription event's
 *   `subscription deliver`), whose `traceparent` goes to the subgraph.
 * - A subgraph that refuses a request with a non-2xx status still says why in
 *   its GraphQL errors: its first error is passed on with its code.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { GraphQLError } from "graphql";
import type { Identity } from "../lib/auth.js";
import { metrics, operationLabel } from "../lib/metrics.js";
import { bindSpan, childSpan, SpanKind, spanOf, traceparentOf } from "../lib/tracing.js";
import { OPERATION_HEADER, subgraphFetcher } from "./subgraph-http.js";

/** What the gateway knows of every request it forwards. */
export interface ForwardingContext {
  identity?: Identity;
  requestId: string;
}

export class SubgraphDataSource extends RemoteGraphQLDataSource<ForwardingContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
  ) {
    // Keep-alive pool, in-flight deduplication of identical query fetches (subgraph-http.ts).
    super({ url, fetcher: subgraphFetcher });
  }

  override process(options: GraphQLDataSourceProcessOptions<ForwardingContext>) {
    const attributes = { "mtd.subgraph": this.subgraph };
    return childSpan(spanOf(options.context), `fetch ${this.subgraph}`, attributes, SpanKind.CLIENT, (span) => this.timed(bindSpan(options, span)));
  }

  private async timed(options: GraphQLDataSourceProcessOptions<ForwardingContext>) {
    const started = process.hrtime.bigint();
    try {
      return await super.process(options);
    } finally {
      const name = "incomingRequestContext" in options ? options.incomingRequestContext.operationName : undefined;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.subgraphFetchDuration.observe({ subgraph: this.subgraph, operation: operationLabel("gateway", name) }, seconds);
    }
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<ForwardingContext>) {
    const { request, context } = options;
    const operation = "incomingRequestContext" in options ? options.incomingRequestContext.operation?.operation : undefined;
    request.http?.headers.set(OPERATION_HEADER, operation ?? "internal");
    // The fetch span's, so the subgraph's request span is its child; not part of the deduplication key (subgraph-http.ts).
    const traceparent = traceparentOf(spanOf(options));
    if (traceparent !== undefined) request.http?.headers.set("traceparent", traceparent);
    if (context.identity === undefined) return;
    request.http?.headers.set("authorization", context.identity.authorization);
    request.http?.headers.set("x-request-id", context.requestId);
  }

  /** Apollo Server answers 400 when a variable fails its scalar (e.g. a negative SafeInt): pass on its error, not "400: Bad Request". */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource["errorFromResponse"]>[0]) {
    const body = (await this.parseBody(response.clone())) as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] } | string;
    const first = typeof body === "object" ? body.errors?.[0] : undefined;
    if (typeof first?.message === "string" && typeof first.extensions?.code === "string") {
      return new GraphQLError(first.message, { extensions: { code: first.extensions.code } });
    }
    return super.errorFromResponse(response);
  }
}
