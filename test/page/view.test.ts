/**
 * The lab page's data without a browser: roster + Ray's node summary + the head's jobs → the
 * view, and the HTML it renders (escaped, text labels beside every colour).
 */
import { describe, expect, test } from "bun:test";
import { jobListSchema } from "../../src/jobs/spec.ts";
import { pageJobOf, lastLines, type PageJob } from "../../src/page/jobs.ts";
import { parseNodeSummary, type RayNodeStat } from "../../src/page/ray-nodes.ts";
import { renderPage } from "../../src/page/render.ts";
import { buildPageView, gpuKey, heldIdleAfterMs, type PageInputs } from "../../src/page/view.ts";
import { bigLab, labHistory, labJobs, labNodeSummary, labRoster, t0, type LabSize } from "./lab.ts";

const small: LabSize = { workstations: 3, gpusPerNode: 2, jobs: 8, running: 3 };

function nodesOf(size: LabSize, utilization?: (n: number, g: number) => number): RayNodeStat[] {
  const nodes = parseNodeSummary(labNodeSummary(size, utilization));
  if (typeof nodes === "string") throw new Error(nodes);
  return nodes;
}

function jobsOf(size: LabSize): PageJob[] {
  return jobListSchema
    .parse(labJobs(size))
    .map(pageJobOf)
    .filter((j) => j !== undefined);
}

function inputs(size: LabSize, extra: Partial<PageInputs> = {}): PageInputs {
  return {
    now: t0 + 3600_000,
    cluster: labRoster(size),
    leaseTtlMs: 30_000,
    history: labHistory(),
    ray: { nodes: nodesOf(size), version: "2.60.0" },
    jobs: { list: jobsOf(size) },
    gpuLastBusy: new Map(),
    services: [{ name: "MLflow", state: "up", detail: "HTTP 200", link: "http://10.1.0.11:5000" }],
    project: "lab",
    ...extra,
  };
}

