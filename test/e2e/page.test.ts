/**
 * The lab page (issue 19) in headless Chromium, driven over CDP, against the real stack: real
 * Ray 2.60 (ray-cpu and ray-gpu whitelisted; ray-gpu's GPU reservation dropped, this machine has
 * none), MLflow on PostgreSQL, Marimo and the election service serving the page. In order: a
 * wrong token gets no data; sign in; the nodes and their roles; a `cslr run` job appears, reaches
 * SUCCEEDED, and its MLflow link names the run it logged; `docker kill` of the head shows the
 * new head and a history entry. Screenshots go to $CSLR_SCREENSHOTS (default _build/screenshots).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pinnedFetch, pinOfPem } from "../../src/election/tls.ts";
import { Browser, chromiumPath, type Page } from "../helpers/cdp.ts";
import { describeE2E } from "./lib/engine.ts";
import { RunningCli } from "./lib/run-scenarios.ts";
import { expectOk, repoRoot, runCommand, Stack } from "./lib/stack.ts";

const leaseTtl = 6;
const shots = process.env.CSLR_SCREENSHOTS ?? join(repoRoot, "_build/screenshots");

const job = `
import time, mlflow
print("page job: training", flush=True)
with mlflow.start_run(run_name="page-e2e"):
    mlflow.log_param("lr", "0.01")
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        time.sleep(1)
print("page job: done", flush=True)
`;

describeE2E(
  "e2e: the lab page in Chromium against the real stack",
  () => {
    let stack: Stack;
    let browser: Browser;
    let page: Page;
    let url: string;

    beforeAll(async () => {
      if (!chromiumPath()) throw new Error("chromium is not installed: apt-get install -y --no-install-recommends chromium");
      mkdirSync(shots, { recursive: true });
      stack = new Stack({ label: "page", whitelist: ["ray-cpu", "ray-gpu"], gpu: true, workers: 0, leaseTtl, real: true });
      expectOk(await stack.init(), "cslr init");
      writeFileSync(join(stack.dir, "compose.override.yaml"), "services:\n  ray-gpu:\n    deploy: !reset null\n");
      // Not --wait: on a loaded machine MLflow's first start (its database migrations) can outlast
      // its healthcheck, which then says unhealthy though MLflow comes up. The test waits for what
      // it uses: a ready head with a worker, and MLflow answering.
      expectOk(await stack.cli(["up", "-d"], 480_000), "cslr up -d");
      await stack.waitFor("a ready head and its worker", 420_000, async () => {
        const roster = await stack.roster();
        return roster?.head?.ready && roster.workers.length === 1 ? roster : undefined;
      });
      const status = await stack.cli(["status"]);
      url = /Lab page\s+(https?:\/\/\S+)/.exec(status.stdout)?.[1] ?? "";
      // The election service speaks HTTPS with its self-signed certificate (the test browser accepts it).
      expect(url).toMatch(new RegExp(`^https://[\\d.]+:${stack.ports.health}/$`));
      browser = await Browser.launch();
      page = await browser.newPage(1400, 1000);
    }, 900_000);

    afterAll(async () => {
      await browser?.close();
      await stack?.destroy();
    }, 180_000);

    const signIn = async (token: string) => {
      await page.goto(url);
      await page.eval(
        `document.getElementById("token").value = ${JSON.stringify(token)}; document.querySelector("form[action='/page/login']").requestSubmit(); true`,
      );
    };

    test("a wrong token gets the form again and no data", async () => {
      await signIn("not-the-cluster-token");
      await page.waitFor(`document.body.innerText.includes("wrong token")`, 15_000);
      expect(await page.cookies()).toEqual([]);
      expect(await page.text()).not.toContain("ray-cpu");
      // The page's own data route, asked over HTTPS pinned to the stack's certificate, with no cookie.
      const cert = readFileSync(join(stack.dir, "election-cert.pem"), "utf8");
      const data = await pinnedFetch(pinOfPem(cert)!, cert)(`${url}page/data.json`);
      expect(data.status).toBe(401);
      await page.screenshot(join(shots, "page-sign-in.png"));
    }, 60_000);

    test("signed in: both nodes with their roles, Ray's figures and the services", async () => {
      await signIn(stack.env().get("CSLR_CLUSTER_TOKEN")!);
      await page.waitFor(`document.getElementById("ws")`, 15_000);
      const [cookie] = await page.cookies();
      expect(cookie).toMatchObject({ name: "cslr_session", httpOnly: true, sameSite: "Strict" });
      await page.waitFor(`document.querySelectorAll("tr[id^='node-']").length === 2 && !document.body.innerText.includes("not reported by Ray")`, 300_000);
      const roles = await page.eval<string[]>(
        `[...document.querySelectorAll("tr[id^='node-']")].map((r) => r.querySelector("th").innerText + " " + r.querySelector(".badge").innerText).sort()`,
      );
      expect(roles.map((r) => r.split(" ")[1]).sort()).toEqual(["head", "worker"]);
      expect(roles.map((r) => r.split(" ")[0]).sort()).toEqual(["ray-cpu", "ray-gpu"]);
      const text = await page.text();
      expect(text).toContain("2.60.0");
      await page.waitFor(
        `["PostgreSQL", "MLflow", "Marimo"].every((s) => document.querySelector(".services").innerText.includes(s)) && !document.querySelector(".services").innerText.includes("not checked")`,
        30_000,
      );
      const services = await page.eval<string>(`document.querySelector(".services").innerText`);
      // Each with a word for its state; PostgreSQL is up by now (MLflow waited on it), MLflow's turn is the job's test.
      for (const name of ["PostgreSQL", "MLflow", "Marimo"]) expect(services).toMatch(new RegExp(`(up|down)\\s+${name}`));
      expect(services).toMatch(/up\s+PostgreSQL/);
    }, 420_000);

    test("a cslr run job appears while it runs, reaches SUCCEEDED, and its MLflow link names its run", async () => {
      // On a loaded machine MLflow's first start can take minutes (see beforeAll).
      await stack.waitFor("MLflow answering", 600_000, async () =>
        (await fetch(`http://127.0.0.1:${stack.ports.mlflow}/health`).catch(() => undefined))?.ok ? true : undefined,
      );
      await page.waitFor(`/up\\s+MLflow/.test(document.querySelector(".services").innerText)`, 30_000);
      const dir = join(stack.dir, "page-job");
      mkdirSync(dir);
      writeFileSync(join(dir, "train.py"), job);
      const run = new RunningCli(dir, ["run", "--", "python", "train.py"]);
      await run.waitFor(/submitted job (raysubmit_\w+)/, 120_000);
      const id = /submitted job (raysubmit_\w+)/.exec(run.stdout + run.stderr)![1]!;
      const shownAfter = await page.waitFor(`document.getElementById("job-${id}")`, 30_000);
      console.log(`page e2e: job ${id} shown ${shownAfter} ms after cslr run said it was submitted (poll 1 s + refresh 1 s)`);
      await page.screenshot(join(shots, "page-job-running.png"));
      expect(await run.exited).toBe(0);
      await page.waitFor(`document.querySelector("#job-${id} .badge").innerText === "SUCCEEDED"`, 30_000);
      const row = await page.eval<string>(`document.getElementById("job-${id}").innerText`);
      expect(row).toContain("python train.py");
      expect(row).toMatch(/\w+@\S+/);
      const link = await page
        .waitFor(`document.querySelector("#job-${id} a[href*='/#/experiments/']")`, 30_000)
        .then(() => page.eval<string>(`document.querySelector("#job-${id} a[href*='/#/experiments/']").href`));
      const match = /^(http:\/\/[^/]+)\/#\/experiments\/(\w+)\/runs\/([0-9a-f]+)$/.exec(link);
      expect(match).not.toBeNull();
      // The link's server is MLflow's UI, and the run it names is the one the job logged.
      expect((await fetch(`${match![1]}/`)).status).toBe(200);
      const got = (await (await fetch(`${match![1]}/api/2.0/mlflow/runs/get?run_id=${match![3]}`)).json()) as {
        run: { info: { run_name: string }; data: { params: unknown } };
      };
      expect(got.run.info.run_name).toBe("page-e2e");
      expect(got.run.data.params).toEqual([{ key: "lr", value: "0.01" }]);
      await page.eval(`document.getElementById("log-${id}") && (document.getElementById("log-${id}").open = true)`);
      await page.waitFor(`document.getElementById("job-${id}").innerText.includes("page job: done")`, 30_000);
      await page.screenshot(join(shots, "page-job-succeeded.png"));
    }, 900_000);

    test("docker kill of the head: the page shows the new head and the history entry", async () => {
      const before = (await stack.roster())!.head!;
      const newHead = before.node === "ray-cpu" ? "ray-gpu" : "ray-cpu";
      expect((await runCommand(["docker", "kill", stack.container(before.node).id])).code).toBe(0);
      await page.waitFor(
        `(() => { const r = document.getElementById("node-${newHead}"); return r && r.querySelector(".badge").innerText === "head"; })()`,
        (leaseTtl + 3) * 1000 + 120_000,
      );
      const history = await page.eval<string[]>(`[...document.querySelectorAll("#history ~ .scroll tbody tr")].map((r) => r.innerText.replace(/\\s+/g, " "))`);
      expect(history.length).toBeGreaterThanOrEqual(2);
      expect(history[0]).toMatch(new RegExp(`^\\d+ ${newHead} .*holds the lease`));
      expect(history.find((h) => h.startsWith(`${before.term} ${before.node} `))).toMatch(/UTC .*UTC/);
      await page.screenshot(join(shots, "page-failover.png"));
      await page.resize(390, 900);
      await page.screenshot(join(shots, "page-narrow.png"));
      await page.resize(1400, 1000);
    }, 300_000);
  },
  { real: true },
);
