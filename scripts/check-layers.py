#!/usr/bin/env python3
"""Fails when a target of this package depends on a target above it in the data flow, or on itself in a cycle.

Reads the manifest as SwiftPM resolves it (`swift package dump-package`), so what is checked is what builds.
The order below is the architecture (README, "Layout"): each target may depend only on targets listed before it.
"""
import json
import os
import subprocess
import sys

# Bottom to top. Tests and the benchmarks sit above everything they test.
LAYERS = [
    "OTelBenchProtos",
    "PromQLSyntax",
    "Scenario",
    "CollectorLint",
    "Telemetry",
    "PromQL",
    "Intake",
    "Scrape",
    "FuzzTargets",
    "Query",
    "Services",
    "Workload",
    "Checks",
    "Reporting",
    "Harness",
    "otelbench",
    "OTelBenchBenchmarks",
    "CFuzzerDriver",
    "OTelBenchFuzz",
]


def main() -> int:
    manifest = json.loads(subprocess.run(
        ["swift", "package", "dump-package"], check=True, capture_output=True, text=True
    ).stdout)
    rank = {name: index for index, name in enumerate(LAYERS)}
    problems = []
    for target in manifest["targets"]:
        name = target["name"]
        is_test_side = target["type"] == "test" or name == "TestSupport"
        if not is_test_side and name not in rank:
            problems.append(f"{name}: not in scripts/check-layers.py's LAYERS; place it in the data flow")
            continue
        for dependency in target.get("dependencies", []):
            by_name = dependency.get("byName") or dependency.get("target")
            if not by_name:
                continue  # a product of another package
            other = by_name[0]
            if other == name:
                problems.append(f"{name} depends on itself")
            elif is_test_side:
                continue  # tests and the test kit may use any target
            elif other not in rank:
                problems.append(f"{name} -> {other}: a source target may not depend on {other}")
            elif rank[other] >= rank[name]:
                problems.append(f"{name} -> {other}: {other} is above {name} in the data flow (upward edge)")
    # Every folder of sources and tests is a target: a folder SwiftPM does not build is code nobody runs.

    declared = {target.get("path") or (("Tests/" if target["type"] == "test" else "Sources/") + target["name"]) for target in manifest["targets"]}
    for root in ("Sources", "Tests"):
        for folder in sorted(os.listdir(root)):
            path = f"{root}/{folder}"
            if os.path.isdir(path) and path not in declared and folder != "Interop":
                problems.append(f"{path}: a folder that no target in Package.swift builds")
    if problems:
        print("layer check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"layer check: {len(LAYERS)} layers, every dependency points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
