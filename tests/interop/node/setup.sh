#!/usr/bin/env bash
# Installs the pinned lwm2m-node-lib (package-lock.json) into ./node_modules when missing.
# Idempotent: does nothing when it is already there.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
command -v node >/dev/null || { echo "setup: node not found (node 20 needed)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: npm not found" >&2; exit 1; }
if [ ! -f node_modules/lwm2m-node-lib/package.json ]; then
  npm ci --no-audit --no-fund >&2
fi
