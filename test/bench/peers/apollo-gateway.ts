/**
 * The stock peer: `@apollo/gateway` + `@apollo/server` as their docs set them
 * up (startStandaloneServer), on the supergraph in `SUPERGRAPH_FILE`, port
 * `PORT`. No auth of its own and no subscriptions: it forwards the caller's
 * Authorization header, which the subgraphs verify.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";

interface Context {
  authorization?: string;
}

// As ours (gateway/server.ts): no usage reports to Apollo, no probes of cloud metadata endpoints.
process.env.APOLLO_TELEMETRY_DISABLED = "true";
const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(process.env.SUPERGRAPH_FILE!, "utf8"),
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource<Context>({
      url,
      willSendRequest({ request, context }) {
        if (context.authorization !== undefined) request.http?.headers.set("authorization", context.authorization);
      },
    }),
});
const server = new ApolloServer<Context>({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT), host: "127.0.0.1" },
  context: async ({ req }: { req: IncomingMessage }) => ({ authorization: req.headers.authorization }),
});
console.log(`stock Apollo gateway at ${url}`);
process.once("SIGTERM", () => void server.stop().then(() => process.exit(0)));
