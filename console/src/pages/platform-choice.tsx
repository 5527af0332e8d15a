import type { Platform } from "../gql/graphql";
import { PLATFORMS, platformName } from "../ui";

/** A group of platform checkboxes. */
export function PlatformChoice({ legend, value, onChange }: { legend: string; value: readonly Platform[]; onChange(platforms: Platform[]): void }) {
  return (
    <fieldset className="choice">
      <legend>{legend}</legend>
      {PLATFORMS.map((platform) => (
        <label key={platform} className="check">
          <input
            type="checkbox"
            checked={value.includes(platform)}
            onChange={(e) => onChange(e.target.checked ? [...value, platform] : value.filter((p) => p !== platform))}
          />
          {platformName(platform)}
        </label>
      ))}
    </fieldset>
  );
}
