/**
 * The lab page in headless Chromium (Debian's package, driven over CDP) against a real election
 * server and a fake head dashboard on loopback: sign in with the keyboard, live updates under the
 * page's CSP, the stop button's question, a narrow window, nothing fetched from another origin.
 * The real stack's version is test/e2e/page.test.ts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { LabServer } from "../../src/page/server.ts";
import { Browser, describeBrowser, press, type, type Page } from "../helpers/cdp.ts";
import { fakeDashboard, ipOf, startLabServerFor, ws, type FakeDashboard, type LabSize } from "./lab.ts";

const token = "browser-test-token-0123456789";
const shots = process.env.CSLR_SCREENSHOTS ?? join(import.meta.dir, "../../_build/screenshots");

describeBrowser("the lab page in Chromium", () => {
  let server: LabServer;
  let ray: FakeDashboard;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    ray = fakeDashboard({ workstations: 3, gpusPerNode: 2, jobs: 6, running: 2 });
    server = startLabServerFor(ray, token, { project: "lab" });
    server.service.apply(() => server.service.election.claim("ray-gpu.ws01", "127.0.0.1:6380", "ws01"));
    server.service.apply(() => server.service.election.ready("ray-gpu.ws01", 1));
    browser = await Browser.launch();
    page = await browser.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await ray?.stop();
  });

  test("a wrong token: the form says so, no cookie, no data", async () => {
    await page.goto(`${server.url}/`);
    await page.eval(`document.getElementById("token").focus()`);
    await type(page, "not-the-token");
    await press(page, "Enter");
    await page.waitFor(`document.body.innerText.includes("wrong token")`, 10_000);
    expect(await page.cookies()).toEqual([]);
    expect(await page.text()).not.toContain("ray-gpu.ws01");
  }, 30_000);

  test("signed in with the keyboard: HttpOnly SameSite=Strict cookie, the cluster shows, updates within 2 s", async () => {
    await page.goto(`${server.url}/`);
    await page.eval(`document.getElementById("token").focus()`);
    await type(page, token);
    await press(page, "Enter");
    await page.waitFor(`document.getElementById("ws")`, 10_000);
    const [cookie] = await page.cookies();
    expect(cookie).toMatchObject({ name: "cslr_session", httpOnly: true, sameSite: "Strict", secure: false });
    expect(cookie!.value).not.toContain(token);
    expect(await page.eval(`document.cookie`)).toBe("");
    const text = await page.text();
    expect(text).toContain("ray-gpu.ws01");
    expect(text).toContain("raysubmit_job0000");
    // A worker joins: the page shows it without a reload (the page's script runs under its CSP).
    server.service.apply(() => server.service.election.join("ray-cpu.ws02", "127.0.0.1", "ws02"));
    await page.waitFor(`document.body.innerText.includes("ray-cpu.ws02")`, 2_000 + 3_000);
    expect(page.requests.filter((url) => !url.startsWith(server.url) && !url.startsWith("data:"))).toEqual([]);
    await page.screenshot(join(shots, "browser-signed-in.png"));
  }, 30_000);

  test("stop asks first: No leaves the job, Yes stops it through Ray", async () => {
    const stopButton = `document.querySelector('form.stop[data-job="raysubmit_job0000"] button')`;
    page.acceptDialogs = false;
    await page.eval(`${stopButton}.click()`);
    await page.waitFor(`true`, 1000);
    expect(page.dialogs.at(-1)).toContain("Stop job raysubmit_job0000?");
    expect(ray.stopped).toEqual([]);
    page.acceptDialogs = true;
    await page.eval(`${stopButton}.click()`);
    await page.waitFor(`document.body.innerText.includes("Stopping raysubmit_job0000")`, 10_000);
    expect(ray.stopped).toEqual(["raysubmit_job0000"]);
  }, 30_000);

  test("keyboard: Tab reaches the stop buttons and the log panes; a narrow window scrolls tables, not the page", async () => {
    await page.goto(`${server.url}/`);
    const reached = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await press(page, "Tab");
      reached.add(await page.eval<string>(`(document.activeElement.closest("form.stop") ? "stop" : document.activeElement.tagName.toLowerCase())`));
    }
    expect(reached.has("stop")).toBe(true);
    expect(reached.has("summary")).toBe(true);
    await page.resize(380, 900);
    await page.waitFor(`true`, 300);
    expect(await page.eval<number>(`document.documentElement.scrollWidth`)).toBeLessThanOrEqual(400);
    await page.screenshot(join(shots, "browser-narrow.png"));
    await page.resize(1400, 1000);
  }, 30_000);

  test("a lab with GPUs: each GPU's model, utilisation, memory and job; idle ones called out (screenshot)", async () => {
    const size: LabSize = { workstations: 4, gpusPerNode: 4, jobs: 24, running: 6 };
    const lab = fakeDashboard(size, undefined, "127.0.0.1");
    const labServer = startLabServerFor(lab, token, {
      project: "vision-lab",
      services: [{ name: "MLflow", check: { http: `${lab.url}/api/version` }, link: "http://10.1.0.11:5000" }],
      joinLine: "cslr join https://10.1.0.11:8888 --token -",
    });
    try {
      const service = labServer.service;
      service.apply(() => service.election.claim(`ray-gpu.${ws(0)}`, "127.0.0.1:6380", ws(0)));
      service.apply(() => service.election.ready(`ray-gpu.${ws(0)}`, 1));
      for (let k = 1; k < size.workstations; k++) service.apply(() => service.election.join(`ray-gpu.${ws(k)}`, ipOf(k), ws(k)));
      const tab = await browser.newPage(1400, 1000);
      await tab.goto(`${labServer.url}/`);
      // Cookies are per host, not per port: the session of the first server (same token) holds here too.
      await tab.eval(
        `(() => { const t = document.getElementById("token"); if (t) { t.value = ${JSON.stringify(token)}; t.form.requestSubmit(); } return true; })()`,
      );
      await tab.waitFor(`document.querySelectorAll("ul.gpus li").length === 16`, 15_000);
      const gpu = await tab.eval<string>(`document.querySelector("[id='node-ray-gpu.ws02'] ul.gpus li").innerText`);
      expect(gpu).toMatch(/^GPU 0 NVIDIA RTX A6000: .*85%, 19\.5 GiB of 48\.0 GiB busy job raysubmit_job0001/);
      expect(await tab.eval<string>(`document.querySelector(".attention").innerText`)).toContain("idle (no process)");
      await tab.waitFor(`document.querySelector(".services").innerText.includes("up")`, 10_000);
      await tab.screenshot(join(shots, "browser-gpu-lab.png"));
    } finally {
      await labServer.stop();
      await lab.stop();
    }
  }, 60_000);
});
