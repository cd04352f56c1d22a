#!/usr/bin/env bash
# Builds the local images cslr's e2e tests run on. Nothing is pulled from a registry: the
# base is a debootstrap'ed Debian root, the rest are `FROM` it (packages from Debian's mirror).
#
#   cslr-test/debian:bookworm  minbase Debian root (also the health service image: the cslr
#                              binary is mounted into it read-only)
#   cslr-test/redis:7          Debian's redis-server (test/images/redis)
#   cslr-test/ray:standin      the stand-in `ray` compiled from test/stand-in/ray.ts (test/images/ray)
#
# Images are reused when present. Derived images carry a label with the hash of their inputs
# (Dockerfile, context files, and for ray the TypeScript it is compiled from) and are rebuilt
# when the inputs change. FORCE=1 rebuilds everything. RAY_STANDIN_SRC overrides the stand-in
# source file. MLflow and Marimo images cannot exist here: e2e configs disable those services
# (and PostgreSQL with MLflow), so no postgres image is built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE_IMAGE=cslr-test/debian:bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
RAY_STANDIN_SRC="${RAY_STANDIN_SRC:-$ROOT/test/stand-in/ray.ts}"
FORCE="${FORCE:-0}"
STEP_TIMEOUT_SECONDS="${STEP_TIMEOUT_SECONDS:-600}"

say() { printf 'build-test-images: %s\n' "$*" >&2; }
die() { printf 'build-test-images: error: %s\n' "$*" >&2; exit 1; }

timed() { # timed LABEL CMD...  — runs CMD and reports how long it took
  local label="$1" start=$SECONDS; shift
  "$@"
  say "$label: $((SECONDS - start))s"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
image_label() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

docker info >/dev/null 2>&1 || die "no Docker engine answering; run scripts/ci/install-docker.sh first"

# ---------------------------------------------------------------- base
build_base() {
  command -v debootstrap >/dev/null || die "debootstrap missing; run scripts/ci/install-docker.sh first"
  local rootfs="$work/rootfs"
  timeout "$STEP_TIMEOUT_SECONDS" debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap of bookworm from $MIRROR failed (log tail above)"; }
  # The apt lists and .deb cache of the bootstrap only make the image bigger.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
}

if [ "$FORCE" = 1 ] || ! image_exists "$BASE_IMAGE"; then
  timed "$BASE_IMAGE (debootstrap + import)" build_base
else
  say "$BASE_IMAGE: present, reused"
fi
base_id="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")"

# ---------------------------------------------------------------- derived images
# inputs_hash CONTEXT_DIR [EXTRA_INPUT...] — what a derived image is built from: the base, the
# context's files (except the compiled `ray`, which is covered by its sources) and extra files.
inputs_hash() {
  local ctx="$1"; shift
  { echo "$base_id"
    (cd "$ctx" && find . -type f ! -name ray -print0 | sort -z | xargs -0 -r sha256sum)
    for f in "$@"; do sha256sum "$f"; done
  } | sha256sum | cut -d' ' -f1
}

# build_derived TAG CONTEXT_DIR [EXTRA_INPUT...]
build_derived() {
  local tag="$1" ctx="$2"; shift 2
  local hash
  hash="$(inputs_hash "$ctx" "$@")"
  if [ "$FORCE" != 1 ] && [ "$(image_label "$tag" cslr.test.inputs)" = "$hash" ]; then
    say "$tag: present and up to date, reused"
    return 0
  fi
  timed "$tag (docker build)" docker_build "$tag" "$ctx" "$hash"
}

docker_build() { # quiet unless it fails; the legacy builder's deprecation notice is noise here
  local tag="$1" ctx="$2" hash="$3" log="$work/build-${1//[\/:]/_}.log"
  timeout "$STEP_TIMEOUT_SECONDS" docker build --label "cslr.test.inputs=$hash" -t "$tag" "$ctx" >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "docker build of $tag failed or took over ${STEP_TIMEOUT_SECONDS}s (log tail above)"; }
}

build_derived cslr-test/redis:7 "$ROOT/test/images/redis"

# The stand-in's inputs are ray.ts and everything it may import from src/.
[ -f "$RAY_STANDIN_SRC" ] || die "stand-in source $RAY_STANDIN_SRC not found (set RAY_STANDIN_SRC or add test/stand-in/ray.ts)"
ray_ctx="$work/ray"
mkdir -p "$ray_ctx"
cp "$ROOT/test/images/ray/Dockerfile" "$ray_ctx/"
mapfile -t ray_inputs < <( { echo "$RAY_STANDIN_SRC"; find "$ROOT/src" "$(dirname "$RAY_STANDIN_SRC")" -name '*.ts' -type f; } | sort -u)
compile_ray() {
  (cd "$ROOT" && timeout "$STEP_TIMEOUT_SECONDS" bun build --compile "$RAY_STANDIN_SRC" --outfile "$ray_ctx/ray" >"$work/bun-build.log" 2>&1) \
    || { cat "$work/bun-build.log" >&2; die "bun build --compile $RAY_STANDIN_SRC failed (output above)"; }
}
# Compile only when the image would be rebuilt: build_derived decides from the same hash.
if [ "$FORCE" = 1 ] || [ "$(image_label cslr-test/ray:standin cslr.test.inputs)" != "$(inputs_hash "$ray_ctx" "${ray_inputs[@]}")" ]; then
  timed "ray stand-in (bun build --compile)" compile_ray
fi
build_derived cslr-test/ray:standin "$ray_ctx" "${ray_inputs[@]}"

say "images ready: $BASE_IMAGE cslr-test/redis:7 cslr-test/ray:standin"
