#!/usr/bin/env bash
# Atoll's main job on a fresh Debian machine (root, Node 20): installs what it needs,
# builds the binaries (and the plugin's single executable, which nodes run), and runs the
# local quickstart — etcd, the Kubernetes API stand-in, the allocator, two nodes each with a
# node agent and containerd, a default pool and demo pods started through the CRI — until
# Ctrl-C, which removes every process and namespace it made.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-system-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true
npx nx run-many -t build --projects='@atoll/allocator,@atoll/node-agent,@atoll/cni-plugin,@atoll/ctl' --output-style=static >/dev/null
npx nx run @atoll/cni-plugin:sea --output-style=static >/dev/null
exec node tools/run-ts.js tools/quickstart/main.ts "$@"
