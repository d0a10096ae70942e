#!/usr/bin/env bash
# Benchmarks, printed as tables and written as JSON to end2end/bench/results/. Needs a release
# build (./build.sh).
#
#   ./bench.sh [--sizes 10000,100000,1000000] [--seconds 10] [--engines sqlite,postgres]
#       The suite (end2end/bench/suite.py): for SQLite and PostgreSQL, each size seeded once and
#       kept (data/), the server under wrk for the contact page's data, the list and search at 1,
#       16 and 64 connections, its memory idle and under load; the scheduled-send numbers of the
#       last `./bench.sh dispatch`; the three pages' transfer size and Lighthouse scores. About
#       25 minutes (the first run also seeds the databases, a few minutes). `--print` reprints the tables;
#       `--only-pages` measures the pages again (after a front-end change), keeping the rest.
#   ./bench.sh dispatch [--quick]
#       Scheduled sends (issue 5), for one instance, on SQLite and PostgreSQL: 10,000 emails due
#       at the same instant (emails per second into a local SMTP server) and 100,000 scheduled
#       over an hour (lateness; --quick: 10,000 over six minutes). A little over two hours.
#   ./bench.sh contact-page [contacts]
#       The contact page in Chromium (issue 3): server time for its data, and Next to the next
#       heading painted, prefetched and not (default 1,000,000 contacts).
set -euo pipefail
cd "$(dirname "$0")"
RUBRICA_BROWSER=1 RUBRICA_POSTGRES=1 RUBRICA_SCALE=1 source ./setup.sh
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if [ "${1:-}" = dispatch ]; then
  quick="${2:-}"
  echo "==> building the dispatcher benchmark (release)"
  cargo build --release -p server --example dispatch_bench
  results=end2end/bench/results
  mkdir -p "$results"
  spread=(100000 3600)
  [ "$quick" = --quick ] && spread=(10000 360)
  out="$results/dispatch.jsonl"
  : >"$out"
  for engine in sqlite postgres; do
    flag=""
    [ "$engine" = postgres ] && flag=--postgres
    echo "==> $engine: 10,000 emails due at once"
    ./target/release/examples/dispatch_bench $flag --messages 10000 --over 0 | tee -a "$out"
    echo "==> $engine: ${spread[0]} emails over ${spread[1]} s"
    ./target/release/examples/dispatch_bench $flag --messages "${spread[0]}" --over "${spread[1]}" | tee -a "$out"
  done
  python3 end2end/bench/suite.py --print
  exit 0
fi
[ -x target/release/rubrica ] && [ -f target/site/pkg/rubrica.wasm ] || {
  echo "build first: ./build.sh" >&2
  exit 1
}
if [ "${1:-}" != contact-page ]; then
  exec python3 end2end/bench/suite.py "$@"
fi
contacts="${2:-1000000}"
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
