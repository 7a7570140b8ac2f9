#!/usr/bin/env bash
# Sets up, builds and runs Herald on http://127.0.0.1:3000 with SQLite under ./data.
# Every HERALD_* / DATABASE_URL variable (see README) passes through.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
export LEPTOS_OUTPUT_NAME=herald LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg
exec target/release/server "$@"
