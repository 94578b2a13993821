#!/usr/bin/env bash
# The overload benchmark (issue 16 part 2): the intake's ceiling, then 10x that for 60 s from otelbench generate,
# wrk and h2load, with 5,000 idle connections and slow clients; prints a report (see scripts/overload.py).
#
#   scripts/overload.sh [--duration 60] [--factor 10] [--memory-limit 256MiB] [--idle 5000] [--receiver-cpus 0]
#                       [--receiver-cpu-quota 0.25] [--receive-args '...']
#                       [any otelbench receive flag, e.g. --idle-timeout 10s --header-timeout 5s --body-timeout 10s]
#
# Builds the release binary in .build-release (niced; about 15 minutes the first time) unless OTELBENCH_BINARY
# names one. Needs wrk, h2load and .venv-test (scripts/install-test-deps.sh). Exit 1 when an invariant broke.
# --receiver-cpu-quota CORES gives the receiver that share of a core's time (a cgroup CPU quota, like a container's
# CPU limit; needs root), so that senders on the same machine can offer it 10x what it takes.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BINARY="${OTELBENCH_BINARY:-}"
if [[ -z "$BINARY" ]]; then
  nice -n 19 swift build -c release --package-path "$REPO" --build-path "$REPO/.build-release" --product otelbench >&2
  BINARY="$REPO/.build-release/release/otelbench"
fi
for tool in wrk h2load; do
  command -v "$tool" >/dev/null || { echo "overload: $tool is missing: run scripts/install-test-deps.sh" >&2; exit 2; }
done
[[ -x "$REPO/.venv-test/bin/python" ]] || { echo "overload: .venv-test is missing: run scripts/install-test-deps.sh" >&2; exit 2; }
exec "$REPO/.venv-test/bin/python" "$REPO/scripts/overload.py" --binary "$BINARY" "$@"
