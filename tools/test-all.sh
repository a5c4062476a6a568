#!/usr/bin/env bash
# The one command that runs every Atoll test on a fresh Debian machine (root, Node 20):
# installs what the tests need, starts a private etcd on loopback, runs build (type
# checks), lint and test for every project, and stops etcd again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-system-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

export CI="${CI:-true}" NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE="${NX_SKIP_NX_CACHE:-false}"
exec node tools/etcd/run-with-etcd.js -- npx nx run-many -t build lint test --output-style=static "$@"
