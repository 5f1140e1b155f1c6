#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 cluster: made in a temporary folder, reached
# over a Unix socket only, removed afterwards. DATABASE_URL points the command at it, and
# BLAUWEKNOP_E2E_DATABASE_URL at a second database for the browser tests' own server.
set -euo pipefail
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: PostgreSQL server binaries are missing; installing them (apt)." >&2
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
dir=$(mktemp -d /tmp/bk-pg.XXXXXX)
# PostgreSQL refuses to run as root; CI runs as root, so the cluster belongs to 'postgres'.
as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  as=(runuser -u postgres --)
fi
cleanup() { "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"${as[@]}" "$bin/initdb" -D "$dir/data" -U blauweknop --auth=trust --no-sync -E UTF8 >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c full_page_writes=off" start >/dev/null
export DATABASE_URL="postgres://blauweknop@/blauweknop?host=$dir"
"${as[@]}" "$bin/createdb" -h "$dir" -U blauweknop blauweknop
# A second database for a server the tests start themselves (the browser tests' demo server).
"${as[@]}" "$bin/createdb" -h "$dir" -U blauweknop blauweknop_e2e
export BLAUWEKNOP_E2E_DATABASE_URL="postgres://blauweknop@/blauweknop_e2e?host=$dir"
"$@"
