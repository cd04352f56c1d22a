import { expect, test } from "bun:test";
import { rayVersionMismatch, rayVersionOfImage } from "../../src/config/normalise.ts";

test.each([
  ["rayproject/ray:2.60.0", "2.60.0"],
  ["rayproject/ray:2.60.0-py311-gpu", "2.60.0"],
  ["cslr-test/ray:2.60.0", "2.60.0"],
  ["registry.lab:5000/ray:v2.52.1-cu121", "2.52.1"],
  ["rayproject/ray:latest", undefined],
  ["rayproject/ray", undefined],
  ["cslr-test/ray:standin", undefined],
])("the Ray version of %s is %p", (image, version) => expect(rayVersionOfImage(image)).toBe(version));

test("nodes on one version (or tags that name none): no warning; two versions: one line naming both", () => {
  expect(
    rayVersionMismatch([
      { service: "ray-cpu", image: "rayproject/ray:2.60.0" },
      { service: "ray-gpu", image: "rayproject/ray:2.60.0-gpu" },
    ]),
  ).toBeUndefined();
  expect(
    rayVersionMismatch([
      { service: "ray-cpu", image: "rayproject/ray:2.60.0" },
      { service: "ray-gpu", image: "my/ray:custom" },
    ]),
  ).toBeUndefined();
  expect(
    rayVersionMismatch([
      { service: "ray-cpu", image: "rayproject/ray:2.60.0" },
      { service: "ray-gpu", image: "rayproject/ray:2.59.0-gpu" },
    ]),
  ).toBe(
    "Ray versions differ between nodes: ray-cpu runs 2.60.0 (rayproject/ray:2.60.0), ray-gpu 2.59.0 (rayproject/ray:2.59.0-gpu); Ray nodes of different versions cannot form one cluster: use one version for every node",
  );
});
