/**
 * `cslr doctor`'s image check: every image the config uses is on this machine, or its registry
 * knows it (so the first `up` can pull it). Asking a registry can hang where there is no
 * network, so each remote question is bounded, and the whole probe is injectable for tests.
 */
import type { Check } from "../checks.ts";
import type { Model } from "../config/model.ts";
import { probeProgram } from "../compose/runner.ts";

export type ImageState = { state: "local" } | { state: "pullable" } | { state: "missing"; why: string };
export type ImageProbe = (image: string) => Promise<ImageState>;

/** Seconds one registry question may take: DNS or a dropped connection must not hang doctor. */
export const manifestTimeoutMs = 5000;

/** Each image the enabled services run, with the config keys that set it. Pure. */
export function imagesOf(model: Model): { image: string; keys: string[] }[] {
  const s = model.config.services;
  const uses: [boolean, string, string][] = [
    [s.health.enabled, "services.health.image", s.health.image],
    [s.ray.cpu.enabled || s.ray.workers > 0, "services.ray.cpu.image", s.ray.cpu.image],
    [model.gpu.enabled, "services.ray.gpu.image", s.ray.gpu.image],
    [s.redis.enabled, "services.redis.image", s.redis.image],
    [s.mlflow.enabled, "services.mlflow.image", s.mlflow.image],
    [s.mlflow.enabled && s.mlflow.postgres.enabled, "services.mlflow.postgres.image", s.mlflow.postgres.image],
    [s.marimo.enabled, "services.marimo.image", s.marimo.image],
  ];
  const byImage = new Map<string, string[]>();
  for (const [enabled, key, image] of uses) if (enabled) byImage.set(image, [...(byImage.get(image) ?? []), key]);
  return [...byImage].map(([image, keys]) => ({ image, keys }));
}

/**
 * Why a registry question failed, short: the network error without Docker's wrapping
 * ("failed to configure transport: error pinging v2 registry: Get …: dial tcp: lookup …").
 */
export function registryReason(text: string): string {
  const line = text.trim().split("\n").filter(Boolean).at(-1) ?? "no output";
  const network = /dial tcp: (.*)$/.exec(line)?.[1];
  if (network) return network;
  if (/manifest unknown|no such manifest|not found/i.test(line)) return "the registry does not have it";
  return line;
}

/**
 * Local (`image inspect`), else the registry's manifest (`manifest inspect`), bounded by
 * `timeoutMs`. `--` before the image: whatever it says, docker takes it as a name, never an option.
 */
export function engineImageProbe(engine = "docker", timeoutMs = manifestTimeoutMs): ImageProbe {
  return async (image) => {
    const local = await probeProgram([engine, "image", "inspect", "--format", "{{.Id}}", "--", image]);
    if (local?.code === 0) return { state: "local" };
    const remote = await probeProgram([engine, "manifest", "inspect", "--", image], undefined, { timeoutMs });
    if (!remote) return { state: "missing", why: `${engine} not found` };
    if (remote.code === 0) return { state: "pullable" };
    return {
      state: "missing",
      why: remote.timedOut ? `its registry did not answer within ${timeoutMs / 1000} s` : registryReason(remote.stderr || remote.stdout),
    };
  };
}

/** Pure verdict over the images' states. */
export function imagesCheck(images: { image: string; keys: string[] }[], states: ImageState[]): Check {
  const name = "images";
  const missing = images.map((use, i) => ({ ...use, state: states[i]! })).filter((u) => u.state.state === "missing");
  const pulls = images.filter((_, i) => states[i]!.state === "pullable").map((u) => u.image);
  if (missing.length === 0) {
    const detail =
      pulls.length === 0
        ? `all ${images.length} on this machine`
        : `${images.length - pulls.length} on this machine; ${pulls.join(", ")} pulled by the first \`cslr up\``;
    return { id: "images", name, status: "ok", detail };
  }
  return {
    id: "images",
    name,
    status: "fail",
    detail: groupByReason(missing.map((u) => ({ what: `${u.image} (${u.keys.join(", ")})`, why: (u.state as { why: string }).why })))
      .map(([why, what]) => `not on this machine and not pullable (${why}): ${what.join(", ")}`)
      .join("; "),
    fix: `pull or load ${missing.length === 1 ? "it" : "them"} (\`docker pull IMAGE\`, \`docker load\`), or set ${missing.flatMap((u) => u.keys).join(", ")} to an image this machine has (\`docker images\`)`,
  };
}

/** One line per reason: a registry nobody can reach is said once, not per image. */
function groupByReason(items: { what: string; why: string }[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const { what, why } of items) groups.set(why, [...(groups.get(why) ?? []), what]);
  return [...groups];
}
