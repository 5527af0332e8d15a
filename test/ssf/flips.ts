/** Publishes `compliance.changed` the way the policies evaluator does: the transmitter's input, without the whole ingest path. */
import { randomUUID } from "node:crypto";
import type { ComplianceChangedPayload } from "../../lib/events/contracts.js";
import type { TestGraph } from "../support/graph.js";

type State = "COMPLIANT" | "NONCOMPLIANT";

/** Per device, the last state published (flips alternate, as the evaluator's do). */
const states = new Map<string, State>();

export async function flip(graph: TestGraph, tenantId: string, deviceId: string, options: { upn?: string | null; to?: State } = {}): Promise<ComplianceChangedPayload> {
  const key = `${tenantId}/${deviceId}`;
  const previous = states.get(key) ?? null;
  const current: State = options.to ?? (previous === "NONCOMPLIANT" ? "COMPLIANT" : "NONCOMPLIANT");
  states.set(key, current);
  const changeId = randomUUID();
  const at = new Date().toISOString();
  const payload: ComplianceChangedPayload = {
    changeId,
    deviceId,
    userPrincipalName: options.upn === undefined ? `${deviceId}@example.com` : options.upn,
    previous,
    current,
    reason: current === "NONCOMPLIANT" ? "risk HIGH exceeds IOS policy maximum LOW" : "risk SECURED within IOS policy maximum LOW",
    at,
    platform: "IOS",
    partner: "LOOKOUT",
    level: current === "NONCOMPLIANT" ? "HIGH" : "SECURED",
    policy: { id: "p-1", name: "iOS baseline", maxThreatLevel: "LOW" },
  };
  await graph.events.publish("policies", [{ id: changeId, type: "compliance.changed", tenantId, aggregateId: deviceId, occurredAt: at, payload }]);
  return payload;
}
