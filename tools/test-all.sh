#!/usr/bin/env bash
# The one command that runs every Atoll test on a fresh Debian machine (root, Node 20):
# installs what the tests need, starts a private etcd on loopback, runs build (type
# checks), lint and test for every project, stops etcd again, and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-system-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

export CI="${CI:-true}" NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
node tools/etcd/run-with-etcd.js -- npx nx run-many -t build lint test --output-style=static --skip-nx-cache "$@" 2>&1 | tee "$log" || status=$?

# Sum jest's per-project "Tests:" lines into one closing line.
sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
  /^Tests:/ { for (i = 2; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^skipped/) s += $i } }
  END { printf "%d passed, %d failed", p, f; if (s) printf ", %d skipped", s; printf "\n" }'
exit "$status"
