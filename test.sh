#!/usr/bin/env bash
# Runs every test of Rubrica, installing what is missing first: formatting and lints, the Rust
# tests (each database test on a fresh SQLite and a fresh PostgreSQL database), then a release
# build driven by Playwright in Debian's Chromium. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")"
RUBRICA_BROWSER=1 RUBRICA_POSTGRES=1 source ./setup.sh
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The workspace build compiles `app` with both features at once; the browser's build alone
# (hydrate) can still leave server-only code unused, so it is linted on its own too.
echo "==> cargo clippy (the browser's build)"
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings
echo "==> Rust tests (SQLite and PostgreSQL)"
# frontend is left out so that `app` is built for the tests exactly as the server uses it (ssr only).
cargo test --workspace --exclude frontend

./build.sh

echo "==> browser tests (Playwright, Chromium) against the release build"
e2e_dir="$(mktemp -d)"
port="${E2E_PORT:-3123}"
smtp_port="${E2E_SMTP_PORT:-2525}"
# The emails Rubrica sends land in a Maildir (created by aiosmtpd) the tests read.
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$e2e_dir/mail" \
  >"$e2e_dir/smtp.log" 2>&1 &
smtp_pid=$!
DATABASE_URL="sqlite://$e2e_dir/e2e.db" LEPTOS_SITE_ROOT=target/site \
  SMTP_URL="smtp://127.0.0.1:$smtp_port" MAIL_FROM="Rubrica <crm@example.it>" \
  ./target/release/rubrica serve --addr "127.0.0.1:$port" >"$e2e_dir/server.log" 2>&1 &
server_pid=$!
stop_server() {
  kill "$server_pid" "$smtp_pid" 2>/dev/null || true
  wait "$server_pid" "$smtp_pid" 2>/dev/null || true
}
trap stop_server EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 1
done
# The answer must come from this server, not from another program already on the port.
if ! kill -0 "$server_pid" 2>/dev/null || ! curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null; then
  echo "the server did not start; its log:" >&2
  cat "$e2e_dir/server.log" >&2
  exit 1
fi
if ! (cd end2end && BASE_URL="http://127.0.0.1:$port" MAILDIR="$e2e_dir/mail" npx playwright test); then
  echo "browser tests failed; the server's log ends with:" >&2
  tail -n 40 "$e2e_dir/server.log" >&2
  exit 1
fi
echo "==> all tests passed"
