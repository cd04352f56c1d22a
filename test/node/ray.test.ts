/** Ray's output passes through the agent unchanged, and the agent sees when Ray says its node is up. */
import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { rayStartedLine, teeUntil } from "../../src/node/ray.ts";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const bytes = chunks.map((c) => new TextEncoder().encode(c));
  return new ReadableStream({
    start(controller) {
      for (const b of bytes) controller.enqueue(b);
      controller.close();
    },
  });
}

async function run(chunks: string[]): Promise<{ copied: string; seen: number }> {
  const out = new PassThrough();
  let copied = "";
  out.on("data", (d: Buffer) => (copied += d.toString()));
  let seen = 0;
  await teeUntil(streamOf(chunks), out, rayStartedLine, () => seen++);
  return { copied, seen };
}

describe("teeUntil", () => {
  test("copies every byte and sees the line once, even split across reads", async () => {
    const chunks = ["Local node IP: 10.0.0.5\nRay runtime ", "started.\n--block\n", "Ray runtime started.\n"];
    expect(await run(chunks)).toEqual({ copied: chunks.join(""), seen: 1 });
  });

  test("without the line: copied, never seen", async () => {
    expect(await run(["Exception: The current node timed out during startup.\n"])).toEqual({
      copied: "Exception: The current node timed out during startup.\n",
      seen: 0,
    });
  });
});
