#!/usr/bin/env bash
# The test command: installs what the tests need (curl, the OpenTelemetry Python SDK in .venv-test),
# builds (debug) and runs every test. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
# The targets depend only downwards in the data flow (README, "Layout").
python3 scripts/check-layers.py
# Formatting follows .swift-format (generated code excepted); `bash scripts/format.sh` applies it.
bash scripts/format.sh --check
swift build --build-tests
# Serially: the schedule-accuracy and coordinated-omission tests measure time, and suites running in
# parallel on 2 cores would measure each other instead.
swift test --skip-build --no-parallel "$@"
