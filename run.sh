#!/usr/bin/env bash
# Builds Rubrica and serves it on http://127.0.0.1:3000 with SQLite (./data/rubrica.db).
# The first run (or --demo) adds demo data: the admin demo@rubrica.local / rubrica-demo and
# 500 Italian contacts. DATABASE_URL, RUBRICA_ADDR and the other variables in the README apply.
set -euo pipefail
cd "$(dirname "$0")"
./build.sh

demo=0
[ "${1:-}" = "--demo" ] && demo=1
if [ -z "${DATABASE_URL:-}" ] && [ ! -f data/rubrica.db ]; then demo=1; fi
if [ "$demo" = 1 ]; then
  echo "==> adding demo data"
  ./target/release/rubrica seed --contacts 500 --demo-admin
fi

addr="${RUBRICA_ADDR:-127.0.0.1:3000}"
cat <<MSG

  ┌──────────────────────────────────────────────────────────────────────┐
    Rubrica is starting at http://$addr
    Sign in as demo@rubrica.local with the password rubrica-demo
    (a workspace without demo data asks you to create its first admin).
    Stop it with Ctrl-C.
  └──────────────────────────────────────────────────────────────────────┘

MSG
export LEPTOS_SITE_ROOT=target/site
exec ./target/release/rubrica serve
