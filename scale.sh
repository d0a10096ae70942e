#!/usr/bin/env bash
# Several instances, one PostgreSQL: starts the release build three times on its own fresh
# database, behind Debian's nginx (round robin, no sticky sessions), with a real SMTP server
# (aiosmtpd), then runs end2end/scale/ in Chromium against nginx. It checks that sign-in, the
# contact page, previous/next and editing work while consecutive requests land on different
# instances, and that scheduled emails are each sent exactly once while instances are stopped
# and started during the sending. Needs ./build.sh first. Usage: ./scale.sh
set -euo pipefail
cd "$(dirname "$0")"
RUBRICA_BROWSER=1 RUBRICA_POSTGRES=1 RUBRICA_SCALE=1 source ./setup.sh
[ -x target/release/rubrica ] && [ -f target/site/pkg/rubrica.wasm ] || {
  echo "build first: ./build.sh" >&2
  exit 1
}
root="$(pwd)"
admin_url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db="rubrica_scale_$$"
database_url="${admin_url%/*}/$db"
front="${SCALE_PORT:-3210}"
dir="$(mktemp -d)"
export SCALE_DIR="$dir"

cleanup() {
  for pidfile in "$dir"/*.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

cat >"$dir/env" <<ENV
export DATABASE_URL='$database_url'
export LEPTOS_SITE_ROOT='$root/target/site'
export SMTP_URL='smtp://127.0.0.1:$((front + 100))'
export MAIL_FROM='Rubrica <crm@example.it>'
export PUBLIC_URL='http://127.0.0.1:$front'
export RUST_LOG=info
export SCALE_FIRST_PORT=$front
export SCALE_ROOT='$root'
ENV
# shellcheck source=/dev/null
source "$dir/env"

echo "==> a fresh PostgreSQL database ($db), migrated once, with 300 demo contacts"
psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
./target/release/rubrica migrate
./target/release/rubrica seed --contacts 300 >/dev/null

echo "==> an SMTP server on :$((front + 100)) and three instances on :$((front + 1))-$((front + 3))"
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$((front + 100))" -c aiosmtpd.handlers.Mailbox "$dir/mail" \
  >"$dir/smtp.log" 2>&1 &
echo $! >"$dir/smtp.pid"
for n in 1 2 3; do
  end2end/scale/instance.sh start "$n"
done

echo "==> nginx on :$front, round robin over the three"
mkdir -p "$dir/nginx"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
sed -e "s|@USER@|$user_line|" -e "s|@DIR@|$dir/nginx|g" -e "s|@FRONT@|$front|" \
  -e "s|@I1@|$((front + 1))|" -e "s|@I2@|$((front + 2))|" -e "s|@I3@|$((front + 3))|" \
  end2end/scale/nginx.conf >"$dir/nginx/nginx.conf"
/usr/sbin/nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g "daemon off;" &
echo $! >"$dir/nginx.pid"
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$front/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

echo "==> the scale-out tests (Playwright, Chromium) through nginx"
if ! (cd end2end && BASE_URL="http://127.0.0.1:$front" MAILDIR="$dir/mail" \
  SCALE_INSTANCE="$root/end2end/scale/instance.sh" SCALE_DATABASE_URL="$database_url" \
  npx playwright test --config scale.config.ts); then
  for n in 1 2 3; do
    echo "--- instance $n's log ends with:" >&2
    tail -n 20 "$dir/instance-$n.log" >&2
  done
  exit 1
fi
echo "==> three instances behind nginx: all passed"
