#!/usr/bin/env bash
# Installs whatever Rubrica's build and tests need and this machine lacks, from crates.io, npm and
# Debian only (nothing here downloads from GitHub). Safe to run again: each step checks first.
#
#   source ./setup.sh                       # build tools, and end2end/node_modules/.bin on PATH
#   RUBRICA_BROWSER=1 source ./setup.sh      # + Debian's Chromium and aiosmtpd for the browser tests
#   RUBRICA_POSTGRES=1 source ./setup.sh     # + a running PostgreSQL on 127.0.0.1:5432
#   RUBRICA_SCALE=1 source ./setup.sh        # + Debian's nginx and wrk (scale.sh, bench.sh)
#
# Sourced by run.sh and test.sh; it can also be run on its own.

_rubrica_setup() {
  set -euo pipefail
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  cd "$root"
  local say="==> setup:"
  local sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi

  command -v cargo >/dev/null || { echo "$say cargo is missing: install Rust with rustup first" >&2; return 1; }
  export PATH="$HOME/.cargo/bin:$PATH"

  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "$say adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi

  # build.sh rebuilds the standard library for the browser bundle (see there).
  if ! rustup component list --installed | grep -qx rust-src; then
    echo "$say adding the rust-src component"
    rustup component add rust-src
  fi

  # 0.3.10 is the last cargo-leptos that builds with Rust 1.95; no_downloads makes it use the tools
  # installed below instead of fetching its own from GitHub.
  if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos 0.3.10" ]; then
    echo "$say building cargo-leptos 0.3.10 (about 15-20 minutes on 2 cores, once per machine)"
    cargo install cargo-leptos --locked --version 0.3.10 --features no_downloads
  fi

  # The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
  local wbg
  wbg="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
  if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wbg" ]; then
    echo "$say installing wasm-bindgen-cli $wbg"
    # Not --locked: its lock file pins a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$wbg"
  fi

  # Playwright and wasm-opt (npm binaryen; Debian's older wasm-opt breaks hydration).
  if [ ! -f end2end/node_modules/.stamp ] || ! cmp -s end2end/package-lock.json end2end/node_modules/.stamp; then
    echo "$say installing end2end's npm packages (Playwright, binaryen)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    cp end2end/package-lock.json end2end/node_modules/.stamp
  fi
  export PATH="$root/end2end/node_modules/.bin:$PATH"

  # zopfli writes the bundles' .gz files: still plain gzip, about 5% smaller than gzip -9; brotli
  # redoes the .br of the files build.sh minifies after cargo-leptos compressed them.
  if ! command -v zopfli >/dev/null || ! command -v brotli >/dev/null; then
    echo "$say installing zopfli and brotli"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq zopfli brotli
  fi

  if [ "${RUBRICA_BROWSER:-}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
    echo "$say installing Debian's Chromium"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
  fi

  # A real SMTP server for the browser tests to send to (aiosmtpd, keeping mail in a Maildir).
  if [ "${RUBRICA_BROWSER:-}" = 1 ] && ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "$say installing Debian's aiosmtpd"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-aiosmtpd
  fi

  # A real load balancer in front of several instances (./scale.sh), and a real HTTP load tool for
  # the benchmarks (./bench.sh): both from Debian.
  if [ "${RUBRICA_SCALE:-}" = 1 ] && ! { [ -x /usr/sbin/nginx ] && command -v wrk >/dev/null; }; then
    echo "$say installing Debian's nginx and wrk"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx wrk
  fi

  if [ "${RUBRICA_POSTGRES:-}" = 1 ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
      echo "$say starting PostgreSQL"
      $sudo pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    else
      echo "$say installing PostgreSQL"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql
      local version
      version="$(ls /etc/postgresql | head -1)"
      # Tests connect as postgres over TCP without a password, as on the development machines.
      echo "host all all 127.0.0.1/32 trust" | $sudo tee "/etc/postgresql/$version/main/pg_hba.conf.rubrica" >/dev/null
      $sudo sh -c "cat /etc/postgresql/$version/main/pg_hba.conf >> /etc/postgresql/$version/main/pg_hba.conf.rubrica && mv /etc/postgresql/$version/main/pg_hba.conf.rubrica /etc/postgresql/$version/main/pg_hba.conf"
      $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    fi
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -h 127.0.0.1 -p 5432 || { echo "$say PostgreSQL does not answer on 127.0.0.1:5432" >&2; return 1; }
  fi
}

# The installing runs in a subshell of its own so that `set -e` really stops it at the first failure
# (bash ignores -e inside a function called from `||` or `if`) and the caller's shell options and
# directory stay untouched; only PATH is handed back.
( _rubrica_setup )
_rubrica_rc=$?
if [ "$_rubrica_rc" = 0 ]; then
  export PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
fi
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  exit "$_rubrica_rc"
else
  unset -f _rubrica_setup
  return "$_rubrica_rc"
fi
