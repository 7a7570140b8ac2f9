#!/usr/bin/env bash
# Installs what building (and, with --for-tests, testing) Herald needs. Idempotent: a second run
# only checks. Everything comes from the registries (apt, crates.io, npm).
#
# The WebAssembly half needs a wasm32 std. Where `rustup target add wasm32-unknown-unknown` works
# (a normal laptop) that is used. Where it cannot download one (these build machines), Debian's
# rustc-web ships std sources and scripts/build.sh builds std for wasm with -Zbuild-std.
set -euo pipefail
cd "$(dirname "$0")/.."

FOR_TESTS=0
[[ "${1:-}" == "--for-tests" ]] && FOR_TESTS=1

SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "setup: apt-get install ${missing[*]}"
  if [[ $APT_UPDATED -eq 0 ]]; then $SUDO apt-get update -q >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. The wasm32 standard library.
if rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' \
   || rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
  echo "setup: wasm32 std from rustup"
else
  # Never Debian's binaryen: its wasm-opt silently breaks hydration (see README, Toolchain).
  apt_install rustc-web rust-web-src lld-22
  echo "setup: wasm32 std built from Debian's rust-web-src"
fi

# Brotli for the precompressed front end (scripts/build.sh; gzip alone works without it).
command -v brotli >/dev/null || apt_install brotli || echo "setup: brotli not installed; the front end is precompressed with gzip only"

# 2. wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]]; then
  echo "setup: cargo install wasm-bindgen-cli $WBG_VERSION (about 2 minutes)"
  # Not --locked: its lock file pins a crate version the registry may lack.
  cargo install -q wasm-bindgen-cli --version "$WBG_VERSION"
fi

# 3. For the tests: Debian's Chromium (never `npx playwright install`) and the end2end packages.
if [[ $FOR_TESTS -eq 1 ]]; then
  apt_install chromium
  # promtool (Debian's prometheus package; its daemon is not started) checks /metrics in the tests.
  command -v promtool >/dev/null || apt_install prometheus
  # … and Prometheus' own Python client reads its values.
  python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install -q prometheus-client
  if [[ ! -d end2end/node_modules/@playwright/test ]] || [[ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
    echo "setup: npm ci in end2end/"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "setup: done"