describe("page view", () => {
  test("each workstation lists its nodes with role, term, address, Ray version, CPUs, memory and GPUs", () => {
    const view = buildPageView(inputs(small));
    expect(view.workstations.map((w) => w.name)).toEqual(["ws01", "ws02", "ws03"]);
    const [gpu, cpu] = [
      view.workstations[0]!.nodes.find((n) => n.node === "ray-gpu.ws01")!,
      view.workstations[0]!.nodes.find((n) => n.node === "ray-cpu.ws01")!,
    ];
    expect(gpu).toMatchObject({ role: "head", term: 3, address: "10.1.0.11:6380", rayVersion: "2.60.0", cpus: "32", rayState: "alive" });
    expect(gpu.memory).toBe("65.2 GiB of 251 GiB");
    expect(gpu.gpus.map((g) => [g.label, g.model])).toEqual([
      ["GPU 0", "NVIDIA RTX A6000"],
      ["GPU 1", "NVIDIA RTX A6000"],
    ]);
    // Same IP on the host network: the CPU node takes the Ray node without GPUs.
    expect(cpu).toMatchObject({ role: "worker", cpus: "8", gpus: [] });
  });

  test("a GPU's job is found through the pid of Ray's worker that uses it", () => {
    const view = buildPageView(inputs(small));
    const gpus = view.workstations.flatMap((w) => w.nodes.flatMap((n) => n.gpus.map((g) => ({ node: n.node, ...g }))));
    // Running job j holds GPU floor(j / workstations) % gpus of node j % workstations.
    expect(gpus.find((g) => g.node === "ray-gpu.ws02" && g.label === "GPU 0")).toMatchObject({ job: "raysubmit_job0001", state: "busy", utilization: "85%" });
    expect(gpus.find((g) => g.node === "ray-gpu.ws01" && g.label === "GPU 1")).toMatchObject({ state: "idle" });
    expect(gpus.find((g) => g.node === "ray-gpu.ws01" && g.label === "GPU 1")?.job).toBeUndefined();
  });

  test("idle GPUs are called out; a held GPU idle for long is called out with its job, which gets a warning", () => {
    const size = small;
    const now = t0 + 3600_000;
    // Job 0 holds GPU 0 of ws01 at 0 %; it was last busy long ago.
    const idleLong = new Map([[gpuKey("10.1.0.11", 0), now - heldIdleAfterMs - 1]]);
    const view = buildPageView(inputs(size, { ray: { nodes: nodesOf(size, () => 0), version: "2.60.0" }, gpuLastBusy: idleLong }));
    expect(view.callouts[0]).toEqual({ kind: "held-idle", text: "GPU 0 on ray-gpu.ws01 is held by raysubmit_job0000 but has done nothing for 5m00s or more" });
    expect(view.callouts.filter((c) => c.kind === "idle").map((c) => c.text)).toContain("ray-gpu.ws01: GPU 1 idle (no process)");
    expect(view.jobs.find((j) => j.id === "raysubmit_job0000")?.warning).toContain("done nothing");
    // A held GPU idle only briefly is "in use", not called out.
    const fresh = buildPageView(inputs(size, { ray: { nodes: nodesOf(size, () => 0), version: "2.60.0" } }));
    expect(fresh.callouts.some((c) => c.kind === "held-idle")).toBe(false);
    expect(fresh.workstations[0]!.nodes[0]!.gpus[0]!.state).toBe("in use");
  });

  test("jobs: running first, newest first; who, where, which commit, GPUs, duration", () => {
    const view = buildPageView(inputs(small));
    expect(view.jobs.map((j) => j.id).slice(0, 5)).toEqual([
      "raysubmit_job0002",
      "raysubmit_job0001",
      "raysubmit_job0000",
      "raysubmit_job0007",
      "raysubmit_job0006",
    ]);
    const job = view.jobs.find((j) => j.id === "raysubmit_job0005")!;
    expect(job).toMatchObject({
      user: "chen",
      host: "ws03",
      commit: "3f2a9c1e5b (with changes)",
      gpus: "1",
      duration: "10m00s",
      started: "2026-12-04 09:05:00 UTC",
      active: false,
    });
    expect(view.jobCounts).toBe("3 running, 4 succeeded, 1 failed");
  });

  test("the head's history: newest first, how long each held, how long the cluster was without a head", () => {
    const view = buildPageView(inputs(small));
    expect(view.history.map((h) => [h.term, h.node, h.end, h.held, h.gapBefore])).toEqual([
      [3, "ray-gpu.ws01", "holds the lease", "1h00m", "20s"],
      [2, "ray-gpu.ws02", "2026-12-04 08:59:40 UTC", "59m30s", "10s"],
      [1, "ray-cpu.ws01", "2026-12-04 08:00:00 UTC", "1h00m", "n/a"],
    ]);
  });

  test("no head, no Ray: the page says so in words", () => {
    const view = buildPageView(
      inputs(small, { cluster: { term: 3, head: null, workers: [] }, ray: { error: "no ready head" }, jobs: { error: "no ready head" } }),
    );
    expect(view.head).toBeNull();
    expect(view.rayError).toBe("no ready head");
    const html = renderPage(view, "c");
    expect(html).toContain("no head");
    expect(html).toContain("No node has joined yet.");
  });

  test("text from Ray is escaped, never markup; every coloured badge carries a word", () => {
    const list = jobsOf(small);
    list[0] = {
      ...list[0]!,
      entrypoint: `python -c "print('<img src=x onerror=alert(1)>')"`,
      user: "<b>eve</b>",
      logTail: lastLines("a\n<script>alert(1)</script>\n"),
    };
    const html = renderPage(buildPageView(inputs(small, { jobs: { list } })), "c");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<b>eve</b>");
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    for (const badge of html.matchAll(/<span class="badge[^"]*">([^<]*)<\/span>/g)) expect(badge[1]!.trim()).not.toBe("");
    // One script, inline (its hash is in the CSP), no src anywhere.
    expect(html.match(/<script/g)?.length).toBe(1);
    expect(html).not.toMatch(/<script[^>]*src=/);
    expect(html).not.toMatch(/<[^>]* on[a-z]+=/);
  });

  test("a big lab (20 workstations, 160 GPUs, 500 jobs) renders every node, GPU and job", () => {
    const view = buildPageView(inputs(bigLab));
    expect(view.workstations).toHaveLength(20);
    expect(view.workstations.flatMap((w) => w.nodes.flatMap((n) => n.gpus))).toHaveLength(160);
    expect(view.jobs).toHaveLength(500);
    const html = renderPage(view, "c");
    expect(html.match(/<tr id="job-/g)).toHaveLength(500);
  });

  test("Ray's node summary: a wrong type is one line naming the field", () => {
    expect(parseNodeSummary({ data: { summary: [{ gpus: [{ index: "0" }] }] } })).toMatch(/^Ray's node summary: data\.summary\.0\.gpus\.0\.index: /);
    expect(parseNodeSummary({ nope: 1 })).toMatch(/^Ray's node summary: data: /);
  });
});
