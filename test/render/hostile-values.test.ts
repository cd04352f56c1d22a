/**
 * Property test: no config value can change the structure of the generated compose.yaml.
 * Hostile strings go through every string field; the output must parse, keep its shape,
 * and give back exactly the values that went in (after compose's `$$` → `$`).
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { embeddedExamples, modelFromTexts } from "../../src/config/load.ts";
import type { Model } from "../../src/config/model.ts";
import { composeUnescape } from "../../src/render/escape.ts";
import { embeddedTemplateSet, renderBuild } from "../../src/render/render.ts";
import { renderTls } from "../helpers/model.ts";

const nasty = [
  '"',
  "'",
  ":",
  ": ",
  "#",
  " #",
  "\n",
  "\r\n",
  "${X}",
  "$$",
  "$",
  "{",
  "}",
  "[",
  "]",
  "&a",
  "*a",
  "!tag",
  "|",
  ">",
  "%",
  "@",
  "`",
  "\\",
  "\t",
  "---",
  "...",
  "- ",
  "? ",
  ",",
  "é",
  "🙂",
  "\u0000",
  "\u2028",
  "null",
  "true",
  "0x1F",
  "~",
];

/** A deterministic pseudo-random source, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function hostileString(random: () => number): string {
  const parts: string[] = [];
  const count = 1 + Math.floor(random() * 6);
  for (let i = 0; i < count; i++) {
    parts.push(random() < 0.6 ? nasty[Math.floor(random() * nasty.length)]! : random().toString(36).slice(2, 6));
  }
  return parts.join("");
}

const base: Model = await modelFromTexts(
  { file: "config.yaml", text: embeddedExamples.config.replace("enabled: auto", "enabled: true").replace("workers: 0", "workers: 2") },
  { file: "nodes.yaml", text: embeddedExamples.nodes },
  () => true,
  "ws1",
);

function baseModel(): Model {
  return structuredClone(base);
}

interface Hostile {
  project: string;
  cpuImage: string;
  gpuImage: string;
  shm: string;
  memory: string;
  subnet: string;
  whitelistEntry: string;
  pgUser: string;
  redisPath: string;
  redisImage: string;
  binary: string;
}

function renderWith(h: Hostile) {
  const model = baseModel();
  const s = model.config.services;
  model.project.name = h.project;
  model.network.subnet = h.subnet;
  model.election.whitelist = ["ray-cpu", h.whitelistEntry];
  const [cpu, gpu, worker] = model.rayNodes;
  cpu!.image = h.cpuImage;
  gpu!.image = h.gpuImage;
  cpu!.shmSize = h.shm;
  worker!.memory = h.memory;
  s.mlflow.postgres.user = h.pgUser;
  s.redis.data_path = h.redisPath;
  s.redis.image = h.redisImage;
  const files = renderBuild({
    model,
    cslrBinary: h.binary,
    projectDir: "/project",
    outDir: "/project/_build",
    hostAddress: "192.0.2.10",
    version: "test",
    tls: renderTls,
    templates: embeddedTemplateSet(),
  });
  // Bun's own YAML parser: on these 200 renders it accepts and rejects what the \`yaml\` package
  // does (checked with an escaping bug put in on purpose), at a fifth of the time.
  return Bun.YAML.parse(files.find((f) => f.name === "compose.yaml")!.content) as any;
}

const unescapeDeep = (value: unknown): unknown => (typeof value === "string" ? composeUnescape(value) : value);

describe("hostile strings in every string field", () => {
  const seeds = Array.from({ length: 200 }, (_, i) => i + 1);
  test.each(seeds)("seed %d: output parses, keeps its shape and round-trips every value", (seed) => {
    const random = rng(seed);
    const h: Hostile = {
      project: hostileString(random),
      cpuImage: hostileString(random),
      gpuImage: hostileString(random),
      shm: hostileString(random),
      memory: hostileString(random),
      subnet: hostileString(random),
      whitelistEntry: hostileString(random),
      pgUser: hostileString(random),
      redisPath: hostileString(random),
      redisImage: hostileString(random),
      binary: `/opt/${hostileString(random)}`,
    };
    const doc = renderWith(h);
    expect(Object.keys(doc).sort()).toEqual(["name", "networks", "secrets", "services", "volumes"]);
    expect(Object.keys(doc.services).sort()).toEqual(
      ["health", "marimo", "mlflow", "mlflow-postgres", "ray-cpu", "ray-gpu", "ray-redis", "ray-worker-1", "ray-worker-2"].sort(),
    );
    expect(unescapeDeep(doc.name)).toBe(h.project);
    expect(unescapeDeep(doc.services["ray-cpu"].image)).toBe(h.cpuImage);
    expect(unescapeDeep(doc.services["ray-gpu"].image)).toBe(h.gpuImage);
    expect(unescapeDeep(doc.services["ray-cpu"].shm_size)).toBe(h.shm);
    expect(unescapeDeep(doc.services["ray-worker-1"].mem_limit)).toBe(h.memory);
    expect(unescapeDeep(doc.networks["ray-network"].ipam.config[0].subnet)).toBe(h.subnet);
    expect(doc.services.health.command.map(unescapeDeep)).toContain(`ray-cpu,${h.whitelistEntry}`);
    expect(unescapeDeep(doc.services["mlflow-postgres"].environment.POSTGRES_USER)).toBe(h.pgUser);
    expect(unescapeDeep(doc.services.mlflow.environment.PGUSER)).toBe(h.pgUser);
    expect(unescapeDeep(doc.services["ray-redis"].image)).toBe(h.redisImage);
    expect(unescapeDeep(doc.services["ray-redis"].volumes[0].source)).toBe(resolve("/project", h.redisPath));
    expect(unescapeDeep(doc.services.health.volumes[0].source)).toBe(h.binary);
    // The secret references are the only interpolations compose will perform.
    expect(doc.services.health.environment.CSLR_CLUSTER_TOKEN).toStartWith("${CSLR_CLUSTER_TOKEN:?");
  });
});
