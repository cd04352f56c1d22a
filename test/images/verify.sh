#!/usr/bin/env bash
# Verifies the real-software test images (scripts/ci/build-test-images.sh) against the facts
# cslr relies on, with real containers:
#
#   ray       two nodes on a bridge network: both alive, a task placed on each (custom resource
#             and node affinity), start→alive time and memory per node, ray:// from a third
#             container
#   hostnet   head + worker on the host network of one machine, every port pinned: which
#             process listens on which port
#   badip     a node in a bridge container given the Docker host's address as --node-ip-address
#   auth      RAY_AUTH_MODE=token: workers with/without/wrong token, the dashboard's REST API
#             headers, `ray job submit`, ray://
#   mlflow    PostgreSQL + MLflow server: a client in the Ray image logs a param, metric and
#             artifact; read back over the REST API; Host-header checks; PostgreSQL recreated
#             on its volume keeps the run; SIGTERM is a fast shutdown
#   marimo    token required (query, Bearer, Basic), token from stdin, health endpoints
#
# Usage: test/images/verify.sh [SECTION...]   (default: all, in the order above)
# Env:   VERIFY_PREFIX     name prefix of every container/network/volume (default cslr-verify-<pid>-)
#        VERIFY_PORT_BASE  first of 40 host ports the host-network section binds (default 20100)
#        HOST_IP           an address of this machine for the host-network and badip sections
#                          (default: the address of the default route's interface)
#        WAIT_SECONDS      bound of every wait (default 120)
# Everything it creates is removed on exit. Ends with "N passed, N failed"; exit 1 on a failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
P="${VERIFY_PREFIX:-cslr-verify-$$-}"
PORT_BASE="${VERIFY_PORT_BASE:-20100}"
WAIT="${WAIT_SECONDS:-120}"

versions="$(cd "$ROOT" && timeout 60 bun -e 'import { pinnedVersions as v } from "./src/config/versions.ts";
console.log(`${v.ray} ${v.mlflow} ${v.marimo} ${v.postgres}`);')" || { echo "cannot read src/config/versions.ts" >&2; exit 2; }
read -r RAY_V MLFLOW_V MARIMO_V PG_V <<<"$versions"
RAY_IMG="cslr-test/ray:$RAY_V" MLFLOW_IMG="cslr-test/mlflow:$MLFLOW_V"
MARIMO_IMG="cslr-test/marimo:$MARIMO_V" PG_IMG="cslr-test/postgres:$PG_V"

passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
check() { local what="$1"; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
info() { printf '      %s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }

containers=() networks=() volumes=()
cleanup() {
  local c
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
  for c in "${networks[@]}"; do docker network rm "$c" >/dev/null 2>&1; done
  for c in "${volumes[@]}"; do docker volume rm "$c" >/dev/null 2>&1; done
  rm -rf "$tmp"
}
tmp="$(mktemp -d)"
trap cleanup EXIT
trap 'exit 130' INT TERM

net() { docker network create "$P$1" >/dev/null && networks+=("$P$1"); }
vol() { docker volume create "$P$1" >/dev/null && volumes+=("$P$1"); }
# run NAME DOCKER_RUN_ARGS... — a detached container named $P$NAME
run() { local n="$P$1"; shift; containers+=("$n"); docker run -d --name "$n" "$@" >/dev/null; }
# once NAME DOCKER_RUN_ARGS... — a foreground container, removed afterwards, bounded by WAIT
once() { local n="$P$1"; shift; containers+=("$n"); timeout "$WAIT" docker run --rm --name "$n" "$@"; }
x() { local n="$P$1"; shift; timeout "$WAIT" docker exec "$n" "$@"; }
running() { [ "$(docker inspect -f '{{.State.Running}}' "$P$1" 2>/dev/null)" = true ]; }
# wait_for SECONDS CMD... — true once CMD succeeds, false after SECONDS
wait_for() { local end=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 0.5; done; }
wait_exit() { local end=$((SECONDS + $2)); while running "$1"; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 0.5; done; }
started_ms() { date -d "$(docker inspect -f '{{.State.StartedAt}}' "$P$1")" +%s%3N; }
# Memory of a container: the sum of its processes' PSS (shared pages split) and RSS, as its user.
mem() {
  x "$1" bash -c 'r=0; p=0; for f in /proc/[0-9]*/smaps_rollup; do while read -r k v _; do
      case $k in Rss:) r=$((r+v));; Pss:) p=$((p+v));; esac; done < "$f" 2>/dev/null; done
    echo "PSS $((p/1024)) MB (RSS sum $((r/1024)) MB)"' 2>/dev/null
}
host_ip() {
  [ -n "${HOST_IP:-}" ] && { echo "$HOST_IP"; return; }
  local dev; dev="$(ip route show default | awk '{print $5; exit}')"
  ip -4 -o addr show dev "$dev" scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}
