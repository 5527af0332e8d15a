import { describe, expect, it } from "vitest";
import { versionKey } from "../../subgraphs/inventory/data/version.js";

/** Binary order of keys, as SQLite and utf8mb4_bin compare them (the keys here are ASCII). */
const sortByKey = (versions: string[]) => [...versions].sort((a, b) => (versionKey(a) < versionKey(b) ? -1 : versionKey(a) > versionKey(b) ? 1 : 0));

describe("versionKey", () => {
  it("orders dotted versions numerically, not as text", () => {
    expect(sortByKey(["1.10", "1.9", "1.2", "10.0", "2.0", "1.10.1", "0.9.99"])).toEqual(["0.9.99", "1.2", "1.9", "1.10", "1.10.1", "2.0", "10.0"]);
  });

  it("treats missing components as zero and ignores leading zeros", () => {
    expect(versionKey("1.2")).toBe(versionKey("1.2.0"));
    expect(versionKey("1.2")).toBe(versionKey("1.2.0.0.0.0"));
    expect(versionKey("1.02")).toBe(versionKey("1.2"));
    expect(versionKey(" 1.2 ")).toBe(versionKey("1.2"));
  });

  it("sorts a suffix before the bare version, suffixes among themselves by text", () => {
    expect(sortByKey(["1.2.0", "1.2.0-rc1", "1.2.0-beta", "1.1.9", "1.2.1-alpha"])).toEqual(["1.1.9", "1.2.0-beta", "1.2.0-rc1", "1.2.0", "1.2.1-alpha"]);
    expect(versionKey("2.1 (450)") < versionKey("2.1")).toBe(true);
    expect(versionKey("2.1 (450)") > versionKey("2.0.99")).toBe(true);
    expect(versionKey("1.2.0-BETA")).toBe(versionKey("1.2.0-beta"));
  });

  it("counts six components; a longer version keeps the rest as its suffix", () => {
    expect(versionKey("1.2.3.4.5.6") > versionKey("1.2.3.4.5.5")).toBe(true);
    expect(versionKey("1.2.3.4.5.6.7")).toBe(`${versionKey("1.2.3.4.5.6").slice(0, -1)}-.7`);
  });

  it("maps non-numeric versions and huge components deterministically", () => {
    expect(versionKey("")).toBe(`${"0".repeat(60)}~`);
    expect(versionKey("beta")).toBe(`${"0".repeat(60)}-beta`);
    expect(versionKey("beta") < versionKey("0.0.1")).toBe(true);
    expect(versionKey("99999999999.1")).toBe(versionKey("9999999999.1"));
    expect(versionKey("9999999999.1") > versionKey("9999999998.9")).toBe(true);
  });

  it("has fixed-width numeric blocks", () => {
    expect(versionKey("17.4.1")).toBe("0000000017" + "0000000004" + "0000000001" + "0".repeat(30) + "~");
  });
});
