import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { documentedCommands } from "../../src/docs/commands.ts";
import { withGenerated } from "../../src/docs/markers.ts";
import { generatedDocs } from "../../src/docs/generated.ts";
import { main } from "../../src/cli.ts";
import { repoRoot } from "../helpers/cli.ts";

const docs = await generatedDocs(main);

for (const { file, update } of docs) {
  test(`${file}: its generated part is up to date (fix: bun scripts/docs.ts)`, () => {
    const text = readFileSync(join(repoRoot, file), "utf8");
    expect(text).toBe(update(text));
  });
}

test("the generated parts hold what they are drawn from: a schema key, every visible command, an option of each", async () => {
  const read = (file: string) => readFileSync(join(repoRoot, file), "utf8");
  expect(read("docs/configuration.md")).toContain("`services.ray.cpu.dashboard_port`");
  const commands = await documentedCommands(main);
  const reference = read("docs/commands.md");
  for (const c of commands) expect(reference).toContain(`### \`cslr ${c.path.join(" ")}\``);
  expect(reference).toContain("`--wait-timeout SECONDS`");
  expect(reference).toContain("`--no-generate`");
  expect(reference).not.toContain("### `cslr __services`");
  for (const c of commands.filter((x) => x.path.length === 1))
    expect(read("README.md")).toContain(`[\`cslr ${c.path[0]}\`](docs/commands.md#cslr-${c.path[0]})`);
});

test("a stale generated part is caught, and a document without its markers is an error", () => {
  const stale = "intro\n<!-- x:start -->\nold\n<!-- x:end -->\noutro\n";
  expect(withGenerated(stale, "x", "new", "doc.md")).toBe("intro\n<!-- x:start -->\nnew\n<!-- x:end -->\noutro\n");
  expect(() => withGenerated("no markers", "x", "new", "doc.md")).toThrow("doc.md has no x markers");
  const [commandsDoc] = docs.filter((d) => d.file === "docs/commands.md");
  const text = readFileSync(join(repoRoot, "docs/commands.md"), "utf8").replace("`--wait-timeout SECONDS`", "`--wait-timeout`");
  expect(commandsDoc!.update(text)).not.toBe(text);
});
