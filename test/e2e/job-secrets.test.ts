/**
 * What a job can see (issue 17): on the real stack (real Ray, Marimo, Redis; MLflow left out to
 * keep it light), a `cslr run` job searches every place in its Ray container for the cluster's secrets:
 * the environment of every process it can read (/proc/PID/environ, PID 1 included), every file
 * under the container's mounts (the compose secret's folder too), and its own environment.
 * From outside, `docker inspect` shows no secret in a Ray container's environment, and
 * Marimo's log does not print its token.
 *
 * The job never receives a secret: it gets SHA-256 digests and reports where a value with such
 * a digest sits. Ray's own token (RAY_AUTH_TOKEN) is the control: Ray needs it, so the job must
 * find it in its environment, which shows the search works.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeE2E } from "./lib/engine.ts";
import { RunningCli } from "./lib/run-scenarios.ts";
import { expectOk, runCommand, Stack } from "./lib/stack.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The job: digests in, places out. Pure standard library (the stand-in's python would do too). */
const searchScript = `
import hashlib, json, os, sys
wanted = json.load(open("digests.json"))
found, searched, unreadable = [], {"environ": 0, "files": 0}, []

def check(value, place):
    value = value.strip()
    if value and hashlib.sha256(value.encode()).hexdigest() in wanted:
        found.append(wanted[hashlib.sha256(value.encode()).hexdigest()] + " in " + place)

def check_text(text, place):
    for line in text.splitlines():
        check(line, place)
        for part in line.replace("=", " ").replace('"', " ").replace("'", " ").split():
            check(part, place)

for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
    try:
        blob = open("/proc/%s/environ" % pid, "rb").read().decode("utf-8", "replace")
    except OSError as e:
        unreadable.append("/proc/%s/environ (%s)" % (pid, e.strerror))
        continue
    searched["environ"] += 1
    for entry in blob.split("\\0"):
        check(entry.partition("=")[2], "/proc/%s/environ" % pid)
for name, value in os.environ.items():
    check(value, "the job's environment (%s)" % name)

skip = ("/proc", "/sys", "/dev")
mounts = [line.split()[4] for line in open("/proc/self/mountinfo")]
roots = sorted({m for m in mounts if m != "/" and not m.startswith(skip)} | {"/run/secrets", "/opt/cslr", "/etc", "/tmp"})
for root in roots:
    for folder, dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                if os.path.islink(path) or os.path.getsize(path) > 1 << 20:
                    continue
                text = open(path, "rb").read().decode("utf-8", "replace")
            except OSError as e:
                unreadable.append("%s (%s)" % (path, e.strerror))
                continue
            searched["files"] += 1
            check_text(text, path)
print("SEARCHED " + json.dumps(searched), flush=True)
print("UNREADABLE " + json.dumps(unreadable[:50]), flush=True)
print("FOUND " + json.dumps(sorted(set(found))), flush=True)
print("UID %d" % os.getuid(), flush=True)
`;

/**
 * The real stack without MLflow and its PostgreSQL: the heaviest services, which a Ray job's view
 * does not need (their password is in .env all the same, and the job looks for it).
 */
class LeanStack extends Stack {
  override config(): Record<string, unknown> {
    const config = super.config() as { services: Record<string, unknown> };
    config.services.mlflow = { enabled: false, tracking_uri: Stack.outsideMlflow, postgres: { enabled: false } };
    return config;
  }
}

