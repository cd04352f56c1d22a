/**
 * Following a fast job log stays bounded in memory (issue 17): the lines kept for a failure
 * message do not grow with a line that never ends, and text a slow reader has not taken is
 * skipped past 8 MiB, with a note, instead of piling up in cslr.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { LastLines, maxKeptLineChars } from "../../src/jobs/outcome.ts";

test("a job that never prints a newline (progress redrawn with CR): the kept line stays at its last 4 KiB", () => {
  const last = new LastLines();
  const piece = `${"step\r".repeat(200_000)}`;
  for (let i = 0; i < 100; i++) last.push(piece);
  last.push("tail of the bar\nlast line\nunfinished");
  const kept = last.get();
  expect(kept.map((l) => l.length <= maxKeptLineChars)).toEqual(kept.map(() => true));
  expect(kept.slice(-2)).toEqual(["last line", "unfinished"]);
  expect(kept.at(-3)!.endsWith("step\rtail of the bar")).toBe(true);
});

test("a reader that does not keep up: cslr holds at most about 8 MiB, skips the rest and says how much", async () => {
  const script = `
    const { boundedLogWriter } = await import(${JSON.stringify(join(import.meta.dir, "../../src/jobs/cli-io.ts"))});
    const write = boundedLogWriter(process.stdout);
    const line = "x".repeat(1023) + "\\n";
    const piece = line.repeat(1024);
    for (let i = 0; i < 100; i++) write(piece);
    process.stderr.write("written " + Math.round(process.memoryUsage().rss / 2 ** 20) + "\\n");
    await Bun.sleep(2000);
    write("end\\n");
    await Bun.sleep(200);
  `;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  // Read nothing until the child has written all 100 MiB.
  const errors = child.stderr.getReader();
  let said = "";
  while (!said.includes("\n")) {
    const { value, done } = await errors.read();
    if (done) break;
    said += new TextDecoder().decode(value);
  }
  expect(said).toMatch(/^written \d+\n/);
  const out = await new Response(child.stdout).text();
  await child.exited;
  expect(out.length).toBeLessThan(20 * 1024 * 1024);
  expect(out).toMatch(/\n\[cslr: \d+ characters of the log skipped while the output could not keep up; cslr jobs logs ID prints it all\]\nend\n$/);
}, 30_000);
