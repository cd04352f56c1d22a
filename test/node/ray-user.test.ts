/** Ray as the image's user, the agent as root (issue 17): the argv, the settings and what Ray's environment leaves out. */
import { describe, expect, test } from "bun:test";
import { asRayUser, rayEnvironment } from "../../src/node/ray.ts";
import { parseSettings, SettingsError } from "../../src/node/settings.ts";

describe("Ray runs as the image's user", () => {
  test("setpriv drops to uid:gid with no extra groups; root or no user leaves the argv alone", () => {
    expect(asRayUser(["ray", "start", "--block"], { uid: 1000, gid: 100 })).toEqual([
      "setpriv",
      "--reuid=1000",
      "--regid=100",
      "--clear-groups",
      "--",
      "ray",
      "start",
      "--block",
    ]);
    expect(asRayUser(["ray", "stop"], { uid: 0, gid: 0 })).toEqual(["ray", "stop"]);
    expect(asRayUser(["ray", "stop"], undefined)).toEqual(["ray", "stop"]);
  });

  test("CSLR_RAY_USER is uid:gid or a one-line error", () => {
    const base = { CSLR_HEALTH_URL: "http://health:8080" };
    expect(parseSettings({ ...base, CSLR_RAY_USER: "1000:100" }, "n").rayUser).toEqual({ uid: 1000, gid: 100 });
    expect(parseSettings(base, "n").rayUser).toBeUndefined();
    expect(() => parseSettings({ ...base, CSLR_RAY_USER: "ray" }, "n")).toThrow(new SettingsError('CSLR_RAY_USER="ray": expected uid:gid, like 1000:100'));
  });

  test("Ray's environment holds neither the token nor where the agent found it", () => {
    const env = rayEnvironment({
      CSLR_CLUSTER_TOKEN: "t",
      CSLR_TOKEN_FILE: "/run/secrets/cslr_cluster_token",
      CSLR_TOKEN_FD: "3",
      CSLR_RAY_USER: "1000:100",
      RAY_AUTH_TOKEN: "r",
      PATH: "/bin",
    });
    expect(env).toEqual({ RAY_AUTH_TOKEN: "r", PATH: "/bin" });
  });
});
