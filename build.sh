#!/usr/bin/env bash
# Release build of Rubrica: the `rubrica` binary and the front end in target/site, with the
# bundles precompressed (.br from cargo-leptos, .gz redone by zopfli — cargo-leptos' own .gz is
# about 20% larger) so the server sends them without compressing on every request.
set -euo pipefail
cd "$(dirname "$0")"
source ./setup.sh
echo "==> building Rubrica (release)"
# The wasm bundle is built with its own standard library, whose panics abort at once and which
# formats no `Debug` output: no panic messages, file locations or the formatting code behind them
# are shipped (8% less gzip). A panic in the browser stops the app either way (panic = "abort");
# debug builds keep the messages. Rebuilding std is a nightly cargo feature: RUSTC_BOOTSTRAP lets
# this stable toolchain use it, for the browser bundle only; the server is built apart, as usual.
(
  export RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"
  cargo leptos build --release --split --precompress --frontend-only \
    --lib-cargo-args=-Zbuild-std=std,panic_abort
)
cargo leptos build --release --split --server-only
# cargo-leptos minifies its own JS but not wasm splitting's loader, which every page fetches:
# terser takes it from 1.5 to 0.9 KiB gzip. Its .br is then redone (cargo-leptos wrote it from the
# unminified file); the .gz files of everything are redone below.
for f in target/site/pkg/__wasm_split.*.js; do
  terser "$f" --module --compress --mangle --output "$f"
  brotli --force --best "$f"
done
for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css target/site/screens.css; do
  zopfli "$f"
done
