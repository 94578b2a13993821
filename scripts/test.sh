#!/usr/bin/env bash
# The test command: installs what the tests need (curl, the OpenTelemetry Python SDK in .venv-test),
# builds (debug) and runs every test. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
swift build --build-tests
swift test --skip-build "$@"
