#!/usr/bin/env bash
# Installs what vxnet needs, then runs the demo cluster until Ctrl-C.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
bash scripts/setup.sh
exec node dist/cli/main.js demo "$@"
