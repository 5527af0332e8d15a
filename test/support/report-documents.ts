/** `reportThreats` with its values written inline (every report a new document): a common client style the memory benchmarks send. */

export interface ReportInput {
  reportId: string;
  deviceId: string;
  observedAt: string;
  threats: { externalId: string; category: string; severity: string; title: string; status: string }[];
}

/** The document of `reportThreats(input)` with the input inline, selecting `selection`. */
export function inlineReport(input: ReportInput, selection = "duplicate"): string {
  const threats = input.threats.map((t) => `{ externalId: ${JSON.stringify(t.externalId)}, category: ${t.category}, severity: ${t.severity}, title: ${JSON.stringify(t.title)}, status: ${t.status} }`).join(", ");
  return `mutation { reportThreats(input: { reportId: ${JSON.stringify(input.reportId)}, deviceId: ${JSON.stringify(input.deviceId)}, observedAt: ${JSON.stringify(input.observedAt)}, threats: [${threats}] }) { ${selection} } }`;
}
