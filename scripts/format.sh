#!/usr/bin/env bash
# Formats every Swift file of the package (generated code excepted) with the toolchain's swift-format and the
# committed .swift-format; `--check` only lints, and fails on any finding (the test command runs it so).
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r file; do files+=("$file"); done < <(find Package.swift Sources Tests Benchmarks Fuzz -name '*.swift' -not -path '*/Generated/*' | sort)
if [ "${1:-}" = "--check" ]; then
  swift format lint --strict --configuration .swift-format "${files[@]}" || {
    echo "format check failed: run 'bash scripts/format.sh' and commit the result" >&2
    exit 1
  }
else
  swift format format --in-place --configuration .swift-format "${files[@]}"
fi
