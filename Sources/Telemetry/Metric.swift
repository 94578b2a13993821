/// OTLP `AggregationTemporality`, with OTLP's integer values.
package enum AggregationTemporality: Int, Sendable, Hashable {
    case unspecified = 0
    case delta = 1
    case cumulative = 2
}

/// The type of a metric, as OTLP's `Metric.data` oneof says.
package enum MetricKind: Sendable, Hashable, CustomStringConvertible {
    case gauge
    case sum(isMonotonic: Bool, temporality: AggregationTemporality)
    case histogram(temporality: AggregationTemporality)
    case exponentialHistogram(temporality: AggregationTemporality)
    case summary

    /// `gauge`, `sum`, `histogram`, `exponential_histogram` or `summary`.
    package var name: String {
        switch self {
        case .gauge: "gauge"
        case .sum: "sum"
        case .histogram: "histogram"
        case .exponentialHistogram: "exponential_histogram"
        case .summary: "summary"
        }
    }

    package var description: String {
        switch self {
        case .sum(let isMonotonic, let temporality):
            "sum(\(isMonotonic ? "monotonic" : "non-monotonic"), \(temporality))"
        case .histogram(let temporality), .exponentialHistogram(let temporality):
            "\(name)(\(temporality))"
        default: name
        }
    }
}

/// A number as OTLP sends it: integer or double.
package enum NumberValue: Sendable, Hashable {
    case int(Int64)
    case double(Double)

    /// The value as a double, as Prometheus stores every sample.
    package var doubleValue: Double {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        }
    }
}

/// One gauge or sum data point.
package struct NumberPoint: Sendable, Hashable {
    package var startTimeUnixNano: UInt64
    package var timeUnixNano: UInt64
    package var value: NumberValue
    package var flags: UInt32

    package init(startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64, value: NumberValue, flags: UInt32 = 0) {
        self.startTimeUnixNano = startTimeUnixNano
        self.timeUnixNano = timeUnixNano
        self.value = value
        self.flags = flags
    }
}

/// One explicit-bucket histogram data point.
package struct HistogramPoint: Sendable, Hashable {
    package var startTimeUnixNano: UInt64
    package var timeUnixNano: UInt64
    package var count: UInt64
    package var sum: Double?
    package var min: Double?
    package var max: Double?
    /// Upper bounds of every bucket but the last (which is `+Inf`).
    package var explicitBounds: [Double]
    /// One count per bucket: `explicitBounds.count + 1` of them (non-cumulative, as OTLP sends them).
    package var bucketCounts: [UInt64]
    package var flags: UInt32

    package init(
        startTimeUnixNano: UInt64 = 0,
        timeUnixNano: UInt64,
        count: UInt64,
        sum: Double? = nil,
        min: Double? = nil,
        max: Double? = nil,
        explicitBounds: [Double],
        bucketCounts: [UInt64],
        flags: UInt32 = 0
    ) {
        self.startTimeUnixNano = startTimeUnixNano
        self.timeUnixNano = timeUnixNano
        self.count = count
        self.sum = sum
        self.min = min
        self.max = max
        self.explicitBounds = explicitBounds
        self.bucketCounts = bucketCounts
        self.flags = flags
    }
}

/// One base-2 exponential histogram data point.
package struct ExponentialHistogramPoint: Sendable, Hashable {
    /// One side (positive or negative) of the buckets.
    package struct Buckets: Sendable, Hashable {
        package var offset: Int32
        package var bucketCounts: [UInt64]
        package init(offset: Int32 = 0, bucketCounts: [UInt64] = []) {
            self.offset = offset
            self.bucketCounts = bucketCounts
        }
    }

    package var startTimeUnixNano: UInt64
    package var timeUnixNano: UInt64
    package var count: UInt64
    package var sum: Double?
    package var min: Double?
    package var max: Double?
    package var scale: Int32
    package var zeroCount: UInt64
    package var zeroThreshold: Double
    package var positive: Buckets
    package var negative: Buckets
    package var flags: UInt32

    package init(
        startTimeUnixNano: UInt64 = 0,
        timeUnixNano: UInt64,
        count: UInt64,
        sum: Double? = nil,
        min: Double? = nil,
        max: Double? = nil,
        scale: Int32,
        zeroCount: UInt64 = 0,
        zeroThreshold: Double = 0,
        positive: Buckets = .init(),
        negative: Buckets = .init(),
        flags: UInt32 = 0
    ) {
        self.startTimeUnixNano = startTimeUnixNano
        self.timeUnixNano = timeUnixNano
        self.count = count
        self.sum = sum
        self.min = min
        self.max = max
        self.scale = scale
        self.zeroCount = zeroCount
        self.zeroThreshold = zeroThreshold
        self.positive = positive
        self.negative = negative
        self.flags = flags
    }
}

/// One summary data point (pre-computed quantiles).
package struct SummaryPoint: Sendable, Hashable {
    /// One quantile and its value.
    package struct Quantile: Sendable, Hashable {
        package var quantile: Double
        package var value: Double
        package init(quantile: Double, value: Double) {
            self.quantile = quantile
            self.value = value
        }
    }

    package var startTimeUnixNano: UInt64
    package var timeUnixNano: UInt64
    package var count: UInt64
    package var sum: Double
    package var quantiles: [Quantile]
    package var flags: UInt32

    package init(
        startTimeUnixNano: UInt64 = 0,
        timeUnixNano: UInt64,
        count: UInt64,
        sum: Double,
        quantiles: [Quantile] = [],
        flags: UInt32 = 0
    ) {
        self.startTimeUnixNano = startTimeUnixNano
        self.timeUnixNano = timeUnixNano
        self.count = count
        self.sum = sum
        self.quantiles = quantiles
        self.flags = flags
    }
}

/// One data point of any metric kind.
package enum MetricPoint: Sendable, Hashable {
    case number(NumberPoint)
    case histogram(HistogramPoint)
    case exponentialHistogram(ExponentialHistogramPoint)
    case summary(SummaryPoint)

    /// The point's timestamp.
    package var timeUnixNano: UInt64 {
        switch self {
        case .number(let point): point.timeUnixNano
        case .histogram(let point): point.timeUnixNano
        case .exponentialHistogram(let point): point.timeUnixNano
        case .summary(let point): point.timeUnixNano
        }
    }
}

/// What identifies a series: metric name, point attributes and resource attributes.
package struct SeriesKey: Hashable, Sendable {
    package var metricName: String
    package var attributes: Attributes
    package var resource: Resource

    package init(metricName: String, attributes: Attributes, resource: Resource) {
        self.metricName = metricName
        self.attributes = attributes
        self.resource = resource
    }
}

/// A metric series and every point received for it, in arrival order.
package struct MetricSeries: Sendable, Hashable {
    package var key: SeriesKey
    package var kind: MetricKind
    package var unit: String
    package var description: String
    package var scope: InstrumentationScope
    package var points: [MetricPoint]
    /// The intake channel that first brought the series.
    package var channel: IntakeChannel

    package init(
        key: SeriesKey,
        kind: MetricKind,
        unit: String = "",
        description: String = "",
        scope: InstrumentationScope = .init(),
        points: [MetricPoint] = [],
        channel: IntakeChannel
    ) {
        self.key = key
        self.kind = kind
        self.unit = unit
        self.description = description
        self.scope = scope
        self.points = points
        self.channel = channel
    }

    /// The metric's name.
    package var name: String { key.metricName }
}