RAY_SMALL=(--num-cpus=1 --object-store-memory=200000000 --disable-usage-stats)

# Python run in the head: the alive nodes' IPs and start times, and one task per node.
cat >"$tmp/nodes.py" <<'EOF'
import json, ray
from ray.util.state import list_nodes
ray.init(address="auto", logging_level="ERROR")
print(json.dumps([{"ip": n.node_ip, "start_ms": n.start_time_ms} for n in list_nodes(detail=True) if n.state == "ALIVE"]))
EOF
cat >"$tmp/tasks.py" <<'EOF'
import socket, ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init(address="auto", logging_level="ERROR")
@ray.remote(num_cpus=0)
def where():
    return socket.gethostname()
by_resource = ray.get([where.options(resources={r: 0.1}).remote() for r in ("node_head", "node_worker")])
alive = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
by_affinity = ray.get([where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(i, soft=False)).remote() for i in alive])
print("by-resource", *by_resource)
print("by-affinity", *sorted(by_affinity))
EOF
cat >"$tmp/client.py" <<'EOF'
import socket, sys, ray
ray.init(sys.argv[1], logging_level="ERROR")
print("alive", sum(1 for n in ray.nodes() if n["Alive"]))
@ray.remote(num_cpus=0)
def where():
    return socket.gethostname()
print("task-on", ray.get(where.options(resources={"node_worker": 0.1}).remote()))
EOF
chmod 644 "$tmp"/*.py

# ---------------------------------------------------------------- ray (bridge)
verify_ray() {
  section "Ray $RAY_V: two nodes on a bridge network"
  net ray
  run ray-head --network "${P}ray" --hostname head --network-alias head --shm-size=512m "$RAY_IMG" \
    ray start --head --block --port=6379 --dashboard-host=0.0.0.0 --dashboard-port=8265 \
    --ray-client-server-port=10001 "${RAY_SMALL[@]}" --resources='{"node_head": 1}'
  docker cp "$tmp/nodes.py" "${P}ray-head:/tmp/nodes.py" && docker cp "$tmp/tasks.py" "${P}ray-head:/tmp/tasks.py"
  alive() { [ "$(x ray-head python /tmp/nodes.py 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$1" ]; }
  check "head alive within ${WAIT}s" wait_for "$WAIT" alive 1
  # The worker starts once the head is up, so its start-to-alive time is its own.
  run ray-worker --network "${P}ray" --hostname worker --shm-size=512m "$RAY_IMG" \
    ray start --address=head:6379 --block "${RAY_SMALL[@]}" --resources='{"node_worker": 1}'
  check "2 nodes alive within ${WAIT}s" wait_for "$WAIT" alive 2
  # `ray status` is the autoscaler's view, refreshed every few seconds after the GCS's.
  status2() { [ "$(x ray-head ray status 2>&1 | sed -n '/^Active:/,/^Pending:/p' | grep -c ' node_')" = 2 ]; }
  check "ray status in the head lists 2 active nodes" wait_for 60 status2
  local nodes; nodes="$(x ray-head python /tmp/nodes.py 2>/dev/null)"
  local head_ip worker_ip
  head_ip="$(docker inspect -f "{{(index .NetworkSettings.Networks \"${P}ray\").IPAddress}}" "${P}ray-head")"
  worker_ip="$(docker inspect -f "{{(index .NetworkSettings.Networks \"${P}ray\").IPAddress}}" "${P}ray-worker")"
  for pair in "ray-head $head_ip" "ray-worker $worker_ip"; do
    set -- $pair
    local ms; ms="$(python3 -c 'import json,sys; print(next(n["start_ms"] for n in json.loads(sys.argv[1]) if n["ip"] == sys.argv[2]))' "$nodes" "$2")"
    info "$1: container start -> node alive in GCS: $(( ms - $(started_ms "$1") )) ms; memory $(mem "$1")"
  done
  local out; out="$(x ray-head python /tmp/tasks.py 2>&1)"
  check "a task runs on each node (custom resource)" grep -q '^by-resource head worker$' <<<"$out"
  check "a task runs on each node (node affinity)" grep -q '^by-affinity head worker$' <<<"$out"
  out="$(once ray-client --network "${P}ray" -v "$tmp/client.py:/tmp/client.py:ro" "$RAY_IMG" python /tmp/client.py ray://head:10001 2>&1)"
  check "ray.init(\"ray://head:10001\") from a third container sees 2 nodes" grep -q '^alive 2$' <<<"$out"
  check "... and runs a task on the worker" grep -q '^task-on worker$' <<<"$out"
  info "listeners in the head with only --port/--dashboard-port/--ray-client-server-port pinned:"
  x ray-head ss -ltnpH 2>/dev/null | awk '{print $4, $6}' | sed -E 's/users:\(\("([^"]+)".*/\1/' | grep -v '^127.0.0.11:' | sort -t: -k2 -n | sed 's/^/        /'
}

