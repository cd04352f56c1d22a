#!/usr/bin/env bash
# Makes this machine ready for the e2e tests: a running Docker engine with Compose v2 and the
# local test images. Idempotent; the second run takes well under a second.
# .ci/run calls it before `CSLR_E2E_REQUIRED=1 bun test`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$SECONDS
"$ROOT/scripts/ci/install-docker.sh"
echo "e2e-prepare: engine ready after $((SECONDS - start))s" >&2
"$ROOT/scripts/ci/build-test-images.sh"
echo "e2e-prepare: engine and test images ready after $((SECONDS - start))s" >&2
