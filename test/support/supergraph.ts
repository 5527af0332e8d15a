/** The supergraph of the committed subgraph SDLs, each passed through `edit`, with a test graph's subgraph URLs in join__graph. */
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { subgraphsWithSchema } from "../../gateway/supergraph.js";
import type { TestGraph } from "./graph.js";

export function composeSupergraph(graph: TestGraph, edit: (name: string, sdl: string) => string = (_name, sdl) => sdl): string {
  const result = composeServices(
    subgraphsWithSchema().map((name) => ({
      name,
      url: graph.subgraphs[name]!.url,
      typeDefs: parse(edit(name, readFileSync(new URL(`../../schema/${name}.graphql`, import.meta.url), "utf8"))),
    })),
  );
  if (result.errors !== undefined) throw new Error(result.errors.map((error) => error.message).join("\n"));
  return result.supergraphSdl;
}

/** An `edit` that removes `subgraph`'s Subscription type: its subscription fields leave the supergraph. */
export function withoutSubscriptions(subgraph: string): (name: string, sdl: string) => string {
  return (name, sdl) => (name === subgraph ? sdl.replace(/type Subscription \{[^}]*\}/, "") : sdl);
}
