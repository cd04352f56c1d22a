#!/usr/bin/env bash
# Builds the local images cslr's e2e tests run on. Nothing is pulled from a registry: the
# base is a debootstrap'ed Debian root, the rest are `FROM` it (packages from Debian's mirror,
# Python wheels from PyPI downloaded on the host).
#
#   cslr-test/debian:bookworm  minbase Debian root (also the health service image: the cslr
#                              binary is mounted into it read-only)
#   cslr-test/redis:7          Debian's redis-server (test/images/redis)
#   cslr-test/ray:standin      the stand-in `ray` compiled from test/stand-in/ray.ts (test/images/ray)
#   cslr-test/python:3.11      Debian's Python 3.11: parent of the three images below (test/images/python)
#   cslr-test/ray:<ray>        real Ray, ray[default] + mlflow-skinny (test/images/ray-real)
#   cslr-test/mlflow:<mlflow>  MLflow server + psycopg2-binary + psycopg[binary] (test/images/mlflow)
#   cslr-test/marimo:<marimo>  marimo[sql] (test/images/marimo)
#   cslr-test/postgres:<major> Debian's PostgreSQL with the official image's env contract
#                              (test/images/postgres)
#
# The versions are cslr's pins in src/config/versions.ts (read with bun). Containers cannot be
# trusted to reach PyPI, so the wheels are downloaded here on the host with `python3 -m pip
# download` for the image's interpreter (CPython 3.11.2, glibc 2.36: bookworm's), kept in
# WHEEL_CACHE (default /var/cache/cslr-wheels) under a key of the requirement list and target,
# and installed offline in the image.
#
# Images are reused when present. Derived images carry a label with the hash of their inputs
# (parent image, Dockerfile, context files, for ray the TypeScript it is compiled from, for the
# PyPI images the requirement list and wheel target) and are rebuilt when the inputs change.
# FORCE=1 rebuilds everything. RAY_STANDIN_SRC overrides the stand-in source file.
# REAL_IMAGES=0 builds only the first three (what the stand-in e2e suites need).
# Every step is bounded by STEP_TIMEOUT_SECONDS; each build prints its time, and the end
# prints every image's size.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE_IMAGE=cslr-test/debian:bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
RAY_STANDIN_SRC="${RAY_STANDIN_SRC:-$ROOT/test/stand-in/ray.ts}"
FORCE="${FORCE:-0}"
STEP_TIMEOUT_SECONDS="${STEP_TIMEOUT_SECONDS:-600}"
REAL_IMAGES="${REAL_IMAGES:-1}"
WHEEL_CACHE="${WHEEL_CACHE:-/var/cache/cslr-wheels}"

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

docker_build() { # docker_build TAG CONTEXT HASH [BUILD_OPTION...]; quiet unless it fails (the
  # legacy builder's deprecation notice is noise here)
  local tag="$1" ctx="$2" hash="$3" log="$work/build-${1//[\/:]/_}.log"; shift 3
  timeout "$STEP_TIMEOUT_SECONDS" docker build "$@" --label "cslr.test.inputs=$hash" -t "$tag" "$ctx" >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "docker build of $tag failed or took over ${STEP_TIMEOUT_SECONDS}s (log tail above)"; }
}

build_derived cslr-test/redis:7 "$ROOT/test/images/redis"

# The stand-in's inputs are ray.ts and everything it may import from src/.
[ -f "$RAY_STANDIN_SRC" ] || die "stand-in source $RAY_STANDIN_SRC not found (set RAY_STANDIN_SRC or add test/stand-in/ray.ts)"
ray_ctx="$work/ray"
mkdir -p "$ray_ctx"
cp "$ROOT/test/images/ray/Dockerfile" "$ray_ctx/"
# This script is an input too: it holds the compile options.
mapfile -t ray_inputs < <( { echo "$RAY_STANDIN_SRC"; echo "$ROOT/scripts/ci/build-test-images.sh"; find "$ROOT/src" "$(dirname "$RAY_STANDIN_SRC")" -name '*.ts' -type f; } | sort -u)
compile_ray() {
  (cd "$ROOT" && timeout "$STEP_TIMEOUT_SECONDS" bun build --compile --minify --bytecode --format=esm "$RAY_STANDIN_SRC" --outfile "$ray_ctx/ray" >"$work/bun-build.log" 2>&1) \
    || { cat "$work/bun-build.log" >&2; die "bun build --compile $RAY_STANDIN_SRC failed (output above)"; }
}
# Compile only when the image would be rebuilt: build_derived decides from the same hash.
if [ "$FORCE" = 1 ] || [ "$(image_label cslr-test/ray:standin cslr.test.inputs)" != "$(inputs_hash "$ray_ctx" "${ray_inputs[@]}")" ]; then
  timed "ray stand-in (bun build --compile)" compile_ray
