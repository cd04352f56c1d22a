#!/usr/bin/env bash
# cslr's Ray entrypoint (_build/ray-ep.sh, written by `cslr generate`; do not edit). It starts
# the node agent, `cslr node`, from the cslr binary mounted into this container: the agent asks
# the election service whether this node is head, runs `ray start` accordingly, keeps the head's
# lease and follows the head the service names.
#
# The cluster token arrives as a compose secret, the file /run/secrets/cslr_cluster_token (never
# in the container's environment, so neither `docker inspect` nor /proc/*/environ shows it). The
# container starts as root only for this: the file is made root-only, the agent (root) reads it,
# and Ray runs as the image's user (`ray`, else the owner of $HOME) through setpriv, so Ray and
# its jobs cannot read the token. An image without setpriv, or whose user is root, runs Ray as
# root: the agent says so at start. (An older compose.yaml that still sets CSLR_CLUSTER_TOKEN in
# the environment: the token goes to the agent on file descriptor 3 and leaves the environment.)
#
# Environment (compose sets these per Ray service):
#   CSLR_NODE_NAME            this node's name in the election            (default: the hostname)
#   CSLR_HOST_NAME            the workstation it runs on, for the roster  (optional)
#   CSLR_NODE_ADDRESS         address other nodes reach this node by, or auto (the source address
#                             of this host's route to the election service)   (default: the node name)
#   CSLR_NODE_IP_ADDRESS      → ray start --node-ip-address; an address or auto (optional: Ray
#                             detects the container's own address in bridge networking)
#   CSLR_HEAD_PORT, CSLR_DASHBOARD_PORT, CSLR_CLIENT_PORT
#                             Ray's GCS, dashboard and client ports when head (6379, 8265, 10001)
#   CSLR_DASHBOARD_HOST       where the dashboard (and its Jobs API) listens   (default: 0.0.0.0)
#   CSLR_NUM_CPUS, CSLR_NUM_GPUS, CSLR_OBJECT_STORE_MEMORY   → the matching ray start flags
#   CSLR_NODE_MANAGER_PORT, CSLR_OBJECT_MANAGER_PORT, CSLR_RUNTIME_ENV_AGENT_PORT,
#   CSLR_DASHBOARD_AGENT_GRPC_PORT, CSLR_DASHBOARD_AGENT_LISTEN_PORT, CSLR_METRICS_EXPORT_PORT,
#   CSLR_MIN_WORKER_PORT, CSLR_MAX_WORKER_PORT           → the matching ray start flags (pinned ports)
#   CSLR_HEALTH_URL           the election service, http:// or https://
#   CSLR_HEALTH_PIN           SHA-256 of its certificate (64 hex digits), required with https://
#   CSLR_HEALTH_TIMEOUT       seconds each call to it may take                 (default: 5)
#   CSLR_CLUSTER_TOKEN        the cluster's token (older compose files only; see above)
#   HEAD_ADDRESS              a fixed head host:port: no election, join it
#   CSLR_GCS_REDIS, CSLR_GCS_NAMESPACE
#                             GCS fault tolerance (services.ray.gcs_store): a head keeps the cluster's
#                             state in this Redis (host:port) under this namespace; the password of its
#                             `ray` user arrives as the secret /run/secrets/cslr_ray_redis_password
#   CSLR_GCS_PROXY_PORT       with them: the port this node's agent forwards to the current head's GCS
#                             on; the raylet's GCS address, so a new head is followed without a restart
#   RAY_AUTH_MODE, RAY_AUTH_TOKEN
#                             Ray's own token authentication (services.ray.auth: token), passed to Ray
#   DASHBOARD_METRIC_PORT, AUTOSCALER_METRIC_PORT
#                             a head's metrics ports (pinned on the host network), read by Ray itself
#   CSLR_AGENT                the cslr binary                              (default: /opt/cslr/bin/cslr)
#
# Exit codes: 0 stopped (SIGTERM); 2 bad settings, or the service refused this node's key;
# 3 fenced or self-fenced (the restart policy brings the node back to claim again); else Ray's own.
set -eu
agent=${CSLR_AGENT:-/opt/cslr/bin/cslr}
secret=/run/secrets/cslr_cluster_token
gcs_password=/run/secrets/cslr_ray_redis_password
if [ -f "$gcs_password" ] && [ "$(id -u)" = 0 ]; then
  chown 0:0 "$gcs_password" 2>/dev/null || true
  chmod 0400 "$gcs_password" 2>/dev/null || true
  export CSLR_GCS_PASSWORD_FILE=$gcs_password
fi
if [ -f "$secret" ] && [ "$(id -u)" = 0 ]; then
  chown 0:0 "$secret" 2>/dev/null || true
  chmod 0400 "$secret" 2>/dev/null || true
  export CSLR_TOKEN_FILE=$secret
  if command -v setpriv >/dev/null 2>&1; then
    if id ray >/dev/null 2>&1; then
      export CSLR_RAY_USER="$(id -u ray):$(id -g ray)"
      HOME=$(getent passwd ray | cut -d: -f6)
      export HOME
    else
      export CSLR_RAY_USER="$(stat -c %u:%g "${HOME:-/}")"
    fi
  fi
  unset CSLR_CLUSTER_TOKEN
  exec "$agent" node
fi
if [ -n "${CSLR_CLUSTER_TOKEN:-}" ]; then
  token=$CSLR_CLUSTER_TOKEN
  unset CSLR_CLUSTER_TOKEN
  export CSLR_TOKEN_FD=3
  exec "$agent" node 3<<<"$token"
fi
exec "$agent" node
