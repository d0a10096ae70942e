#!/usr/bin/env bash
# Measures what a browser downloads for /contacts (HTML + JS + wasm + CSS), gzip-compressed as the
# server sends it, from a release build (run ./build.sh first). Prints a table. The lazily loaded
# chunks of other pages (contact page, sign-in) are not part of it; the loader of chunks is.
set -euo pipefail
cd "$(dirname "$0")"
[ -x target/release/rubrica ] && [ -f target/site/pkg/rubrica.wasm ] || {
  echo "build first: ./build.sh" >&2
  exit 1
}
dir="$(mktemp -d)"
port="${SIZE_PORT:-3124}"
base="http://127.0.0.1:$port"
# A full first page of the list, as people see it (the HTML carries its rows and their data).
DATABASE_URL="sqlite://$dir/size.db" ./target/release/rubrica seed --contacts 200 >/dev/null 2>&1
DATABASE_URL="sqlite://$dir/size.db" LEPTOS_SITE_ROOT=target/site \
  ./target/release/rubrica serve --addr "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

# Create the first admin through the setup form's own server function, which signs us in.
setup="$(curl -fsS "$base/setup" | grep -o 'action="/api/setup[^"]*"' | head -1 | cut -d'"' -f2)"
curl -fsS -c "$dir/cookies" -H 'Accept: application/json' \
  --data-urlencode 'name=Size Check' --data-urlencode 'email=size@example.it' \
  --data-urlencode 'password=size-check-password' "$base$setup" >/dev/null

grep -q 'action="/api/logout' <<<"$(curl -fsS -b "$dir/cookies" "$base/contacts")" || {
  echo "could not sign in to measure /contacts" >&2
  exit 1
}

on_the_wire() { # bytes sent for $1 to a browser that accepts encoding $2
  curl -fsS -b "$dir/cookies" -H "Accept-Encoding: $2" -o /dev/null -w '%{size_download}' "$base$1"
}
gz_total=0
br_total=0
printf '%-42s %12s %12s\n' "resource" "gzip bytes" "brotli bytes"
loader="$(cd target/site && ls pkg/__wasm_split.*.js 2>/dev/null | head -1 || true)"
for path in /contacts /pkg/rubrica.js ${loader:+"/$loader"} /pkg/rubrica.wasm /pkg/rubrica.css; do
  gz="$(on_the_wire "$path" gzip)"
  br="$(on_the_wire "$path" br)"
  gz_total=$((gz_total + gz))
  br_total=$((br_total + br))
  printf '%-42s %12d %12d\n' "$path" "$gz" "$br"
done
printf '%-42s %12d %12d\n' "total" "$gz_total" "$br_total"
printf 'gzip total: %d KiB (budget 250 KiB); brotli total: %d KiB\n' $((gz_total / 1024)) $((br_total / 1024))