fi
build_derived cslr-test/ray:standin "$ray_ctx" "${ray_inputs[@]}"

images=("$BASE_IMAGE" cslr-test/redis:7 cslr-test/ray:standin)

# ---------------------------------------------------------------- real software (PyPI, Debian)
if [ "$REAL_IMAGES" = 1 ]; then
  # cslr's pins, the one list of versions (src/config/versions.ts), as PIN_RAY, PIN_MLFLOW, ...
  versions_out="$(cd "$ROOT" && timeout 60 bun -e 'import { pinnedVersions } from "./src/config/versions.ts";
for (const [k, v] of Object.entries(pinnedVersions)) console.log(`${k}=${v}`);' 2>&1)" \
    || die "could not read src/config/versions.ts with bun: $versions_out"
  while IFS='=' read -r key value; do
    [[ $key =~ ^[a-z0-9]+$ && $value =~ ^[A-Za-z0-9._+-]+$ ]] || die "unexpected entry in src/config/versions.ts: '$key=$value'"
    declare "PIN_${key^^}=$value"
  done <<<"$versions_out"
  for key in RAY MLFLOW MARIMO POSTGRES PSYCOPG2 PSYCOPG; do
    v="PIN_$key"; [ -n "${!v:-}" ] || die "src/config/versions.ts has no ${key,,} version"
  done

  # What the wheels must fit: bookworm's interpreter and C library, on the engine's
  # architecture. Wheels for these also fit any later 3.11.x / glibc, and the offline
  # `pip install` in the image fails loudly if one does not fit.
  WHEEL_PYTHON=3.11.2
  WHEEL_GLIBC_MINOR=36
  arch="$(uname -m)"
  pip_target=(--only-binary=:all: --implementation cp --python-version "$WHEEL_PYTHON" --abi cp311)
  for ((g = WHEEL_GLIBC_MINOR; g >= 17; g--)); do pip_target+=(--platform "manylinux_2_${g}_$arch"); done
  pip_target+=(--platform "manylinux2014_$arch" --platform "manylinux2010_$arch" --platform "manylinux1_$arch")

  # hash_inputs PARENT_IMAGE SOURCE_DIR TEXT — the parent's id, the source folder's files and
  # generated inputs (requirement list, wheel target, build arguments), independent of where
  # the checkout lives.
  hash_inputs() {
    { docker image inspect --format '{{.Id}}' "$1"
      (cd "$2" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
      printf '%s\n' "$3"
    } | sha256sum | cut -d' ' -f1
  }

  # ensure_pip: pip on the host downloads the wheels (the machine's own pip settings apply).
  ensure_pip() {
    command -v python3 >/dev/null && timeout 60 python3 -m pip --version >/dev/null 2>&1 && return 0
    say "python3 -m pip missing on the host; installing Debian's python3-pip"
    { timeout "$STEP_TIMEOUT_SECONDS" apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive timeout "$STEP_TIMEOUT_SECONDS" apt-get install -y -qq --no-install-recommends python3-pip; } >"$work/apt-pip.log" 2>&1 \
      || { tail -n 20 "$work/apt-pip.log" >&2; die "could not install python3-pip"; }
  }

  # wheels_for NAME REQUIREMENT... — a folder of wheels for REQUIREMENTs and everything they
  # need, for the images' interpreter; cached under WHEEL_CACHE by requirement list and target,
  # so a rebuild downloads nothing. Sets WHEEL_DIR.
  wheels_for() {
    local name="$1"; shift
    local key dir tmp
    key="$({ printf '%s\n' "$@"; printf '%s\n' "${pip_target[@]}"; } | sha256sum | cut -c1-16)"
    dir="$WHEEL_CACHE/$name-$key"
    WHEEL_DIR="$dir"
    if [ -f "$dir/.complete" ]; then
      say "$name wheels: cached ($(du -sh "$dir" | cut -f1), $dir)"
      return 0
    fi
    ensure_pip
    mkdir -p "$WHEEL_CACHE"
    tmp="$(mktemp -d "$WHEEL_CACHE/.partial-$name-XXXXXX")"
    local start=$SECONDS
    timeout "$STEP_TIMEOUT_SECONDS" python3 -m pip download --no-input --progress-bar off \
        --disable-pip-version-check "${pip_target[@]}" -d "$tmp" "$@" >"$work/pip-$name.log" 2>&1 \
      || { grep -v '^WARNING: Location' "$work/pip-$name.log" | tail -n 20 >&2; rm -rf "$tmp"
           die "pip download of $* failed or took over ${STEP_TIMEOUT_SECONDS}s (log tail above)"; }
    printf '%s\n' "$@" >"$tmp/.complete"
    rm -rf "$dir" && mv "$tmp" "$dir"
    # Older downloads for this image are dead weight now.
    find "$WHEEL_CACHE" -mindepth 1 -maxdepth 1 -name "$name-*" ! -name "$name-$key" -exec rm -rf {} +
    say "$name wheels: downloaded $(find "$dir" -name '*.whl' | wc -l) wheels ($(du -sh "$dir" | cut -f1)) in $((SECONDS - start))s"
  }

  # build_wheel_image TAG SOURCE_DIR NAME REQUIREMENT... — an image FROM the python image whose
  # context is SOURCE_DIR plus requirements.txt and the wheels (hard links into the cache).
  build_wheel_image() {
    local tag="$1" src="$2" name="$3"; shift 3
    local hash ctx
    hash="$(hash_inputs "$PYTHON_IMAGE" "$src" "$(printf '%s\n' "$@" "${pip_target[@]}")")"
    if [ "$FORCE" != 1 ] && [ "$(image_label "$tag" cslr.test.inputs)" = "$hash" ]; then
      say "$tag: present and up to date, reused"
      return 0
    fi
    wheels_for "$name" "$@"
    ctx="$work/ctx-$name"
    mkdir -p "$ctx/wheels"
    cp -R "$src/." "$ctx/"
    printf '%s\n' "$@" >"$ctx/requirements.txt"
    cp -l "$WHEEL_DIR"/*.whl "$ctx/wheels/" 2>/dev/null || cp "$WHEEL_DIR"/*.whl "$ctx/wheels/"
    replace_image "$tag" "$ctx" "$hash" --build-arg "CSLR_STAGE=$hash"
    # The install stage (wheels + venv, labelled with this build's hash) is no use after the
    # build: only an input change rebuilds, and that reinstalls anyway.
    docker images -q --filter dangling=true --filter "label=cslr.test.stage=$hash" \
      | xargs -r docker rmi >/dev/null 2>&1 || true
  }

  # replace_image TAG CONTEXT HASH [BUILD_OPTION...] — build; the image this replaces is
  # removed at the end (after its children, e.g. the python image's) if nothing names it then.
  superseded=()
  replace_image() {
    local tag="$1" old
    old="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
    timed "$tag (docker build)" docker_build "$@"
    if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
      superseded=("$old" "${superseded[@]}")
    fi
  }

  PYTHON_IMAGE=cslr-test/python:3.11
  py_hash="$(hash_inputs "$BASE_IMAGE" "$ROOT/test/images/python" "")"
  if [ "$FORCE" != 1 ] && [ "$(image_label "$PYTHON_IMAGE" cslr.test.inputs)" = "$py_hash" ]; then
    say "$PYTHON_IMAGE: present and up to date, reused"
  else
    replace_image "$PYTHON_IMAGE" "$ROOT/test/images/python" "$py_hash"
  fi

  build_wheel_image "cslr-test/ray:$PIN_RAY" "$ROOT/test/images/ray-real" ray \
    "ray[default]==$PIN_RAY" "mlflow-skinny==$PIN_MLFLOW"
  build_wheel_image "cslr-test/mlflow:$PIN_MLFLOW" "$ROOT/test/images/mlflow" mlflow \
    "mlflow==$PIN_MLFLOW" "psycopg2-binary==$PIN_PSYCOPG2" "psycopg[binary]==$PIN_PSYCOPG"
  build_wheel_image "cslr-test/marimo:$PIN_MARIMO" "$ROOT/test/images/marimo" marimo \
    "marimo[sql]==$PIN_MARIMO"

  pg_tag="cslr-test/postgres:$PIN_POSTGRES"
  pg_hash="$(hash_inputs "$BASE_IMAGE" "$ROOT/test/images/postgres" "PG_MAJOR=$PIN_POSTGRES")"
  if [ "$FORCE" != 1 ] && [ "$(image_label "$pg_tag" cslr.test.inputs)" = "$pg_hash" ]; then
    say "$pg_tag: present and up to date, reused"
  else
    replace_image "$pg_tag" "$ROOT/test/images/postgres" "$pg_hash" --build-arg "PG_MAJOR=$PIN_POSTGRES"
  fi

  # Children first (newest supersession first); no -f, so an image still tagged or used by a
  # container stays.
  for old in "${superseded[@]}"; do
    [ -z "$(docker image inspect --format '{{join .RepoTags ""}}' "$old" 2>/dev/null)" ] \
      && docker rmi "$old" >/dev/null 2>&1 || true
  done

  images+=("$PYTHON_IMAGE" "cslr-test/ray:$PIN_RAY" "cslr-test/mlflow:$PIN_MLFLOW" "cslr-test/marimo:$PIN_MARIMO" "$pg_tag")
fi

for image in "${images[@]}"; do
  say "$(printf '%-28s %5s MB' "$image" "$(( $(docker image inspect --format '{{.Size}}' "$image") / 1000000 ))")"
done
say "images ready: ${images[*]}"
