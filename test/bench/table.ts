/** Prints benchmark results as an aligned table. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (typeof cell === "number" ? format(cell) : cell)))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => String(row[column] ?? "").length)));
  const line = (row: (string | number)[]) => row.map((cell, column) => String(cell).padEnd(widths[column]!)).join(" | ");
  console.log(line(cells[0]!));
  console.log(widths.map((width) => "-".repeat(width)).join("-|-"));
  for (const row of cells.slice(1)) console.log(line(row));
}

function format(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(value < 10 ? 2 : 1);
}