# ---------------------------------------------------------------- ray (host network)
verify_hostnet() {
  section "Ray $RAY_V: head + worker on the host network, every port pinned"
  local ip; ip="$(host_ip)"; info "node IP: $ip; ports from $PORT_BASE"
  local b=$PORT_BASE
  # name port flag — what each listener should be; the last two are env variables (no flag).
  local -a head_ports=(
    "$((b + 0)) --port (GCS)" "$((b + 1)) --dashboard-port" "$((b + 2)) --ray-client-server-port"
    "$((b + 3)) --node-manager-port" "$((b + 4)) --object-manager-port" "$((b + 5)) --runtime-env-agent-port"
    "$((b + 6)) --dashboard-agent-grpc-port" "$((b + 7)) --dashboard-agent-listen-port"
    "$((b + 8)) --metrics-export-port" "$((b + 9)) env DASHBOARD_METRIC_PORT (dashboard metrics, default 44227)"
    "$((b + 10)) env AUTOSCALER_METRIC_PORT (autoscaler metrics, default 44217)")
  local -a worker_ports=(
    "$((b + 23)) --node-manager-port" "$((b + 24)) --object-manager-port" "$((b + 25)) --runtime-env-agent-port"
    "$((b + 26)) --dashboard-agent-grpc-port" "$((b + 27)) --dashboard-agent-listen-port" "$((b + 28)) --metrics-export-port")
  run hn-head --network host --shm-size=512m -e DASHBOARD_METRIC_PORT=$((b + 9)) -e AUTOSCALER_METRIC_PORT=$((b + 10)) "$RAY_IMG" \
    ray start --head --block --node-ip-address="$ip" --port=$b --dashboard-host=0.0.0.0 --dashboard-port=$((b + 1)) \
    --ray-client-server-port=$((b + 2)) --node-manager-port=$((b + 3)) --object-manager-port=$((b + 4)) \
    --runtime-env-agent-port=$((b + 5)) --dashboard-agent-grpc-port=$((b + 6)) --dashboard-agent-listen-port=$((b + 7)) \
    --metrics-export-port=$((b + 8)) --min-worker-port=$((b + 11)) --max-worker-port=$((b + 19)) \
    "${RAY_SMALL[@]}" --resources='{"node_head": 1}'
  docker cp "$tmp/nodes.py" "${P}hn-head:/tmp/nodes.py"
  alive() { [ "$(x hn-head env RAY_ADDRESS="$ip:$b" python /tmp/nodes.py 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$1" ]; }
  check "head alive on the host network" wait_for "$WAIT" alive 1
  run hn-worker --network host --shm-size=512m "$RAY_IMG" \
    ray start --block --address="$ip:$b" --node-ip-address="$ip" --node-manager-port=$((b + 23)) \
    --object-manager-port=$((b + 24)) --runtime-env-agent-port=$((b + 25)) --dashboard-agent-grpc-port=$((b + 26)) \
    --dashboard-agent-listen-port=$((b + 27)) --metrics-export-port=$((b + 28)) \
    --min-worker-port=$((b + 31)) --max-worker-port=$((b + 39)) "${RAY_SMALL[@]}" --resources='{"node_worker": 1}'
  check "both nodes alive on one host network" wait_for "$WAIT" alive 2
  # Hold a task on each node so worker processes (and the driver) listen too.
  cat >"$tmp/hold.py" <<'EOF'
import ray, time
ray.init(logging_level="ERROR")
@ray.remote(num_cpus=0)
def hold():
    time.sleep(20)
    return True
refs = [hold.options(resources={r: 0.1}).remote() for r in ("node_head", "node_worker")]
print("held", all(ray.get(refs)))
EOF
  docker cp "$tmp/hold.py" "${P}hn-head:/tmp/hold.py"
  ( x hn-head env RAY_ADDRESS="$ip:$b" python /tmp/hold.py >"$tmp/hold.out" 2>&1 ) &
  local holder=$!
  sleep 12
  local c spec port what procs all_ok=1
  for c in hn-head hn-worker; do
    x "$c" ss -ltnpH 2>/dev/null | awk '{print $4, $6}' | sed -E 's/users:\(\("([^"]+)".*/\1/' >"$tmp/$c.ss"
  done
  info "port  flag  -> bound address(es) and process, from ss -ltnp inside the container"
  for spec in "${head_ports[@]/#/hn-head }" "${worker_ports[@]/#/hn-worker }"; do
    read -r c port what <<<"$spec"
    procs="$(awk -v p=":$port" 'substr($1, length($1) - length(p) + 1) == p' "$tmp/$c.ss" | tr '\n' ' ')"
    info "${c#hn-} $port $what -> ${procs:-NOT LISTENING}"
    [ -n "$procs" ] || all_ok=0
  done
  check "every pinned port has its listener" test "$all_ok" = 1
  local lo=$b hi=$((b + 39)) stray
  stray="$(cat "$tmp/hn-head.ss" "$tmp/hn-worker.ss" | awk '$2 != "" {n = split($1, a, ":"); print a[n], $2}' \
    | awk -v lo=$lo -v hi=$hi '$1 < lo || $1 > hi' | sort -u)"
  check "no Ray process listens outside the pinned ports $lo-$hi" test -z "$stray"
  [ -z "$stray" ] || info "outside: $stray"
  info "in the worker port ranges ($((b + 11))-$((b + 19)), $((b + 31))-$((b + 39))): $(cat "$tmp/hn-head.ss" "$tmp/hn-worker.ss" \
    | awk -v b=$b '$2 != "" {n = split($1, a, ":"); p = a[n] - b; if ((p >= 11 && p <= 19) || (p >= 31 && p <= 39)) print a[n] "=" $2}' | sort -u | tr '\n' ' ')"
  wait "$holder"
  check "a task held on each node finished" grep -q '^held True$' "$tmp/hold.out"
}

