#!/bin/sh
# The store tests run on SQLite and on Debian's PostgreSQL (test/support/postgres-server.ts starts a
# throwaway server; nothing is downloaded). When PostgreSQL is missing: install it if we are root
# with apt-get (CI, containers), else print the command to run; the Postgres cases are then
# reported as not run. Silent when PostgreSQL is there.
set -eu
for bin in /usr/lib/postgresql/*/bin/initdb; do
  [ -x "$bin" ] && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: installing Debian's postgresql for the store tests" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "ensure-postgres: PostgreSQL is not installed, so the Postgres store tests will not run. Install it with:" >&2
echo "  sudo apt-get update && sudo apt-get install -y postgresql" >&2
