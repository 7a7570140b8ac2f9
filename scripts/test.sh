#!/usr/bin/env bash
# The whole test suite: formatting and lints, Rust tests (unit, storage on SQLite *and* PostgreSQL, black-box REST)
# and the Playwright end-to-end tests in Debian's Chromium against the real server.
#
# PostgreSQL: HERALD_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test). The storage
# tests fail, rather than skip, when it is set and unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --for-tests

echo "test: formatting (rustfmt.toml) and lints (clippy, warnings are errors)"
cargo fmt --all -- --check
cargo clippy -q --workspace --exclude frontend --all-targets -- -D warnings

scripts/build.sh

export HERALD_TEST_PG_URL="${HERALD_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
echo "test: cargo test (SQLite and PostgreSQL at ${HERALD_TEST_PG_URL%%@*}@…)"
# --release shares compiled dependencies with the server build above. Nothing here enables
# `hydrate`, so `app` is tested with `ssr` (through `server`).
cargo test --release --workspace --exclude frontend
echo "test: the REST black-box suite again, on PostgreSQL"
if command -v psql >/dev/null; then  # databases left by earlier runs
  psql "$HERALD_TEST_PG_URL" -Atqc "select datname from pg_database where datname like 'herald_api_%' or datname like 'herald_js_%'" \
    | while read -r db; do psql "$HERALD_TEST_PG_URL" -qc "drop database if exists $db with (force)"; done
fi
HERALD_TEST_BACKEND=postgres cargo test --release -p server --test api

echo "test: the TypeScript client library against the real server"
(cd clients/js && npm ci --no-audit --no-fund && npm test)

echo "test: Playwright"
E2E_DIR=$(mktemp -d)
trap 'rm -rf "$E2E_DIR"' EXIT
export HERALD_E2E_DB="sqlite://$E2E_DIR/e2e.db"
export HERALD_E2E_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd end2end && npx playwright test)
echo "test: all passed"
