#!/usr/bin/env bash
# npm run chaos: builds the binaries the run execs, then runs the long-form chaos suite.
# Settings: ATOLL_CHAOS_* (tools/chaos/options.ts), e.g.
#   ATOLL_CHAOS_OPERATIONS=20000 ATOLL_CHAOS_MIN_FAULTS=100 npm run chaos
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true
npx nx run-many -t build --projects='@atoll/allocator,@atoll/node-agent,@atoll/cni-plugin,@atoll/ctl' --output-style=static >/dev/null
exec node tools/run-ts.js tools/chaos/main.ts "$@"
