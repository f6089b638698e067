#!/usr/bin/env bash
# The README's first command: install Chromium + chromedriver when missing, build ft,
# then run ft's main job (the built-in suite against the embedded superlists app,
# writing reports/). Extra arguments go to ft, e.g. ./setup.sh --workers 2
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
# cargo run honours CARGO_TARGET_DIR; the binary is then target/release/ft.
exec cargo run --release --locked --quiet -- "$@"
