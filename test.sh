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

./e2e.sh "$@"

# Three instances behind nginx on one PostgreSQL (about two minutes).
./scale.sh
