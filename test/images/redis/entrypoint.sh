#!/bin/sh
# Same rule as the official redis image: options alone mean "options for redis-server".
set -e
case "${1:-}" in
  -*|*.conf) set -- redis-server "$@" ;;
esac
exec "$@"
