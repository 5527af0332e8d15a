/** `npm run compose`: composes schema/*.graphql into schema/supergraph.graphql. */
import { writeFileSync } from "node:fs";
import { composeSupergraph, SUPERGRAPH_FILE, subgraphsWithSchema } from "../gateway/supergraph.js";

try {
  writeFileSync(SUPERGRAPH_FILE, composeSupergraph());
  console.log(`composed ${subgraphsWithSchema().join(", ")} into schema/supergraph.graphql`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
