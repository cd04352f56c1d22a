import { describe, expect, test } from "bun:test";
import { parseDotenv, randomSecret, withMissingSecrets } from "../../src/config/dotenv.ts";

describe("parseDotenv", () => {
  test("reads KEY=value lines, quotes, export and comments", () => {
    const values = parseDotenv("# c\nA=1\nexport B=\"two words\"\nC='x#y'\n  D = spaced  \nnot a line\nE=\n");
    expect(Object.fromEntries(values)).toEqual({ A: "1", B: "two words", C: "x#y", D: "spaced", E: "" });
  });
});

describe("withMissingSecrets", () => {
  test("adds every secret to an empty file", () => {
    const { text, added } = withMissingSecrets("", () => "S");
    expect(added).toEqual(["POSTGRES_PASSWORD", "REDIS_PASSWORD", "CSLR_CLUSTER_TOKEN", "MARIMO_TOKEN", "RAY_AUTH_TOKEN", "RAY_REDIS_PASSWORD"]);
    expect(text).toContain("REDIS_PASSWORD=S\n");
  });

  test("keeps existing values and other lines byte for byte", () => {
    const existing = "OTHER=1\nREDIS_PASSWORD=mine";
    const { text, added } = withMissingSecrets(existing, () => "S");
    expect(text.startsWith(`${existing}\n`)).toBe(true);
    expect(added).not.toContain("REDIS_PASSWORD");
    expect(parseDotenv(text).get("REDIS_PASSWORD")).toBe("mine");
  });

  test("a complete file is returned unchanged", () => {
    const full = withMissingSecrets("", () => "S").text;
    expect(withMissingSecrets(full, () => "T")).toEqual({ text: full, added: [] });
  });
});

test("randomSecret: letters and digits only, requested length, not repeating", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const secret = randomSecret();
    expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
    seen.add(secret);
  }
  expect(seen.size).toBe(200);
});
