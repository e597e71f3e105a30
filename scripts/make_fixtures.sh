#!/usr/bin/env bash
# Regenerates every numeric fixture the tests compare against (needs python3 with numpy).
set -euo pipefail
cd "$(dirname "$0")"
for generator in fixtures_*.py; do
    python3 "$generator"
done
