#!/usr/bin/env bash
# Installs what the tests need, then runs every test: unit, integration
# (real master processes over HTTP) and end-to-end (network namespaces, real packets).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
bash scripts/setup.sh
# Lint and format first: a change that breaks them fails here, before any test.
npx biome check . || { echo "vxnet test: lint or format errors above; run 'npm run format' and fix what biome reports" >&2; exit 1; }
exec npx vitest run "$@"