# ---------------------------------------------------------------- foreign --node-ip-address
verify_badip() {
  section "Ray $RAY_V: bridge container with the Docker host's address as --node-ip-address"
  local ip; ip="$(host_ip)"
  net bad
  # The head retries RAY_NUM_REDIS_GET_RETRIES (default 20) times, ~41 s each (about 14 min);
  # one retry shows the same failure.
  run bad-head --network "${P}bad" --shm-size=512m -e RAY_NUM_REDIS_GET_RETRIES=1 "$RAY_IMG" \
    ray start --head --block --node-ip-address="$ip" --port=6379 "${RAY_SMALL[@]}"
  run bad-okhead --network "${P}bad" --network-alias okhead --shm-size=512m "$RAY_IMG" \
    ray start --head --block --port=6379 "${RAY_SMALL[@]}"
  wait_for "$WAIT" x bad-okhead ray status
  run bad-worker --network "${P}bad" --shm-size=512m "$RAY_IMG" \
    ray start --block --address=okhead:6379 --node-ip-address="$ip" "${RAY_SMALL[@]}"
  check "head with a foreign node IP exits (within ${WAIT}s, 1 retry)" wait_exit bad-head "$WAIT"
  local log; log="$(docker logs "${P}bad-head" 2>&1)"
  check "... ray start could not reach its own GCS at <node IP>:6379" grep -q "Failed to connect to GCS at address $ip:6379" <<<"$log"
  check "... and raised 'Failed to start GCS'" grep -q 'RuntimeError: Failed to start GCS' <<<"$log"
  info "head exit code $(docker inspect -f '{{.State.ExitCode}}' "${P}bad-head"): $(grep -m1 -o 'Failed to connect to GCS at address [^ ]* within [0-9]* seconds' <<<"$log")"
  check "worker with a foreign node IP exits" wait_exit bad-worker "$WAIT"
  log="$(docker logs "${P}bad-worker" 2>&1)"
  check "... 'The current node timed out during startup'" grep -q 'The current node timed out during startup' <<<"$log"
  docker cp "${P}bad-worker:/tmp/ray/session_latest/logs" "$tmp/badlogs" 2>/dev/null
  check "... runtime_env_agent could not bind the address (Errno 99)" grep -q 'Cannot assign requested address' "$tmp/badlogs/runtime_env_agent.err"
  check "... raylet: 'exited immediately because one Ray agent failed'" grep -q 'one Ray agent failed, agent_name = runtime_env_agent' "$tmp/badlogs/raylet.out"
}

