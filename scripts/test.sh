#!/usr/bin/env bash
# Installs what the tests need, then runs every test: unit, integration
# (real master processes over HTTP) and end-to-end (network namespaces, real packets).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
bash scripts/setup.sh
exec npx vitest run "$@"
