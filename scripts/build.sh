#!/usr/bin/env bash
# Builds Herald as cargo-leptos would, without needing cargo-leptos (15–20 minutes to install):
#   1. the WebAssembly half (`frontend`: app with `hydrate`),   2. wasm-bindgen → target/site/pkg,
#   3. CSS and public/ assets,                         4. the server half (release).
# Each half is built on its own (-p): a workspace-wide build would unify `ssr` and `hydrate`.
set -euo pipefail
cd "$(dirname "$0")/.."
export LEPTOS_OUTPUT_NAME=herald   # read at compile time too (also set in .cargo/config.toml)
SITE=target/site
PKG=$SITE/pkg
WASM_PROFILE=wasm-release

step() { echo "build: $1 (${SECONDS}s so far)"; }
step "wasm half"
if rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  cargo build -q -p frontend --lib --target wasm32-unknown-unknown \
    --profile $WASM_PROFILE --target-dir target/front
else
  # Debian's rustc-web (1.96) builds std for wasm from rust-web-src; -Zbuild-std only here,
  # never in .cargo/config.toml (it would break the server half).
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    cargo build -q -p frontend --lib --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort --profile $WASM_PROFILE --target-dir target/front
fi

step "wasm-bindgen"
mkdir -p "$PKG"
wasm-bindgen --target web --remove-name-section --out-name herald --out-dir "$PKG" \
  target/front/wasm32-unknown-unknown/$WASM_PROFILE/frontend.wasm
mv -f "$PKG/herald_bg.wasm" "$PKG/herald.wasm"

step "assets"
cp style/main.css "$PKG/herald.css"
cp -r public/. "$SITE/"

# The client library (clients/js, TypeScript → JavaScript with tsc) for the /try page.
step "client library"
if command -v npm >/dev/null; then
  if [[ ! -d clients/js/node_modules/typescript ]] || [[ clients/js/package-lock.json -nt clients/js/node_modules/.package-lock.json ]]; then
    (cd clients/js && npm ci --no-audit --no-fund --loglevel=error)
  fi
  (cd clients/js && npx tsc -p .)
  cp clients/js/dist/index.js "$SITE/try/herald-client.js"
else
  echo "build: no npm here: /try works only once clients/js is built (see clients/js/README.md)"
fi

# A name with the content's hash (the server reads it from pkg/build.txt), so browsers may keep
# these files for a year; and brotli/gzip copies for the server to send as they are.
step "hashed names and precompressed copies"
HASH=$(cat "$PKG/herald.js" "$PKG/herald.wasm" "$PKG/herald.css" | sha256sum | cut -c1-16)
BUILD="herald-$HASH"
rm -f "$PKG"/herald-*
for ext in js wasm css; do
  cp "$PKG/herald.$ext" "$PKG/$BUILD.$ext"
  gzip -9 -k -f "$PKG/$BUILD.$ext"
  if command -v brotli >/dev/null; then brotli -q 11 -k -f "$PKG/$BUILD.$ext"; fi
done
echo "$BUILD" > "$PKG/build.txt"

step "server half"
cargo build -q -p server --release
echo "build: done in ${SECONDS}s (server: target/release/server, site: $SITE;" \
  "wasm $(stat -c %s "$PKG/herald.wasm") bytes, $(stat -c %s "$PKG/$BUILD.wasm.gz") gzip" \
  "$( [[ -f "$PKG/$BUILD.wasm.br" ]] && echo ", $(stat -c %s "$PKG/$BUILD.wasm.br") brotli"))"
