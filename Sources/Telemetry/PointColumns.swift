/// The points of one series, encoded compactly as they arrive: each point as the difference from the one before
/// it (times and counts as zigzag varints, doubles XOR-ed with the previous value's bits, histogram bounds only
/// when they change). A cumulative histogram point of 15 buckets takes about 30 bytes instead of about 400 as a
/// ``MetricPoint``; a number point about 10 instead of about 120. What a run keeps of its metrics grows this
/// slowly with the run's length, and nothing else does.
///
/// ```swift
/// var columns = PointColumns()
/// for point in series.points { columns.append(point) }
/// assert(columns.points == series.points)
/// ```
package struct PointColumns: Sendable, Hashable {
    /// Points appended.
    package private(set) var count = 0
    /// The newest point, decoded (it is what the next one is encoded against).
    package private(set) var last: MetricPoint?
    private var bytes: [UInt8] = []

    package init() {}

    /// Bytes the encoded points take.
    package var encodedSize: Int { bytes.count }

    /// Bytes the encoded points' storage holds (its capacity): what they cost resident.
    package var storageCapacity: Int { bytes.capacity }

    /// Every point, decoded, in arrival order.
    package var points: [MetricPoint] {
        var reader = Reader(bytes: bytes)
        var result: [MetricPoint] = []
        result.reserveCapacity(count)
        var previous: MetricPoint?
        for _ in 0..<count {
            let point = reader.point(after: previous)
            result.append(point)
            previous = point
        }
        return result
    }

    /// Appends one point.
    package mutating func append(_ point: MetricPoint) {
        var writer = Writer(bytes: bytes)
        bytes = []
        writer.point(point, after: last)
        bytes = writer.bytes
        last = point
        count += 1
    }

    /// Appends points in order.
    package mutating func append(contentsOf points: some Sequence<MetricPoint>) {
        var writer = Writer(bytes: bytes)
        bytes = []
        for point in points {
            writer.point(point, after: last)
            last = point
            count += 1
        }
        bytes = writer.bytes
    }

    // Point tags.
    private static let intNumber: UInt8 = 0
    private static let doubleNumber: UInt8 = 1
    private static let histogram: UInt8 = 2
    private static let exponentialHistogram: UInt8 = 3
    private static let summary: UInt8 = 4

    struct Writer {
        var bytes: [UInt8]

        mutating func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        /// The signed difference `value − previous`, zigzag-encoded.
        mutating func delta(_ value: UInt64, _ previous: UInt64) {
            let difference = Int64(bitPattern: value &- previous)
            varint(UInt64(bitPattern: (difference << 1) ^ (difference >> 63)))
        }

        mutating func xor(_ value: Double, _ previous: Double) { varint(value.bitPattern ^ previous.bitPattern) }

        /// Presence bits then the present values, each XOR-ed with the previous point's.
        mutating func optionals(_ values: [Double?], _ previous: [Double?]) {
            var present: UInt64 = 0
            for (index, value) in values.enumerated() where value != nil { present |= 1 << index }
            varint(present)
            for (index, value) in values.enumerated() { if let value { xor(value, previous[index] ?? 0) } }
        }

        /// What every histogram-like point starts with: its tag, times, count, and sum, min and max.
        mutating func histogramHeader(
            _ tag: UInt8,
            start: UInt64,
            time: UInt64,
            count: UInt64,
            extremes: [Double?],
            after before: PointFields
        ) {
            bytes.append(tag)
            delta(start, before.start)
            delta(time, before.time)
            delta(count, before.count)
            optionals(extremes, [before.sum, before.min, before.max])
        }

        mutating func counts(_ counts: [UInt64], _ previous: [UInt64]?) {
            varint(UInt64(counts.count))
            let base = previous?.count == counts.count ? previous! : Array(repeating: 0, count: counts.count)
            for (count, before) in zip(counts, base) { delta(count, before) }
        }

        mutating func point(_ point: MetricPoint, after previous: MetricPoint?) {
            let before = PointFields(previous)
            switch point {
            case .number(let number):
                switch number.value {
                case .int(let value):
                    bytes.append(PointColumns.intNumber)
                    delta(number.startTimeUnixNano, before.start)
                    delta(number.timeUnixNano, before.time)
                    delta(UInt64(bitPattern: value), UInt64(bitPattern: before.intValue))
                case .double(let value):
                    bytes.append(PointColumns.doubleNumber)
                    delta(number.startTimeUnixNano, before.start)
                    delta(number.timeUnixNano, before.time)
                    xor(value, before.doubleValue)
                }
                varint(UInt64(number.flags))
            case .histogram(let histogram):
                histogramHeader(
                    PointColumns.histogram,
                    start: histogram.startTimeUnixNano,
                    time: histogram.timeUnixNano,
                    count: histogram.count,
                    extremes: [histogram.sum, histogram.min, histogram.max],
                    after: before
                )
                if let bounds = before.bounds, bounds == histogram.explicitBounds {
                    varint(0)
                } else {
                    varint(UInt64(histogram.explicitBounds.count) + 1)
                    for bound in histogram.explicitBounds { varint(bound.bitPattern) }
                }
                counts(histogram.bucketCounts, before.bucketCounts)
                varint(UInt64(histogram.flags))
            case .exponentialHistogram(let histogram):
                histogramHeader(
                    PointColumns.exponentialHistogram,
                    start: histogram.startTimeUnixNano,
                    time: histogram.timeUnixNano,
                    count: histogram.count,
                    extremes: [histogram.sum, histogram.min, histogram.max],
                    after: before
                )
                delta(UInt64(bitPattern: Int64(histogram.scale)), 0)
                varint(histogram.zeroCount)
                varint(histogram.zeroThreshold.bitPattern)
                for side in [histogram.positive, histogram.negative] {
                    delta(UInt64(bitPattern: Int64(side.offset)), 0)
                    counts(side.bucketCounts, nil)
                }
                varint(UInt64(histogram.flags))
            case .summary(let summary):
                bytes.append(PointColumns.summary)
                delta(summary.startTimeUnixNano, before.start)
                delta(summary.timeUnixNano, before.time)
                delta(summary.count, before.count)
                xor(summary.sum, before.sum ?? 0)
                varint(UInt64(summary.quantiles.count))
                for quantile in summary.quantiles {
                    varint(quantile.quantile.bitPattern)
                    varint(quantile.value.bitPattern)
                }
                varint(UInt64(summary.flags))
            }
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func varint() -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }

        mutating func delta(_ previous: UInt64) -> UInt64 {
            let zigzag = varint()
            let difference = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
            return previous &+ UInt64(bitPattern: difference)
        }

        mutating func xor(_ previous: Double) -> Double { Double(bitPattern: varint() ^ previous.bitPattern) }

        mutating func optionals(_ previous: [Double?]) -> [Double?] {
            let present = varint()
            return previous.indices.map { index in present & (1 << index) != 0 ? xor(previous[index] ?? 0) : nil }
        }

        /// The times, count and extremes after a histogram-like point's tag.
        mutating func histogramHeader(after before: PointFields) -> (start: UInt64, time: UInt64, count: UInt64, extremes: [Double?]) {
            let start = delta(before.start)
            let time = delta(before.time)
            let count = delta(before.count)
            return (start, time, count, optionals([before.sum, before.min, before.max]))
        }

        mutating func counts(_ previous: [UInt64]?) -> [UInt64] {
            let count = Int(varint())
            let base = previous?.count == count ? previous! : Array(repeating: 0, count: count)
            return base.map { delta($0) }
        }

        mutating func point(after previous: MetricPoint?) -> MetricPoint {
            let before = PointFields(previous)
            let tag = bytes[offset]
            offset += 1
            switch tag {
            case PointColumns.intNumber, PointColumns.doubleNumber:
                let start = delta(before.start)
                let time = delta(before.time)
                let value: NumberValue =
                    tag == PointColumns.intNumber
                    ? .int(Int64(bitPattern: delta(UInt64(bitPattern: before.intValue)))) : .double(xor(before.doubleValue))
                return .number(NumberPoint(startTimeUnixNano: start, timeUnixNano: time, value: value, flags: UInt32(varint())))
            case PointColumns.histogram:
                let (start, time, count, extremes) = histogramHeader(after: before)
                let boundsCount = varint()
                let bounds = boundsCount == 0 ? before.bounds ?? [] : (1..<boundsCount).map { _ in Double(bitPattern: varint()) }
                let buckets = counts(before.bucketCounts)
                return .histogram(
                    HistogramPoint(
                        startTimeUnixNano: start,
                        timeUnixNano: time,
                        count: count,
                        sum: extremes[0],
                        min: extremes[1],
                        max: extremes[2],
                        explicitBounds: bounds,
                        bucketCounts: buckets,
                        flags: UInt32(varint())
                    )
                )
            case PointColumns.exponentialHistogram:
                let (start, time, count, extremes) = histogramHeader(after: before)
                let scale = Int32(truncatingIfNeeded: Int64(bitPattern: delta(0)))
                let zeroCount = varint()
                let zeroThreshold = Double(bitPattern: varint())
                let sides = (0..<2).map { _ in
                    let offset = Int32(truncatingIfNeeded: Int64(bitPattern: delta(0)))
                    return ExponentialHistogramPoint.Buckets(offset: offset, bucketCounts: counts(nil))
                }
                return .exponentialHistogram(
                    ExponentialHistogramPoint(
                        startTimeUnixNano: start,
                        timeUnixNano: time,
                        count: count,
                        sum: extremes[0],
                        min: extremes[1],
                        max: extremes[2],
                        scale: scale,
                        zeroCount: zeroCount,
                        zeroThreshold: zeroThreshold,
                        positive: sides[0],
                        negative: sides[1],
                        flags: UInt32(varint())
                    )
                )
            default:
                let start = delta(before.start)
                let time = delta(before.time)
                let count = delta(before.count)
                let sum = xor(before.sum ?? 0)
                let quantiles = (0..<varint()).map { _ in
                    SummaryPoint.Quantile(quantile: Double(bitPattern: varint()), value: Double(bitPattern: varint()))
                }
                return .summary(
                    SummaryPoint(startTimeUnixNano: start, timeUnixNano: time, count: count, sum: sum, quantiles: quantiles, flags: UInt32(varint()))
                )
            }
        }
    }

    /// The previous point's fields a new point is encoded against (zero without one).
    struct PointFields {
        var start: UInt64 = 0
        var time: UInt64 = 0
        var count: UInt64 = 0
        var intValue: Int64 = 0
        var doubleValue: Double = 0
        var sum: Double?
        var min: Double?
        var max: Double?
        var bounds: [Double]?
        var bucketCounts: [UInt64]?

        init(_ point: MetricPoint?) {
            switch point {
            case .number(let number)?:
                (start, time) = (number.startTimeUnixNano, number.timeUnixNano)
                switch number.value {
                case .int(let value): intValue = value
                case .double(let value): doubleValue = value
                }
            case .histogram(let histogram)?:
                (start, time, count) = (histogram.startTimeUnixNano, histogram.timeUnixNano, histogram.count)
                (sum, min, max) = (histogram.sum, histogram.min, histogram.max)
                (bounds, bucketCounts) = (histogram.explicitBounds, histogram.bucketCounts)
            case .exponentialHistogram(let histogram)?:
                (start, time, count) = (histogram.startTimeUnixNano, histogram.timeUnixNano, histogram.count)
                (sum, min, max) = (histogram.sum, histogram.min, histogram.max)
            case .summary(let summary)?:
                (start, time, count, sum) = (summary.startTimeUnixNano, summary.timeUnixNano, summary.count, summary.sum)
            case nil:
                break
            }
        }
    }
}
