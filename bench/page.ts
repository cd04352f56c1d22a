/**
 * The lab page (part of `bun run bench`): a generated lab of 20 workstations (a ray-gpu node
 * with 8 GPUs and a ray-cpu node each: 40 nodes, 160 GPUs) and 500 jobs, served by a real
 * election server in this process from a fake head dashboard on loopback.
 * 1. server time: view model + HTML of the whole page, in process (median of 50), and the
 *    signed-in `GET /page/main` over HTTP (median of 50, cache warm: what a viewer's poll costs);
 * 2. browser time: headless Chromium loads `/` (navigation start → load event end), and swaps
 *    in a fresh `<main>` as the page's script does every second (median of 10 each).
 */

import { buildPageView } from "../src/page/view.ts";
import { renderPage } from "../src/page/render.ts";
import { Browser, chromiumPath } from "../test/helpers/cdp.ts";
import { bigLab, fakeDashboard, ipOf, startLabServerFor, ws } from "../test/page/lab.ts";
import type { BenchRow } from "./election.ts";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchPage(): Promise<BenchRow[]> {
  const token = "bench-token-0123456789abcdef";
  const ray = fakeDashboard(bigLab, undefined, "127.0.0.1");
  const server = startLabServerFor(ray, token, { project: "bench" });
  const rows: BenchRow[] = [];
  try {
    const service = server.service;
    service.apply(() => service.election.claim(`ray-gpu.${ws(0)}`, "127.0.0.1:6380", ws(0)));
    service.apply(() => service.election.ready(`ray-gpu.${ws(0)}`, 1));
    for (let k = 0; k < bigLab.workstations; k++) {
      if (k > 0) service.apply(() => service.election.join(`ray-gpu.${ws(k)}`, ipOf(k), ws(k)));
      service.apply(() => service.election.join(`ray-cpu.${ws(k)}`, k === 0 ? "127.0.0.1" : ipOf(k), ws(k)));
    }
    await server.page.touch();
    const inputs = server.page.inputs();
    const view = buildPageView(inputs);
    const gpus = view.workstations.flatMap((w) => w.nodes.flatMap((n) => n.gpus)).length;
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 50; i++) {
      const start = performance.now();
      bytes = renderPage(buildPageView(server.page.inputs()), "csrf").length;
      times.push(performance.now() - start);
    }
    const login = await fetch(`${server.url}/page/login`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: server.url, "content-type": "application/x-www-form-urlencoded" },
      body: `token=${token}`,
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const http: number[] = [];
    for (let i = 0; i < 50; i++) {
      const start = performance.now();
      await (await fetch(`${server.url}/page/main`, { headers: { cookie } })).text();
      http.push(performance.now() - start);
    }
    rows.push({
      benchmark: `lab page, server: ${view.workstations.length} workstations, ${view.workstations.flatMap((w) => w.nodes).length} nodes, ${gpus} GPUs, ${view.jobs.length} jobs`,
      "view + HTML ms (median of 50)": Math.round(median(times) * 10) / 10,
      "GET /page/main ms (median of 50)": Math.round(median(http) * 10) / 10,
      "page KiB": Math.round(bytes / 1024),
      "target ms": 100,
      ...rayLoad(ray.requests, server.page.refreshes),
    });
    if (!chromiumPath()) rows.push({ benchmark: "lab page, browser: skipped (chromium is not installed)" });
    else rows.push(await benchBrowser(server.url, token));
  } finally {
    await server.stop();
    await ray.stop();
  }
  return rows;
}

/** What the page cost Ray: requests per refresh, by kind (measured at the fake dashboard). */
function rayLoad(requests: Map<string, number>, refreshes: number): BenchRow {
  const per = (path: string) => Math.round(((requests.get(path) ?? 0) / refreshes) * 100) / 100;
  return {
    refreshes,
    "GET /api/jobs/ per refresh": per("/api/jobs/"),
    "GET /nodes per refresh": per("/nodes"),
    "log tails per refresh": per("/api/jobs/ID/logs"),
  };
}

async function benchBrowser(url: string, token: string): Promise<BenchRow> {
  const browser = await Browser.launch();
  try {
    const page = await browser.newPage(1400, 1000);
    await page.goto(`${url}/`);
    await page.eval(`document.getElementById("token").value = ${JSON.stringify(token)}; document.querySelector("form").requestSubmit(); true`);
    await page.waitFor(`document.getElementById("ws")`, 30_000);
    const loads: number[] = [];
    const swaps: number[] = [];
    for (let i = 0; i < 10; i++) {
      await page.goto(`${url}/`);
      await page.waitFor(`performance.getEntriesByType("navigation")[0].loadEventEnd > 0`, 30_000);
      loads.push(await page.eval<number>(`(() => { const n = performance.getEntriesByType("navigation")[0]; return n.loadEventEnd - n.startTime; })()`));
      swaps.push(
        await page.eval<number>(
          `fetch("/page/main").then((r) => r.text()).then((html) => { const m = document.getElementById("main"); const t = performance.now(); m.innerHTML = html; m.getBoundingClientRect(); document.body.offsetHeight; return new Promise((done) => requestAnimationFrame(() => done(performance.now() - t))); })`,
        ),
      );
    }
    return {
      benchmark: "lab page, browser (headless Chromium): the same lab",
      "load ms (navigation → load event, median of 10)": Math.round(median(loads)),
      "live swap of <main> ms (to next frame, median of 10)": Math.round(median(swaps)),
      "target ms": 1000,
    };
  } finally {
    await browser.close();
  }
}

if (import.meta.main) for (const row of await benchPage()) console.log(row);