# ---------------------------------------------------------------- token auth
verify_auth() {
  section "Ray $RAY_V: token authentication"
  local T="cslr-verify-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  net auth
  run auth-head --network "${P}auth" --network-alias head --shm-size=512m -e RAY_AUTH_MODE=token -e RAY_AUTH_TOKEN="$T" "$RAY_IMG" \
    ray start --head --block --port=6379 --dashboard-host=0.0.0.0 --dashboard-port=8265 --ray-client-server-port=10001 "${RAY_SMALL[@]}"
  wait_for "$WAIT" x auth-head env RAY_AUTH_MODE=token RAY_AUTH_TOKEN="$T" ray status
  local w
  for w in "ok -e RAY_AUTH_MODE=token -e RAY_AUTH_TOKEN=$T" "none" "wrong -e RAY_AUTH_MODE=token -e RAY_AUTH_TOKEN=wrong" \
           "modeonly -e RAY_AUTH_MODE=token" "tokenonly -e RAY_AUTH_TOKEN=$T"; do
    set -- $w; local n="auth-w-$1"; shift
    run "$n" --network "${P}auth" --shm-size=512m "$@" "$RAY_IMG" ray start --block --address=head:6379 "${RAY_SMALL[@]}"
  done
  for w in none wrong modeonly tokenonly; do wait_exit "auth-w-$w" "$WAIT"; done
  check "worker with RAY_AUTH_MODE=token and the token joins" running auth-w-ok
  local l
  l="$(docker logs "${P}auth-w-none" 2>&1)"
  check "worker without either variable fails: InvalidAuthToken" grep -q 'InvalidAuthToken: Authentication token is missing or incorrect' <<<"$l"
  l="$(docker logs "${P}auth-w-wrong" 2>&1)"
  check "worker with a wrong token fails: InvalidAuthToken" grep -q 'InvalidAuthToken' <<<"$l"
  l="$(docker logs "${P}auth-w-modeonly" 2>&1)"
  check "worker with RAY_AUTH_MODE=token and no token fails before connecting" grep -q 'no authentication token was found' <<<"$l"
  l="$(docker logs "${P}auth-w-tokenonly" 2>&1)"
  check "worker with RAY_AUTH_TOKEN but no RAY_AUTH_MODE fails (mode 'disabled')" grep -q "RAY_AUTH_MODE is currently 'disabled'" <<<"$l"

  cat >"$tmp/rest.sh" <<EOF
T='$T'; U=http://head:8265
c() { local name="\$1"; shift; echo "\$name \$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "\$@")"; }
c jobs-none \$U/api/jobs/
c jobs-bearer -H "Authorization: Bearer \$T" \$U/api/jobs/
c jobs-bare -H "Authorization: \$T" \$U/api/jobs/
c jobs-wrong -H "Authorization: Bearer wrong" \$U/api/jobs/
c jobs-xray -H "X-Ray-Authorization: Bearer \$T" \$U/api/jobs/
c jobs-cookie -b "ray-authentication-token=\$T" \$U/api/jobs/
c pkg-none \$U/api/packages/gcs/none.zip
c pkg-bearer -H "Authorization: Bearer \$T" \$U/api/packages/gcs/none.zip
c gcs-healthz-none \$U/api/gcs_healthz
c authmode-none \$U/api/authentication_mode
EOF
  chmod 644 "$tmp/rest.sh"
  local r; r="$(once auth-curl --network "${P}auth" -v "$tmp/rest.sh:/tmp/rest.sh:ro" "$RAY_IMG" bash /tmp/rest.sh)"
  info "dashboard REST: $(tr '\n' ' ' <<<"$r")"
  check "/api/jobs/ without a token: 401" grep -qx 'jobs-none 401' <<<"$r"
  check "/api/jobs/ with 'Authorization: Bearer <token>': 200" grep -qx 'jobs-bearer 200' <<<"$r"
  check "/api/jobs/ with 'X-Ray-Authorization: Bearer <token>': 200" grep -qx 'jobs-xray 200' <<<"$r"
  check "/api/jobs/ with cookie ray-authentication-token=<token>: 200" grep -qx 'jobs-cookie 200' <<<"$r"
  check "/api/jobs/ with the token but no 'Bearer ': 403" grep -qx 'jobs-bare 403' <<<"$r"
  check "/api/jobs/ with a wrong token: 403" grep -qx 'jobs-wrong 403' <<<"$r"
  check "/api/packages/... without a token: 401, with Bearer: past auth (404 for a missing package)" \
    grep -qz 'pkg-none 401.pkg-bearer 404' <<<"$r"
  check "/api/gcs_healthz needs no token: 200" grep -qx 'gcs-healthz-none 200' <<<"$r"

  submit() { local n=auth-submit; once "$n" --network "${P}auth" "$@" "$RAY_IMG" ray job submit --address http://head:8265 -- echo verify-submitted 2>&1; }
  check "ray job submit without the env variables fails (401)" bash -c '! grep -q "succeeded" <<<"$1" && grep -q "Missing authentication token" <<<"$1"' _ "$(submit)"
  check "ray job submit with RAY_AUTH_TOKEN alone fails (client mode is 'disabled')" bash -c '! grep -q "succeeded" <<<"$1"' _ "$(submit -e RAY_AUTH_TOKEN="$T")"
  check "ray job submit with RAY_AUTH_MODE=token and RAY_AUTH_TOKEN succeeds" grep -q "succeeded" <<<"$(submit -e RAY_AUTH_MODE=token -e RAY_AUTH_TOKEN="$T")"
  check "ray job submit with RAY_JOB_HEADERS='{\"Authorization\": \"Bearer …\"}' succeeds" \
    grep -q "succeeded" <<<"$(submit -e RAY_JOB_HEADERS="{\"Authorization\": \"Bearer $T\"}")"
  local out
  out="$(once auth-client --network "${P}auth" -e RAY_AUTH_MODE=token -e RAY_AUTH_TOKEN="$T" "$RAY_IMG" \
    python -c 'import ray; ray.init("ray://head:10001", logging_level="ERROR"); print("alive", sum(1 for n in ray.nodes() if n["Alive"]))' 2>&1)"
  check "ray:// with RAY_AUTH_MODE=token and the token: 2 nodes" grep -q '^alive 2$' <<<"$out"
  out="$(once auth-client --network "${P}auth" "$RAY_IMG" \
    python -c 'import ray; ray.init("ray://head:10001", logging_level="ERROR")' 2>&1)"
  check "ray:// without the token: ConnectionError (client connection timeout)" grep -q 'ConnectionError: ray client connection timeout' <<<"$out"
}

# ---------------------------------------------------------------- MLflow on PostgreSQL
verify_mlflow() {
  section "MLflow $MLFLOW_V on PostgreSQL $PG_V"
  local PW="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  net ml; vol pgdata; vol artifacts
  pg() { run ml-pg --network "${P}ml" --network-alias mlflow-postgres -e POSTGRES_USER=mlflow -e POSTGRES_DB=mlflow \
           -e POSTGRES_PASSWORD="$PW" -v "${P}pgdata:/var/lib/postgresql/data" "$PG_IMG"; }
  pg
  check "pg_isready (the healthcheck) within ${WAIT}s" wait_for "$WAIT" x ml-pg pg_isready -U mlflow -d mlflow
  check "first start initialised the cluster" grep -q 'initialisation done' <<<"$(docker logs "${P}ml-pg" 2>&1)"
  local q; q="$(once ml-psql --network "${P}ml" "$PG_IMG" psql "postgresql://mlflow:$PW@mlflow-postgres:5432/mlflow" -Atc \
    'select current_user, (select rolsuper from pg_roles where rolname = current_user)' 2>&1)"
  check "POSTGRES_USER is a superuser reachable with its password over TCP" test "$q" = 'mlflow|t'
  q="$(once ml-psql --network "${P}ml" "$PG_IMG" psql "postgresql://mlflow:wrong@mlflow-postgres:5432/mlflow" -c 'select 1' 2>&1)"
  check "a wrong password is refused over TCP" grep -q 'password authentication failed' <<<"$q"
  # The store URI (with the password) from the environment, not argv; the hosts allowed too.
  run ml-mlflow --network "${P}ml" --network-alias mlflow -v "${P}artifacts:/mlflow/artifacts" \
    -e MLFLOW_BACKEND_STORE_URI="postgresql://mlflow:$PW@mlflow-postgres:5432/mlflow" \
    -e MLFLOW_SERVER_ALLOWED_HOSTS='mlflow,mlflow:*,localhost,localhost:*,127.0.0.1,127.0.0.1:*' \
    -e MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
    --entrypoint sh "$MLFLOW_IMG" -c 'exec mlflow server --host 0.0.0.0 --port 5000 --workers 2 --serve-artifacts --artifacts-destination /mlflow/artifacts'
  check "GET /health answers within ${WAIT}s" wait_for "$WAIT" x ml-mlflow curl -sf http://127.0.0.1:5000/health
  check "the password is not in any process's argv" bash -c '! docker exec "$1" sh -c "cat /proc/[0-9]*/cmdline" | tr "\0" " " | grep -qF "$2"' _ "${P}ml-mlflow" "$PW"
  info "mlflow server memory (2 workers, job execution off): $(mem ml-mlflow)"

  cat >"$tmp/log.py" <<'EOF'
import os, tempfile, mlflow
mlflow.set_experiment("cslr-verify")
with mlflow.start_run(run_name="verify") as run:
    mlflow.log_param("alpha", "0.5")
    mlflow.log_metric("loss", 0.25, step=1)
    path = os.path.join(tempfile.mkdtemp(), "hello.txt")
    with open(path, "w") as f:
        f.write("hello from the ray image\n")
    mlflow.log_artifact(path, artifact_path="notes")
    print("RUN", run.info.experiment_id, run.info.run_id)
EOF
  chmod 644 "$tmp/log.py"
  local out exp rid
  out="$(once ml-client --network "${P}ml" -e MLFLOW_TRACKING_URI=http://mlflow:5000 -v "$tmp/log.py:/tmp/log.py:ro" "$RAY_IMG" python /tmp/log.py 2>&1)"
  read -r _ exp rid <<<"$(grep '^RUN ' <<<"$out")"
  check "a client in the Ray image logged a run (MLFLOW_TRACKING_URI=http://mlflow:5000)" test -n "${rid:-}"
  [ -n "${rid:-}" ] || { info "$(tail -n 5 <<<"$out")"; return; }
  cat >"$tmp/read.sh" <<EOF
U=http://mlflow:5000
echo "search \$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"experiment_ids":["$exp"]}' \$U/api/2.0/mlflow/runs/search | python3 -c 'import json,sys; r=json.load(sys.stdin)["runs"][0]["data"]; print(r["params"][0]["key"], r["params"][0]["value"], r["metrics"][0]["key"], r["metrics"][0]["value"])')"
echo "history \$(curl -sf "\$U/api/2.0/mlflow/metrics/get-history?run_id=$rid&metric_key=loss" | python3 -c 'import json,sys; m=json.load(sys.stdin)["metrics"][0]; print(m["value"], m["step"])')"
echo "list \$(curl -sf "\$U/api/2.0/mlflow-artifacts/artifacts?path=$exp/$rid/artifacts/notes" | python3 -c 'import json,sys; print(*[f["path"] for f in json.load(sys.stdin)["files"]])')"
echo "download \$(curl -sf "\$U/api/2.0/mlflow-artifacts/artifacts/$exp/$rid/artifacts/notes/hello.txt")"
c() { local name="\$1"; shift; echo "\$name \$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "\$@")"; }
c host-name "\$U/api/2.0/mlflow/experiments/search?max_results=1"
c host-ip "http://\$(getent hosts mlflow | cut -d' ' -f1):5000/api/2.0/mlflow/experiments/search?max_results=1"
c health-ip "http://\$(getent hosts mlflow | cut -d' ' -f1):5000/health"
c cors-post -H "Origin: http://evil.example" -H 'Content-Type: application/json' -d '{"max_results":1}' \$U/api/2.0/mlflow/experiments/search
EOF
  chmod 644 "$tmp/read.sh"
  local r; r="$(once ml-read --network "${P}ml" -v "$tmp/read.sh:/tmp/read.sh:ro" "$RAY_IMG" bash /tmp/read.sh 2>&1)"
  check "REST runs/search returns the param and metric" grep -qx 'search alpha 0.5 loss 0.25' <<<"$r"
  check "REST metrics/get-history returns the metric" grep -qx 'history 0.25 1' <<<"$r"
  check "mlflow-artifacts list shows the artifact" grep -qx 'list hello.txt' <<<"$r"
  check "mlflow-artifacts download returns its content" grep -qx 'download hello from the ray image' <<<"$r"
  check "Host 'mlflow:5000' allowed by MLFLOW_SERVER_ALLOWED_HOSTS: 200" grep -qx 'host-name 200' <<<"$r"
  check "Host '<container IP>:5000' not in the list (it replaces the private-IP defaults): 403" grep -qx 'host-ip 403' <<<"$r"
  check "/health is exempt from the Host check: 200" grep -qx 'health-ip 200' <<<"$r"
  check "a cross-origin POST (Origin http://evil.example) is blocked: 403" grep -qx 'cors-post 403' <<<"$r"

  # cslr's current command line (store URI in argv, no allowed hosts): the defaults.
  run ml-mlflow-cslr --network "${P}ml" --network-alias mlflow-cslr -v "${P}artifacts:/mlflow/artifacts" \
    -e MLFLOW_PORT=5000 -e PGUSER=mlflow -e PGDATABASE=mlflow -e POSTGRES_PASSWORD="$PW" --entrypoint sh "$MLFLOW_IMG" -c \
    'exec mlflow server --host 0.0.0.0 --port "$MLFLOW_PORT" --backend-store-uri "postgresql://$PGUSER:$POSTGRES_PASSWORD@mlflow-postgres:5432/$PGDATABASE" --serve-artifacts --artifacts-destination /mlflow/artifacts'
  check "cslr's command line: /health within ${WAIT}s" wait_for "$WAIT" x ml-mlflow-cslr curl -sf http://127.0.0.1:5000/health
  cat >"$tmp/hosts.sh" <<'EOF2'
c() { local name="$1"; shift; echo "$name $(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@")"; }
ip="$(getent hosts mlflow-cslr | cut -d' ' -f1)"
c by-name "http://mlflow-cslr:5000/api/2.0/mlflow/experiments/search?max_results=1"
c by-ip "http://$ip:5000/api/2.0/mlflow/experiments/search?max_results=1"
c public-host -H "Host: 203.0.113.7:5000" "http://$ip:5000/api/2.0/mlflow/experiments/search?max_results=1"
EOF2
  chmod 644 "$tmp/hosts.sh"
  r="$(once ml-read --network "${P}ml" -v "$tmp/hosts.sh:/tmp/hosts.sh:ro" "$RAY_IMG" bash /tmp/hosts.sh 2>&1)"
  info "default allowed hosts: $(tr '\n' ' ' <<<"$r")"
  check "default: Host '<container name>:5000' is refused (403)" grep -qx 'by-name 403' <<<"$r"
  check "default: Host '<private IP>:5000' is accepted (200)" grep -qx 'by-ip 200' <<<"$r"
  check "default: Host '<public IP>:5000' is refused (403)" grep -qx 'public-host 403' <<<"$r"
  check "cslr's command line puts the password in argv" bash -c 'docker exec "$1" sh -c "cat /proc/[0-9]*/cmdline" | tr "\0" " " | grep -qF "$2"' _ "${P}ml-mlflow-cslr" "$PW"
  info "mlflow server memory with the defaults (4 workers, job execution on): $(mem ml-mlflow-cslr)"
  docker rm -f "${P}ml-mlflow-cslr" >/dev/null

  local t0; t0="$(date +%s%3N)"
  docker kill -s TERM "${P}ml-pg" >/dev/null
  check "PostgreSQL: SIGTERM with MLflow connected is a fast shutdown (exit 0)" bash -c \
    'for i in $(seq 100); do [ "$(docker inspect -f "{{.State.Running}} {{.State.ExitCode}}" "$1")" = "false 0" ] && exit 0; sleep 0.1; done; exit 1' _ "${P}ml-pg"
  check "... logged as 'received fast shutdown request'" grep -q 'received fast shutdown request' <<<"$(docker logs "${P}ml-pg" 2>&1)"
  info "stopped $(( $(date -d "$(docker inspect -f '{{.State.FinishedAt}}' "${P}ml-pg")" +%s%3N) - t0 )) ms after SIGTERM"
  docker rm -f "${P}ml-pg" >/dev/null
  pg
  check "recreated on the same volume: ready" wait_for "$WAIT" x ml-pg pg_isready -U mlflow -d mlflow
  check "... and not initialised again" grep -q 'not initialising' <<<"$(docker logs "${P}ml-pg" 2>&1)"
  r="$(once ml-read --network "${P}ml" -v "$tmp/read.sh:/tmp/read.sh:ro" "$RAY_IMG" bash /tmp/read.sh 2>&1)"
  check "the MLflow run survived (runs/search through the same server)" grep -qx 'search alpha 0.5 loss 0.25' <<<"$r"
}

