#!/usr/bin/env bash
# Benchmarks, printed as tables and written as JSON to end2end/bench/results/. Needs a release
# build (./build.sh). Usage: ./bench.sh [contacts]   (default 1000000)
#
# Contact page (issue 3): server time for the contact page's data (open_contact) and, in
# Chromium, the time from pressing Next to the next heading painted, prefetched and not.
# The seeded database is kept in data/bench-N.db: seeding a million contacts takes minutes once.
set -euo pipefail
cd "$(dirname "$0")"
RUBRICA_BROWSER=1 source ./setup.sh
[ -x target/release/rubrica ] && [ -f target/site/pkg/rubrica.wasm ] || {
  echo "build first: ./build.sh" >&2
  exit 1
}
contacts="${1:-1000000}"
db="data/bench-$contacts.db"
mkdir -p data
if [ ! -f "$db.done" ]; then
  echo "==> seeding $contacts contacts into $db (once)"
  rm -f "$db" "$db-wal" "$db-shm"
  DATABASE_URL="sqlite://$db" ./target/release/rubrica seed --contacts "$contacts" --demo-admin
  touch "$db.done"
fi

port="${BENCH_PORT:-3126}"
log="$(mktemp)"
DATABASE_URL="sqlite://$db" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
  ./target/release/rubrica serve --addr "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

echo "==> contact page ($contacts contacts)"
(cd end2end && BASE_URL="http://127.0.0.1:$port" BENCH_CONTACTS="$contacts" \
  npx playwright test --config bench.config.ts --reporter line)
