#!/usr/bin/env bash
# Release build of Rubrica: the `rubrica` binary and the front end in target/site, with the
# bundles precompressed (.br from cargo-leptos, .gz redone at gzip's best level — cargo-leptos'
# own .gz is about 15% larger) so the server sends them without compressing on every request.
set -euo pipefail
cd "$(dirname "$0")"
source ./setup.sh
echo "==> building Rubrica (release)"
cargo leptos build --release --precompress
for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  gzip -9 -k -f -n "$f"
done
