import Scenario
import Telemetry
import Testing

/// The compact encoding of a series' points gives back exactly what went in, and is small for the points
/// exporters send (cumulative counts that grow a little, the same bounds every time).
@Suite struct PointColumnsTests {
    static func randomPoint(_ random: inout SplitMix64, time: UInt64) -> MetricPoint {
        func double() -> Double {
            switch random.next() % 4 {
            case 0: Double(bitPattern: random.next())  // any bits: NaNs, infinities, subnormals
            case 1: -Double(random.next() % 1000) / 7
            default: Double(random.next() % 1_000_000) / 1000
            }
        }
        func counts(_ count: Int) -> [UInt64] { (0..<count).map { _ in random.next() % 3 == 0 ? random.next() : random.next() % 100 } }
        let start = random.next() % 2 == 0 ? 0 : random.next()
        switch random.next() % 5 {
        case 0:
            return .number(
                NumberPoint(startTimeUnixNano: start, timeUnixNano: time, value: .int(Int64(bitPattern: random.next())), flags: UInt32(random.next() % 2))
            )
        case 1:
            return .number(NumberPoint(startTimeUnixNano: start, timeUnixNano: time, value: .double(double())))
        case 2:
            let bounds = (0..<Int(random.next() % 16)).map { Double($0) * 0.5 }
            return .histogram(
                HistogramPoint(
                    startTimeUnixNano: start,
                    timeUnixNano: time,
                    count: random.next(),
                    sum: random.next() % 2 == 0 ? double() : nil,
                    min: random.next() % 2 == 0 ? double() : nil,
                    max: random.next() % 2 == 0 ? double() : nil,
                    explicitBounds: bounds,
                    bucketCounts: counts(bounds.count + 1),
                    flags: UInt32(random.next() % 2)
                )
            )
        case 3:
            return .exponentialHistogram(
                ExponentialHistogramPoint(
                    startTimeUnixNano: start,
                    timeUnixNano: time,
                    count: random.next(),
                    sum: double(),
                    min: nil,
                    max: double(),
                    scale: Int32(truncatingIfNeeded: Int64(random.next() % 40) - 20),
                    zeroCount: random.next() % 10,
                    zeroThreshold: double(),
                    positive: .init(offset: Int32(truncatingIfNeeded: Int64(random.next() % 100) - 50), bucketCounts: counts(Int(random.next() % 8))),
                    negative: .init(offset: -3, bucketCounts: counts(Int(random.next() % 3)))
                )
            )
        default:
            return .summary(
                SummaryPoint(
                    startTimeUnixNano: start,
                    timeUnixNano: time,
                    count: random.next(),
                    sum: double(),
                    quantiles: (0..<Int(random.next() % 4)).map { .init(quantile: Double($0) / 4, value: double()) }
                )
            )
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func anyPointsRoundTrip(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var time: UInt64 = random.next() % 1_000_000
        var columns = PointColumns()
        var points: [MetricPoint] = []
        for _ in 0..<500 {
            // Times mostly increase, sometimes go back (out-of-order exports are stored as they come).
            time = random.next() % 10 == 0 ? time &- random.next() % 1000 : time &+ random.next() % 1_000_000_000
            let point = Self.randomPoint(&random, time: time)
            points.append(point)
            if random.next() % 2 == 0 { columns.append(point) } else { columns.append(contentsOf: [point]) }
        }
        #expect(columns.count == points.count)
        #expect(columns.last == points.last)
        #expect(Self.same(columns.points, points))
    }

    /// What exporters send every interval: a cumulative histogram whose counts grow a little, the same bounds.
    @Test func cumulativeHistogramsTakeTensOfBytesAPoint() {
        let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
        var counts = [UInt64](repeating: 0, count: bounds.count + 1)
        var columns = PointColumns()
        var number = PointColumns()
        var random = SplitMix64(seed: 9)
        for second in 0..<3600 {
            for index in counts.indices where random.next() % 3 == 0 { counts[index] += random.next() % 20 }
            let time = 1_700_000_000_000_000_000 + UInt64(second) * 1_000_000_000
            columns.append(
                .histogram(
                    HistogramPoint(
                        startTimeUnixNano: 1_700_000_000_000_000_000,
                        timeUnixNano: time,
                        count: counts.reduce(0, +),
                        sum: Double(second) * 1.5,
                        explicitBounds: bounds,
                        bucketCounts: counts
                    )
                )
            )
            number.append(.number(NumberPoint(startTimeUnixNano: 1_700_000_000_000_000_000, timeUnixNano: time, value: .int(Int64(second * 3)))))
        }
        #expect(columns.encodedSize / columns.count <= 40, "\(columns.encodedSize / columns.count) bytes per histogram point")
        #expect(number.encodedSize / number.count <= 10, "\(number.encodedSize / number.count) bytes per number point")
    }

    /// Equality that holds for NaN payloads too (`==` on doubles does not).
    static func same(_ lhs: [MetricPoint], _ rhs: [MetricPoint]) -> Bool {
        lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { String(reflecting: bits($0)) == String(reflecting: bits($1)) }
    }

    /// A point with every double replaced by its bits.
    static func bits(_ point: MetricPoint) -> [UInt64] {
        func d(_ value: Double?) -> UInt64 { value?.bitPattern ?? 0xdead }
        switch point {
        case .number(let p):
            let value: UInt64 =
                switch p.value {
                case .int(let v): UInt64(bitPattern: v)
                case .double(let v): v.bitPattern
                }
            return [0, p.startTimeUnixNano, p.timeUnixNano, value, UInt64(p.flags)]
        case .histogram(let p):
            return [1, p.startTimeUnixNano, p.timeUnixNano, p.count, d(p.sum), d(p.min), d(p.max), UInt64(p.flags)]
                + p.explicitBounds.map(\.bitPattern) + [0xbeef] + p.bucketCounts
        case .exponentialHistogram(let p):
            return [2, p.startTimeUnixNano, p.timeUnixNano, p.count, d(p.sum), d(p.min), d(p.max), UInt64(bitPattern: Int64(p.scale)), p.zeroCount]
                + [d(p.zeroThreshold), UInt64(bitPattern: Int64(p.positive.offset))] + p.positive.bucketCounts
                + [UInt64(bitPattern: Int64(p.negative.offset))] + p.negative.bucketCounts
        case .summary(let p):
            return [3, p.startTimeUnixNano, p.timeUnixNano, p.count, d(p.sum)] + p.quantiles.flatMap { [$0.quantile.bitPattern, $0.value.bitPattern] }
        }
    }

    /// Deltas between extreme times and values (0, then the largest; the largest, then 0) wrap instead of trapping,
    /// and decode to what went in: remote write's far-future samples once reached here.
    @Test func extremeTimesAndValuesRoundTrip() {
        let times: [UInt64] = [0, .max, 0, UInt64(Int64.max), 1, UInt64(Int64.max) + 1, .max - 1]
        let values: [Int64] = [0, .max, .min, -1, .max, .min, 0]
        var columns = PointColumns()
        let points = zip(times, values).map { time, value in
            MetricPoint.number(NumberPoint(startTimeUnixNano: .max - time, timeUnixNano: time, value: .int(value), flags: .max))
        }
        columns.append(contentsOf: points)
        #expect(columns.points == points)
    }
}