# ---------------------------------------------------------------- marimo
verify_marimo() {
  section "marimo $MARIMO_V"
  local T="mt-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  net mar
  # The token on stdin (--token-password-file -), so it is not in argv.
  run mar --network "${P}mar" --network-alias marimo -e MARIMO_TOKEN="$T" --entrypoint sh "$MARIMO_IMG" \
    -c 'printf "%s" "$MARIMO_TOKEN" | exec marimo edit --headless --host 0.0.0.0 --port 2718 --token --token-password-file - /app'
  check "GET /health within ${WAIT}s" wait_for "$WAIT" x mar curl -sf http://127.0.0.1:2718/health
  cat >"$tmp/mar.sh" <<EOF
T='$T'; U=http://marimo:2718
c() { local name="\$1"; shift; echo "\$name \$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "\$@")"; }
c health \$U/health
c healthz \$U/healthz
c status-none \$U/api/status
c status-bearer -H "Authorization: Bearer \$T" \$U/api/status
c root-none \$U/
c root-query "\$U/?access_token=\$T"
c root-query-wrong "\$U/?access_token=wrong"
c root-bearer -H "Authorization: Bearer \$T" \$U/
c root-basic -u "anyone:\$T" \$U/
c root-cookie -c /tmp/jar -b /tmp/jar -L "\$U/?access_token=\$T"
c root-cookie-after -b /tmp/jar \$U/
EOF
  chmod 644 "$tmp/mar.sh"
  local r; r="$(once mar-curl --network "${P}mar" -v "$tmp/mar.sh:/tmp/mar.sh:ro" "$RAY_IMG" bash /tmp/mar.sh 2>&1)"
  info "$(tr '\n' ' ' <<<"$r")"
  check "/health and /healthz need no token: 200" grep -qz 'health 200.healthz 200' <<<"$r"
  check "without the token: / redirects to /auth/login (303), /api/status 401" grep -qz 'status-none 401.*root-none 303' <<<"$r"
  check "Authorization: Bearer <token>: 200" grep -qx 'root-bearer 200' <<<"$r"
  check "Basic auth with the token as password: 200" grep -qx 'root-basic 200' <<<"$r"
  check "?access_token=<token> sets the session cookie; the cookie alone then gets 200" grep -qx 'root-cookie-after 200' <<<"$r"
  check "/api/status with Bearer: 200" grep -qx 'status-bearer 200' <<<"$r"
  check "the token is not in any process's argv" bash -c '! docker exec "$1" sh -c "cat /proc/[0-9]*/cmdline" | tr "\0" " " | grep -qF "$2"' _ "${P}mar" "$T"
  info "the startup banner prints the URL with ?access_token=<token> to the log: $(docker logs "${P}mar" 2>&1 | grep -c -F "$T") line(s)"
  info "marimo memory: $(mem mar)"
}

sections=("$@")
[ "${#sections[@]}" -gt 0 ] || sections=(ray hostnet badip auth mlflow marimo)
for s in "${sections[@]}"; do
  case "$s" in
    ray|hostnet|badip|auth|mlflow|marimo) "verify_$s" ;;
    *) echo "unknown section: $s (ray hostnet badip auth mlflow marimo)" >&2; exit 2 ;;
  esac
done
echo
echo "images: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
