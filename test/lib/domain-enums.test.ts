/**
 * The shared enums have one TypeScript source (lib/domain-enums.ts); the SDL
 * repeats them for clients. Every schema that declares one must declare
 * exactly its values, in the same order.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Kind, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { DOMAIN_ENUMS } from "../../lib/domain-enums.js";

const SCHEMAS = readdirSync("schema").filter((file) => file.endsWith(".graphql"));

/** Each enum a schema declares, by name, with its values in SDL order. */
function enumsOf(file: string): Map<string, string[]> {
  const document = parse(readFileSync(`schema/${file}`, "utf8"));
  const enums = new Map<string, string[]>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION) enums.set(definition.name.value, (definition.values ?? []).map((value) => value.name.value));
  }
  return enums;
}

const declared = SCHEMAS.map((file) => ({ file, enums: enumsOf(file) }));

describe("shared enums", () => {
  it("reads the subgraph schemas and the supergraph", () => {
    expect(SCHEMAS).toContain("supergraph.graphql");
    expect(SCHEMAS.length).toBeGreaterThan(2);
  });

  for (const { file, enums } of declared) {
    it(`${file} declares each shared enum with the values of lib/domain-enums.ts`, () => {
      const shared = [...enums].filter(([name]) => Object.hasOwn(DOMAIN_ENUMS, name));
      for (const [name, values] of shared) expect({ name, values }).toEqual({ name, values: [...DOMAIN_ENUMS[name as keyof typeof DOMAIN_ENUMS]] });
    });
  }

  it("every shared enum is declared by the supergraph", () => {
    const supergraph = declared.find(({ file }) => file === "supergraph.graphql")!.enums;
    expect(Object.keys(DOMAIN_ENUMS).filter((name) => !supergraph.has(name))).toEqual([]);
  });

  it("an enum declared by two subgraphs is a shared enum", () => {
    const subgraphs = declared.filter(({ file }) => file !== "supergraph.graphql");
    const names = subgraphs.flatMap(({ enums }) => [...enums.keys()]);
    const repeated = [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
    expect(repeated.filter((name) => !Object.hasOwn(DOMAIN_ENUMS, name))).toEqual([]);
  });
});
