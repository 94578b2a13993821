"""Parse an OpenMetrics exposition (file argument) with prometheus_client's strict parser.

Prints one line per family (name, type, sample count) and exits 0 when it parses; prints the parser's
error and exits 1 otherwise. Run with .venv-remote-write's python.
"""

import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as exposition:
        text = exposition.read()
    try:
        for family in text_string_to_metric_families(text):
            print(f"{family.name} {family.type} {len(family.samples)}")
    except Exception as error:  # the parser raises ValueError and others
        print(f"invalid OpenMetrics: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
