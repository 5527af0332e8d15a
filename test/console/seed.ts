/**
 * A tenant for the console's browser test, set up through the graph like an
 * admin and a partner would: a connector, policies, three devices, apps, and
 * one revocation already stored (so the Access changes page opens on history).
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

export interface Tenant {
  tenantId: string;
  admin: string;
  analyst: string;
  partner: string;
  /** Stored access changes of the tenant. */
  changeCount(): Promise<number>;
  /** The partner reports one threat on a device, ACTIVE or RESOLVED. */
  report(deviceId: string, severity: "LOW" | "MEDIUM" | "HIGH", status: "ACTIVE" | "RESOLVED"): Promise<void>;
}

export const DEVICES = [
  { id: "alice-iphone", name: "Alice iPhone", platform: "IOS", ownership: "CORPORATE", userPrincipalName: "alice@contoso.example" },
  { id: "bob-pixel", name: "Bob Pixel", platform: "ANDROID", ownership: "CORPORATE", userPrincipalName: "bob@contoso.example" },
  { id: "carol-ipad", name: "Carol iPad", platform: "IOS", ownership: "PERSONAL", userPrincipalName: "carol@contoso.example" },
] as const;

export async function seedTenant(graph: TestGraph): Promise<Tenant> {
  const tenantId = `console-${randomUUID().slice(0, 8)}`;
  const admin = await graph.token({ tenantId, role: "admin", subject: "ada@contoso.example" });
  const analyst = await graph.token({ tenantId, role: "analyst", subject: "ann@contoso.example" });
  const partner = await graph.token({ tenantId, role: "partner", partner: "LOOKOUT" });
  const must = async (token: string, document: string, variables: Record<string, unknown>) => {
    const result = await graph.query(token, document, variables);
    expect(result.errors, document).toBeUndefined();
    return result.data!;
  };

  await must(admin, `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { state } }`, {
    input: { partner: "LOOKOUT", enabledPlatforms: ["IOS", "ANDROID", "WINDOWS"], blockOnMissingPartnerData: ["WINDOWS"], unresponsiveAfterMinutes: 60 },
  });
  for (const platform of ["IOS", "ANDROID"]) {
    await must(admin, `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id } }`, { input: { platform, name: `${platform} baseline`, maxThreatLevel: "LOW" } });
  }
  await must(admin, `mutation($input: SetConditionalAccessPolicyInput!) { setConditionalAccessPolicy(input: $input) { id } }`, {
    input: { name: "Mail", resources: ["exchange"], platforms: ["IOS", "ANDROID"], enabled: true },
  });
  for (const device of DEVICES) {
    await must(admin, `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`, { input: { ...device, osVersion: device.platform === "IOS" ? "18.1" : "15" } });
  }
  const sync = `mutation($deviceId: ID!, $capturedAt: DateTime!, $apps: [AppInput!]!) { syncAppInventory(deviceId: $deviceId, capturedAt: $capturedAt, apps: $apps) { appCount } }`;
  const outlook = (version: string) => ({ appId: "com.microsoft.Office.Outlook", name: "Outlook", version, validated: true, managed: true });
  await must(admin, sync, { deviceId: "alice-iphone", capturedAt: new Date().toISOString(), apps: [outlook("4.2410.1"), { appId: "com.example.notes", name: "Notes", version: "2.0", validated: true, managed: false }] });
  await must(admin, sync, { deviceId: "carol-ipad", capturedAt: new Date().toISOString(), apps: [outlook("4.2301.0")] });

  const changeCount = async () => (await must(admin, `{ accessChanges(first: 1) { totalCount } }`, {})).accessChanges.totalCount as number;
  const report: Tenant["report"] = async (deviceId, severity, status) => {
    await must(partner, `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`, {
      input: {
        reportId: randomUUID(),
        deviceId,
        observedAt: new Date().toISOString(),
        threats: [{ externalId: `jailbreak-${deviceId}`, category: "OS", severity, title: "Device is jailbroken", status }],
      },
    });
  };
  const before = await changeCount();
  await report("bob-pixel", "HIGH", "ACTIVE");
  await waitFor(async () => (await changeCount()) > before, 20_000, "Bob's revocation stored");
  return { tenantId, admin, analyst, partner, changeCount, report };
}
