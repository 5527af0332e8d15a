// Hive Gateway for the benchmarks (`hive-gateway supergraph <file> -c this`):
// the caller's Authorization goes to every subgraph, over HTTP as a header and,
// for subscriptions, over graphql-ws in `connection_init` (our subgraphs' WebSocket
// contract). Over WebSocket Hive merges the client's `connection_init` payload into
// `context.headers`, so `{ authorization }` there is found the same way.
import { defineConfig } from "@graphql-hive/gateway";

export const gatewayConfig = defineConfig({
  logging: "warn",
  propagateHeaders: {
    fromClientToSubgraphs: ({ request, context }) => {
      const authorization = request?.headers.get("authorization") ?? context?.headers?.authorization ?? context?.connectionParams?.authorization;
      return authorization ? { authorization } : {};
    },
  },
  transportEntries: {
    "*.http": {
      options: {
        subscriptions: {
          kind: "ws",
          location: "/graphql",
          options: { connectionParams: { authorization: "{context.headers.authorization}" } },
        },
      },
    },
  },
});
