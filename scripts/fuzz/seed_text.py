"""Text seeds from the repository: the shipped scenarios and rule file, the PromQL they hold, and OpenMetrics
examples from the OpenMetrics 1.0 specification."""
import os
import re
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = sys.argv[1]


def write(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


for path in ["cf-core-smoke.yaml", "cf-core-sinks.yaml", "faults/slow_liveness.yaml", "services/cf-core-example.yaml", "w3c-trace-context.yaml"]:
    write("scenario-yaml", path.replace("/", "-"), open(os.path.join(root, "Scenarios", path), "rb").read())

write("rule-file", "cf-core-alerts.yaml", open(os.path.join(root, "Scenarios/alerts/cf-core.yaml"), "rb").read())
write("rule-file", "recording.yaml", """groups:
  - name: recording
    interval: 30s
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
        labels:
          team: core
      - alert: HighErrorRate
        expr: job:http_requests:rate5m{code=~"5.."} / ignoring(code) group_left job:http_requests:rate5m > 0.05
        for: 10m
        annotations:
          description: '{{ $labels.job }} errors at {{ $value }}'
""")
write("rule-file", "empty-groups.yaml", "groups: []\n")

expressions = set()
for directory, _, files in os.walk(os.path.join(root, "Scenarios")):
    for name in files:
        if name.endswith(".yaml"):
            text = open(os.path.join(directory, name)).read()
            for match in re.finditer(r'(?:expr|query): "((?:[^"\\]|\\.)*)"', text):
                expressions.add(match.group(1).encode().decode("unicode_escape"))
            for match in re.finditer(r"^\s*expr: (?!\")(.+)$", text, re.M):
                expressions.add(match.group(1).strip())
expressions |= {
    'sum without (instance) (rate(http_requests_total{job="api", code!~"2.."}[5m] offset 1h @ 1700000000))',
    "max_over_time(deriv(rate(x[1m])[10m:30s])[1h:]) > bool 0",
    'label_replace(up, "host", "$1", "instance", "(.*):.*") or on(job) vector(1)',
    "topk(3, count_values(\"v\", build_info)) unless absent(up) ^ -2 % 3",
    "-(((1))) + 2 * +3 / 0x1f - 1e3 - Inf + NaN",
    'quantile_over_time(0.9, {__name__=~"job:.*", le="+Inf"}[1h] @ end())',
    "rate(x[9223372036854s])",
    'time() - timestamp(last_over_time(up[5m])) # a comment',
}
for index, expression in enumerate(sorted(expressions)):
    write("promql", f"expression-{index:02d}.promql", expression)

# OpenMetrics 1.0 text, after the specification's examples: units, created, exemplars, info, stateset, EOF.
write("exposition-openmetrics", "spec-counter-exemplar.txt", """# TYPE foo counter
# UNIT foo seconds
# HELP foo A counter of seconds.
foo_total{a="b"} 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67
foo_created{a="b"} 1520872607.123
# EOF
""")
write("exposition-openmetrics", "spec-histogram.txt", """# TYPE rollback_duration_seconds histogram
# HELP rollback_duration_seconds Rollback time.
rollback_duration_seconds_bucket{le="0.1"} 0
rollback_duration_seconds_bucket{le="1.0"} 1 # {trace_id="a"} 0.7 1520879607.789
rollback_duration_seconds_bucket{le="+Inf"} 2
rollback_duration_seconds_sum 12.7
rollback_duration_seconds_count 2
rollback_duration_seconds_created 1520872607.123
# TYPE state stateset
state{state="a"} 1
state{state="b"} 0
# TYPE build info
build_info{version="1.2.3"} 1
# TYPE latency summary
latency{quantile="0.5"} NaN
latency_sum 0
latency_count 0
# EOF
""")
write("exposition-text", "escapes-and-timestamps.txt", """# HELP queue_depth Items waiting, \\\\ and \\n.
# TYPE queue_depth gauge
queue_depth{path="C:\\\\dir",msg="say \\"hi\\"\\n",} -2.5 1520879607789
queue_depth{path="/"} +Inf
# a comment
untyped_metric 1e-3
""")
