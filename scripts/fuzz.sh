#!/usr/bin/env bash
# Runs one libFuzzer campaign: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]
#
# Builds the fuzz binary (Fuzz/OTelBenchFuzz, every target of Sources/FuzzTargets) with
# `-sanitize=fuzzer,address` in release into .build-fuzz (the first build compiles every dependency again with the
# sanitizers: 15+ minutes on 2 cores), then fuzzes TARGET for SECONDS on a copy of its committed corpus
# (Tests/FuzzRegressionTests/Corpora/TARGET) with a 1 s timeout per input and leak detection, and prints the
# executions, executions per second and what it found. Findings (crash-*, leak-*, timeout-*) land in
# .build-fuzz/findings/TARGET; new coverage in .build-fuzz/campaigns/TARGET (merge it into the committed corpus
# with `-set_cover_merge=1` when it is worth keeping). `scripts/fuzz.sh --list` names the targets.
#
# libFuzzer checks for leaks only after an input that found new coverage, and stops checking when a target keeps
# memory between inputs, so a leak is reported late, against another input, or not at all. With
# OTELBENCH_FUZZ_LEAK_BATCH=N the binary asks LeakSanitizer every N inputs and, on a leak, writes the last N inputs
# to OTELBENCH_FUZZ_LEAK_DIR (default .) as leak-batch-*; replaying them finds the one that leaks.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--list" ]; then
  sed -n 's/.*FuzzTarget(name: "\([^"]*\)", input: "\([^"]*\)".*/\1\t\2/p' Sources/FuzzTargets/FuzzTarget.swift
  exit 0
fi
if [ $# -lt 2 ]; then
  echo "usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]   (scripts/fuzz.sh --list names the targets)" >&2
  exit 2
fi
target="$1"
seconds="$2"
shift 2
corpus="Tests/FuzzRegressionTests/Corpora/$target"
if [ ! -d "$corpus" ]; then
  echo "no fuzz target $target (no $corpus): scripts/fuzz.sh --list names them" >&2
  exit 2
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "SECONDS must be a whole number of seconds >= 1 (got $seconds)" >&2
  exit 2
fi

build=(swift build -c release --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld --product otelbench-fuzz)
if [ -z "${OTELBENCH_FUZZ_SKIP_BUILD:-}" ]; then
  mkdir -p .build-fuzz
  if ! OTELBENCH_FUZZ=1 "${build[@]}" > .build-fuzz/build.log 2>&1; then
    grep -E 'error:' .build-fuzz/build.log | head -10 >&2
    echo "the fuzz build failed (.build-fuzz/build.log): OTELBENCH_FUZZ=1 ${build[*]}" >&2
    exit 1
  fi
fi
binary=.build-fuzz/release/otelbench-fuzz

work=".build-fuzz/campaigns/$target"
findings=".build-fuzz/findings/$target"
mkdir -p "$work" "$findings"
cp -n "$corpus"/* "$work"/ 2>/dev/null || true
log=".build-fuzz/campaigns/$target.log"
set +e
# malloc_context_size=2: AddressSanitizer records two frames of each allocation's stack instead of 30. Unwinding
# and storing those stacks took a sixth of a campaign's time (perf); with two frames campaigns run 15-35 % more
# inputs a second. A finding's report then shows short allocation stacks: replay its file with
# ASAN_OPTIONS=malloc_context_size=30 for whole ones (ASAN_OPTIONS given here is appended, so it wins).
OTELBENCH_FUZZ_TARGET="$target" ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:malloc_context_size=2:${ASAN_OPTIONS:-}" "$binary" \
  -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -max_len="${OTELBENCH_FUZZ_MAX_LEN:-8192}" \
  -print_final_stats=1 -artifact_prefix="$findings/" "$@" "$work" > "$log" 2>&1
status=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
found=$(ls "$findings" | wc -l)
echo "target $target: ${runs:-?} executions in ${seconds} s, ${rate:-?} exec/s, corpus $(ls "$work" | wc -l) files, findings $found (in $findings), libFuzzer exit $status"
if [ "$status" -ne 0 ]; then
  grep -E 'ERROR|Fatal error|invariant|SUMMARY|Test unit written' "$log" | head -20
  echo "full log: $log" >&2
  exit 1
fi
