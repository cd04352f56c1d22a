#!/usr/bin/env bash
# Entrypoint of cslr-test/postgres: the official postgres image's environment contract on
# Debian's PostgreSQL (see Dockerfile). Written for the tests; the official script was the
# model for the behaviour, not copied.
set -Eeuo pipefail

say() { printf 'postgres-entrypoint: %s\n' "$*" >&2; }

# Options alone are options for postgres (`command: [-c, max_connections=50]`).
[ "$#" -gt 0 ] || set -- postgres
if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi

if [ "$1" != postgres ]; then exec "$@"; fi

# As root: own the data and socket directories, then run this script again as postgres.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

init_cluster() {
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$AUTH_METHOD" != trust ]; then
    say "error: database is uninitialized and POSTGRES_PASSWORD is empty; set it (or POSTGRES_HOST_AUTH_METHOD=trust)"
    exit 1
  fi
  say "initialising a new cluster in $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
  local pwfile
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a word list, as in the official image
  initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
    --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  # initdb trusts local socket and loopback connections; every other address needs the password.
  printf '\nhost all all all %s\n' "$AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # A private server for the database and the init scripts: no TCP, and its socket in a
  # private directory, so `pg_isready` (the healthcheck) cannot see it and report the
  # database ready before the real server runs.
  local sockdir
  sockdir="$(mktemp -d)"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$sockdir -p 5432" -w -t 60 start >/dev/null
  local psql=(psql -v ON_ERROR_STOP=1 -X -q -h "$sockdir" --username "$POSTGRES_USER" --no-password)
  export PGHOST="$sockdir"  # for init scripts (*.sh) that call psql themselves
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) say "running $f"; . "$f" ;;
      *.sql) say "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *) [ -e "$f" ] && say "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
  unset PGHOST
  rmdir "$sockdir" 2>/dev/null || true
  say "initialisation done"
}

if [ -s "$PGDATA/PG_VERSION" ]; then
  say "existing cluster in $PGDATA (PostgreSQL $(cat "$PGDATA/PG_VERSION")); not initialising"
else
  init_cluster
fi

# postgres takes SIGTERM as a "smart" shutdown that waits for every client to leave (MLflow
# keeps a pool open, so `docker stop` would end in SIGKILL). Run it as a child and hand it
# SIGINT, its fast clean shutdown, on SIGTERM or SIGINT; SIGQUIT stays immediate.
"$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' TERM INT
trap 'kill -QUIT "$pid" 2>/dev/null || true' QUIT
status=0
wait "$pid" || status=$?
while kill -0 "$pid" 2>/dev/null; do status=0; wait "$pid" || status=$?; done
exit "$status"
