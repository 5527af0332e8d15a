/**
 * The demo's fourth part: beyond all-or-nothing. A second partner (Microsoft
 * Defender) covers Windows, whose compliance policy gives a device an hour's
 * grace period before it is cut off; and the help desk grants a revoked iPhone
 * a time-boxed exception to mail, which the enforcement service receives as a
 * restoration with an `exception:` reason.
 */
type Graphql = <T = any>(token: string, query: string, variables?: Record<string, unknown>) => Promise<T>;

export interface HelpdeskPart {
  graphql: Graphql;
  admin: string;
  lookout: string;
  defender: string;
  say: (line: string) => void;
  bold: (text: string) => string;
  /** Registers a change the enforcement service must receive. */
  expectChange: (deviceId: string, allowed: boolean, resources: string[]) => void;
}

const DEVICE = `query($id: ID!) { device(id: $id) { complianceState complianceDeadline access { resource allowed reason } } }`;

/** Polls the device until `done` holds (5 s at most): policies applies events asynchronously. */
async function until(part: HelpdeskPart, id: string, done: (device: any) => boolean): Promise<any> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { device } = await part.graphql(part.admin, DEVICE, { id });
    if ((device !== null && done(device)) || Date.now() > deadline) return device;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reports threats until the threats subgraph knows the device (it learns devices from events). */
async function reportWhenKnown(part: HelpdeskPart, partner: string, deviceId: string, severity: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await part.graphql(partner, `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`, {
        input: { reportId: `helpdesk-${deviceId}-${attempt}`, deviceId, observedAt: new Date().toISOString(), threats: [{ externalId: `${deviceId}-t`, category: "APP", severity, title: "Sideloaded banking trojan", status: "ACTIVE" }] },
      });
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOT_FOUND")) || attempt > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function helpdesk(part: HelpdeskPart): Promise<void> {
  const { graphql, admin, say, bold } = part;
  say(`\n${bold("4. beyond all-or-nothing")}: a partner per platform, a grace period, an exception`);
  await graphql(admin, `mutation { enableMtdConnector(input: { partner: MICROSOFT_DEFENDER, enabledPlatforms: [WINDOWS] }) { state } }`);
  await graphql(admin, `mutation { setCompliancePolicy(input: { platform: WINDOWS, name: "Windows threat level", maxThreatLevel: LOW, gracePeriodMinutes: 60 }) { id } }`);
  await graphql(admin, `mutation { setConditionalAccessPolicy(input: { name: "Windows mail", resources: ["exchange"], platforms: [WINDOWS], enabled: true }) { id } }`);
  say(`   MTD connector: MICROSOFT_DEFENDER, ENABLED for WINDOWS (LOOKOUT keeps IOS and ANDROID); Windows: at most LOW, 60 minutes' grace`);
  await graphql(admin, `mutation { enrollDevice(input: { id: "laptop-1", name: "Grace's Surface", platform: WINDOWS, osVersion: "11", ownership: CORPORATE }) { id } }`);
  await reportWhenKnown(part, part.defender, "laptop-1", "HIGH");
  const laptop = await until(part, "laptop-1", (device) => device.complianceState === "IN_GRACE_PERIOD");
  say(`   Grace's Surface: HIGH from MICROSOFT_DEFENDER → ${bold(laptop.complianceState)} until ${laptop.complianceDeadline}; exchange still allowed: ${laptop.access[0]?.reason}`);

  await graphql(admin, `mutation { enrollDevice(input: { id: "ceo-phone", name: "The CEO's iPhone", platform: IOS, osVersion: "17.5", ownership: CORPORATE }) { id } }`);
  part.expectChange("ceo-phone", false, ["exchange", "sharepoint"]);
  await reportWhenKnown(part, part.lookout, "ceo-phone", "HIGH");
  await until(part, "ceo-phone", (device) => device.complianceState === "NONCOMPLIANT");
  const expiresAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
  part.expectChange("ceo-phone", true, ["exchange"]);
  const exception = await graphql(admin, `mutation($input: GrantAccessExceptionInput!) { grantAccessException(input: $input) { id expiresAt } }`, {
    input: { deviceId: "ceo-phone", resources: ["exchange"], reason: "CEO travelling, help desk ticket 4711", expiresAt },
  });
  say(`   help desk: exception ${exception.grantAccessException.id} gives the CEO's iPhone exchange until ${expiresAt} (sharepoint stays revoked)`);
}
