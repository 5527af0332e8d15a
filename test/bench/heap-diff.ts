/**
 * `npx tsx test/bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [rows]`:
 * what grew between two heap snapshots of one process (the soak writes them
 * with BENCH_HEAPSNAPSHOT), by node type and constructor or string: count and
 * self size in each, the difference, largest growth first. Reads each file
 * whole (run with --max-old-space-size=4096 for large heaps).
 */
import { readFileSync } from "node:fs";
import { printTable } from "./table.js";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string | string[])[] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size by "type name" (strings and code by type only: their names are their contents). */
function census(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0] as string[];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((field) => fields.indexOf(field));
  const byKind = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = types[snapshot.nodes[i + typeAt!]!]!;
    const named = type === "object" || type === "closure" || type === "native" || type === "hidden";
    const key = named ? `${type} ${snapshot.strings[snapshot.nodes[i + nameAt!]!]!.slice(0, 60)}` : type;
    const entry = byKind.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snapshot.nodes[i + sizeAt!]!;
    byKind.set(key, entry);
  }
  return byKind;
}

const [beforeFile, afterFile, rows = "25"] = process.argv.slice(2);
if (beforeFile === undefined || afterFile === undefined) throw new Error("usage: heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [rows]");
const before = census(beforeFile);
const after = census(afterFile);
const total = (census: Map<string, { bytes: number }>) => [...census.values()].reduce((sum, entry) => sum + entry.bytes, 0);
const kinds = [...new Set([...before.keys(), ...after.keys()])].map((kind) => {
  const [b, a] = [before.get(kind) ?? { count: 0, bytes: 0 }, after.get(kind) ?? { count: 0, bytes: 0 }];
  return { kind, b, a, grew: a.bytes - b.bytes };
});
kinds.sort((x, y) => Math.abs(y.grew) - Math.abs(x.grew));
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
console.log(`self size: ${kib(total(before))} KiB → ${kib(total(after))} KiB (${kib(total(after) - total(before))} KiB)\n`);
printTable(
  ["type and constructor", "count before", "count after", "KiB before", "KiB after", "KiB grown"],
  kinds.slice(0, Number(rows)).map(({ kind, b, a, grew }) => [kind, b.count, a.count, kib(b.bytes), kib(a.bytes), kib(grew)]),
);
