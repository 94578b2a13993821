import Foundation
import Workload

extension HTMLReport {
    /// Client latency p50, p90 and p99 over the run, one small chart per request name, all on the same time axis
    /// (as k6's and Gatling's reports show them).
    static func latencyOverTimeSection(_ overTime: LatencyOverTime) -> String {
        let window = overTime.windowSeconds
        var parts = [
            "<h2>Client latency over time</h2>",
            "<p class=meta>p50, p90 and p99 per \(window == 1 ? "second" : "\(window) s") for each request, from its intended send time; "
                + "a request counts in the \(window == 1 ? "second" : "window") its answer arrived</p>",
        ]
        let names = overTime.requests.keys.sorted()
        guard !names.isEmpty else { return (parts + ["<p class=meta>no requests</p>"]).joined(separator: "\n") }
        let last = overTime.requests.values.flatMap { $0.map(\.second) }.max() ?? 0
        let xMax = Double(max(1, last + window))
        parts.append("<div class=smallmultiples>")
        for name in names {
            let points = overTime.requests[name] ?? []
            let count = points.reduce(0) { $0 + $1.count }
            // Each point sits in the middle of its window. With few requests a second, p90 often equals p99:
            // p99 is drawn first and p90 dashed over it, so that both show.
            func line(_ title: String, _ colour: String, dashed: Bool = false, _ value: (LatencyOverTime.Point) -> Double) -> Line {
                Line(name: title, colour: colour, points: points.map { (Double($0.second) + Double(window) / 2, value($0)) }, dashed: dashed)
            }
            let highest = points.map(\.p99).max() ?? 0
            parts.append("<div><h3>\(escape(name))</h3><p class=meta>\(count) requests</p>")
            parts.append(
                lineChart(
                    [line("p99", palette[3], \.p99), line("p90", palette[1], dashed: true, \.p90), line("p50", palette[0], \.p50)],
                    xMax: xMax,
                    yMax: niceCeiling(highest * 1.1),
                    xLabel: { "\(format($0)) s" },
                    yLabel: { "\(format($0)) ms" },
                    label: "latency over time of \(name)",
                    width: 560,
                    height: 170,
                    legendWidth: 60
                )
            )
            parts.append("</div>")
        }
        parts.append("</div>")
        return parts.joined(separator: "\n")
    }

    /// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is at least `value` (1 for
    /// nothing above 0), so that an axis ends on a round number without wasting half its height.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let power = pow(10, floor(log10(value)))
        return [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map { $0 * power }.first { $0 >= value * (1 - 1e-12) } ?? 10 * power
    }
}
