/**
 * What our SETs say. A body (`sub_id`, `events`, `txn`) is fixed when the SET
 * is queued; `iss`, `aud`, `iat` and `jti` are added when it is signed
 * (`claims`). One event per SET; `sub_id` always; never `sub` nor `exp`.
 */
import type { ComplianceChangedPayload } from "../../lib/events/contracts.js";
import { deviceSubject, streamSubject } from "./subjects.js";
import { EventType, type ComplianceStatus, type DeviceComplianceChange, type SetClaims, type StreamStatus, type SubjectIdentifier } from "./protocol.js";

export interface SetBody {
  sub_id: SubjectIdentifier;
  events: Record<string, Record<string, unknown>>;
  txn?: string;
}

export interface ComplianceSetOptions {
  /** The stream asked for `session-revoked`: one more SET on a flip to not-compliant. */
  sessionRevoked: boolean;
  /** Okta mode: the subject also inside the event (`subject { user, device }`). */
  okta: boolean;
}

/** The SETs of one compliance flip for one stream, in the order they go out. */
export function complianceSets(change: ComplianceChangedPayload, options: ComplianceSetOptions & { deviceCompliance: boolean }): { eventType: EventType; body: SetBody }[] {
  const subject = deviceSubject(change.deviceId, change.userPrincipalName);
  const eventTimestamp = Math.floor(Date.parse(change.at) / 1000);
  const okta = options.okta ? { subject: oktaSubject(subject) } : {};
  const status = (state: "COMPLIANT" | "NONCOMPLIANT"): ComplianceStatus => (state === "COMPLIANT" ? "compliant" : "not-compliant");
  const sets: { eventType: EventType; body: SetBody }[] = [];
  if (options.deviceCompliance) {
    const event: DeviceComplianceChange = {
      ...okta,
      // A device seen for the first time was implicitly compliant (policies' evaluator).
      previous_status: status(change.previous ?? "COMPLIANT"),
      current_status: status(change.current),
      event_timestamp: eventTimestamp,
      initiating_entity: "policy",
      reason_admin: { en: adminReason(change) },
      reason_user: {
        en:
          change.current === "COMPLIANT"
            ? "Your device meets your organization's security requirements again."
            : "Your device no longer meets your organization's security requirements.",
      },
    };
    sets.push({ eventType: EventType.DEVICE_COMPLIANCE_CHANGE, body: { sub_id: subject, events: { [EventType.DEVICE_COMPLIANCE_CHANGE]: { ...event } }, txn: change.changeId } });
  }
  if (options.sessionRevoked && change.current === "NONCOMPLIANT") {
    sets.push({
      eventType: EventType.SESSION_REVOKED,
      body: {
        sub_id: subject,
        events: {
          [EventType.SESSION_REVOKED]: {
            ...okta,
            event_timestamp: eventTimestamp,
            initiating_entity: "policy",
            reason_admin: { en: `Sessions revoked because the device became not compliant. ${adminReason(change)}` },
          },
        },
        txn: change.changeId,
      },
    });
  }
  return sets;
}

export function verificationSet(streamId: string, state: string | undefined): SetBody {
  return { sub_id: streamSubject(streamId), events: { [EventType.VERIFICATION]: state === undefined ? {} : { state } } };
}

export function streamUpdatedSet(streamId: string, status: StreamStatus, reason: string | undefined): SetBody {
  return { sub_id: streamSubject(streamId), events: { [EventType.STREAM_UPDATED]: reason === undefined ? { status } : { status, reason } } };
}

/** The full claims of a SET at signing time. */
export function claims(body: SetBody, values: { iss: string; aud: string; jti: string; now: number }): SetClaims {
  return { iss: values.iss, aud: values.aud, iat: Math.floor(values.now / 1000), jti: values.jti, ...body };
}

/** Names the partner, the risk and the policy, whatever the reason text already says. */
function adminReason(change: ComplianceChangedPayload): string {
  const verdict = change.current === "COMPLIANT" ? "is compliant again" : "is not compliant";
  const partner = change.partner ?? "none connected";
  const risk = change.level ?? "no partner data";
  const policy =
    change.policy == null
      ? `none for ${change.platform ?? "its platform"}`
      : `"${change.policy.name}" (${change.platform ?? "platform"}, maximum ${change.policy.maxThreatLevel})`;
  return `Device ${change.deviceId} ${verdict}: ${change.reason}. MTD partner: ${partner}; risk: ${risk}; compliance policy: ${policy}.`;
}

/** Okta reads `subject { user, device }` inside the event: the complex subject's members, without `format`. */
function oktaSubject(subject: SubjectIdentifier): Record<string, SubjectIdentifier> {
  const { format: _format, ...members } = subject;
  return members as Record<string, SubjectIdentifier>;
}
