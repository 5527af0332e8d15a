/** Small shared pieces of the views: errors as the graph words them, labels of the graph's enums, times. */
import type { ReactNode } from "react";
import type { CombinedError } from "urql";
import { errorText } from "./graph/errors";

export const PLATFORMS = ["IOS", "ANDROID", "WINDOWS", "MACOS"] as const;
export const THREAT_LEVELS = ["SECURED", "LOW", "MEDIUM", "HIGH"] as const;

const PLATFORM_NAMES: Record<string, string> = { IOS: "iOS", ANDROID: "Android", WINDOWS: "Windows", MACOS: "macOS" };
export const platformName = (platform: string) => PLATFORM_NAMES[platform] ?? platform;

/** `MEDIUM` → `Medium`, `NONCOMPLIANT` → `Noncompliant`, `CHECK_POINT_SANDBLAST_MOBILE` → `Check point sandblast mobile`. */
export const words = (value: string) => value.charAt(0) + value.slice(1).toLowerCase().replace(/_/g, " ");

export function riskName(level: string | null | undefined) {
  return level == null ? "No data" : words(level);
}

export function Badge({ tone, children }: { tone: "good" | "warn" | "bad" | "none"; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function RiskBadge({ level }: { level: string | null | undefined }) {
  const tone = level == null ? "none" : level === "HIGH" ? "bad" : level === "MEDIUM" ? "warn" : "good";
  return <Badge tone={tone}>{riskName(level)}</Badge>;
}

export function ComplianceBadge({ state }: { state: string }) {
  return <Badge tone={state === "COMPLIANT" ? "good" : state === "NONCOMPLIANT" ? "bad" : "warn"}>{words(state)}</Badge>;
}

export function ErrorNote({ error }: { error?: CombinedError | string }) {
  if (error === undefined) return null;
  return (
    <p role="alert" className="error">
      {typeof error === "string" ? error : errorText(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="muted">
      Loading {what}…
    </p>
  );
}

export function Time({ at }: { at: string | null | undefined }) {
  if (at == null) return <span className="muted">never</span>;
  const date = new Date(at);
  return <time dateTime={at}>{date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}</time>;
}

/** A table that scrolls sideways on narrow screens instead of widening the page. */
export function Table({ caption, head, children }: { caption: string; head: string[]; children: ReactNode }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {head.map((name) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function Empty({ columns, children }: { columns: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} className="muted">
        {children}
      </td>
    </tr>
  );
}

/** The `<option>`s of a select over one of the graph's enums. */
export function Options({ values, name }: { values: readonly string[]; name(value: string): string }) {
  return (
    <>
      {values.map((value) => (
        <option key={value} value={value}>
          {name(value)}
        </option>
      ))}
    </>
  );
}