describeE2E(
  "e2e: a job on the real stack sees no cluster secret",
  () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = new LeanStack({ label: "secrets", whitelist: ["ray-cpu"], gpu: false, workers: 0, redis: true, leaseTtl: 6, real: true });
      expectOk(await stack.init(), "cslr init");
      // Not --wait: this suite needs the Ray head, not MLflow's health (slow to come on a loaded machine).
      expectOk(await stack.cli(["up", "-d"], 420_000), "cslr up -d");
      await stack.waitFor("a ready head", 300_000, async () => ((await stack.roster())?.head?.ready ? true : undefined));
      const dashboard = `http://127.0.0.1:${stack.ports.cpu.dashboard}/api/version`;
      // The Jobs API answers (401 without Ray's token is an answer) once the dashboard is up.
      const answers = async () => ((await fetch(dashboard, { signal: AbortSignal.timeout(3000) }).catch(() => undefined))?.status ?? 599) < 500;
      await stack.waitFor("Ray's dashboard", 300_000, async () => ((await answers()) ? true : undefined));
    }, 480_000);
    afterAll(async () => {
      await stack?.destroy();
    }, 180_000);

    function secrets(): Map<string, string> {
      const env = stack.env();
      const needed = ["CSLR_CLUSTER_TOKEN", "REDIS_PASSWORD", "MARIMO_TOKEN", "RAY_AUTH_TOKEN"];
      expect(needed.filter((n) => (env.get(n) ?? "").length < 8)).toEqual([]);
      // PostgreSQL's password too, when cslr init wrote one (MLflow is off in this stack).
      const names = [...needed, ...((env.get("POSTGRES_PASSWORD") ?? "").length >= 8 ? ["POSTGRES_PASSWORD"] : [])];
      return new Map(names.map((n) => [n, env.get(n)!]));
    }

    test("`cslr run`: the job finds Ray's token in its environment and no other secret anywhere it can read", async () => {
      const dir = join(stack.dir, "search");
      mkdirSync(dir);
      writeFileSync(join(dir, "search.py"), searchScript);
      writeFileSync(join(dir, "digests.json"), JSON.stringify(Object.fromEntries([...secrets()].map(([name, value]) => [sha256(value), name]))));
      const run = new RunningCli(dir, ["run", "--", "python", "search.py"]);
      const code = await run.exited;
      expect({ code, stderr: code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
      const line = (tag: string) => JSON.parse(new RegExp(`^${tag} (.*)$`, "m").exec(run.stdout)?.[1] ?? "null");
      const found: string[] = line("FOUND");
      const searched: { environ: number; files: number } = line("SEARCHED");
      // The control: the search works (Ray's token, which Ray needs, is where Ray reads it).
      expect(found.some((f) => f.startsWith("RAY_AUTH_TOKEN in the job's environment"))).toBe(true);
      expect(found.filter((f) => !f.startsWith("RAY_AUTH_TOKEN "))).toEqual([]);
      expect(searched.environ).toBeGreaterThan(3);
      expect(searched.files).toBeGreaterThan(10);
      // The job runs as Ray's user; the token's file is there but not for it.
      expect(run.stdout).toMatch(/^UID 1000$/m);
      expect(line("UNREADABLE")).toEqual(expect.arrayContaining(["/run/secrets/cslr_cluster_token (Permission denied)"]));
    }, 300_000);

    test("`docker inspect`: no Ray container's environment holds a secret other than Ray's token; Ray runs as uid 1000", async () => {
      const values = secrets();
      const leaks: string[] = [];
      for (const c of stack.containers().filter((x) => x.service.startsWith("ray-") && x.service !== "ray-redis")) {
        const inspect = await runCommand(["docker", "inspect", "--format", "{{json .Config.Env}}", c.id]);
        expect(inspect.code).toBe(0);
        for (const [name, value] of values) if (name !== "RAY_AUTH_TOKEN" && inspect.stdout.includes(value)) leaks.push(`${name} in ${c.service}`);
        const owners = await runCommand(["docker", "exec", c.id, "sh", "-c", "ps -o user= -C raylet -C gcs_server | sort -u"]);
        expect({ service: c.service, owners: owners.stdout.trim() }).toEqual({ service: c.service, owners: "ray" });
      }
      expect(leaks).toEqual([]);
    }, 120_000);

    test("Marimo's container log does not print its token", async () => {
      const logs = await runCommand(["docker", "logs", stack.container("marimo").id]);
      expect(logs.code).toBe(0);
      expect(`${logs.stdout}${logs.stderr}`).not.toContain(secrets().get("MARIMO_TOKEN")!);
    }, 60_000);
  },
  { real: true },
);
