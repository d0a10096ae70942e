#!/usr/bin/env bash
# The browser tests alone, against the release build ./build.sh made: a fresh SQLite database, a
# real SMTP server (aiosmtpd) whose Maildir the tests read, then Playwright in Debian's Chromium.
# ./test.sh runs it last; run it by itself after ./build.sh while working on the UI. Arguments go
# to Playwright (e.g. ./e2e.sh tests/09-composer.spec.ts).
set -euo pipefail
cd "$(dirname "$0")"
RUBRICA_BROWSER=1 source ./setup.sh

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
if ! (cd end2end && BASE_URL="http://127.0.0.1:$port" MAILDIR="$e2e_dir/mail" npx playwright test "$@"); then
  echo "browser tests failed; the server's log ends with:" >&2
  tail -n 40 "$e2e_dir/server.log" >&2
  exit 1
fi
echo "==> all tests passed"
