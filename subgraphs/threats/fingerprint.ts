/**
 * A report's content fingerprint: what makes a replay of a `reportId` the
 * same report. SHA-256 (hex) of the canonical JSON of the device, the
 * observation time (epoch ms) and the threats ordered by external id (unique
 * within a report), each as its fields in a fixed order: the same report sent
 * with its threats in another order or with other JSON spacing has the same
 * fingerprint; another device, observation time or any threat field does not.
 */
import { createHash } from "node:crypto";
import type { Report } from "./data/reports.js";

export function reportFingerprint(report: Report): string {
  const threats = [...report.threats]
    .sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0))
    .map((t) => [t.externalId, t.category, t.severity, t.title, t.status]);
  return createHash("sha256").update(JSON.stringify([report.deviceId, report.observedAt.getTime(), threats])).digest("hex");
}
