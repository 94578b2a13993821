/// OTLP `AggregationTemporality`, with OTLP's integer values.
public enum AggregationTemporality: Int, Sendable, Hashable {
    case unspecified = 0
    case delta = 1
    case cumulative = 2
}

/// The type of a metric, as OTLP's `Metric.data` oneof says.
public enum MetricKind: Sendable, Hashable, CustomStringConvertible {
    case gauge
    case sum(isMonotonic: Bool, temporality: AggregationTemporality)
    case histogram(temporality: AggregationTemporality)
    case exponentialHistogram(temporality: AggregationTemporality)
    case summary

    /// `gauge`, `sum`, `histogram`, `exponential_histogram` or `summary`.
    public var name: String {
        switch self {
        case .gauge: "gauge"
        case .sum: "sum"
        case .histogram: "histogram"
        case .exponentialHistogram: "exponential_histogram"
        case .summary: "summary"
        }
    }

    public var description: String {
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
public enum NumberValue: Sendable, Hashable {
    case int(Int64)
    case double(Double)

    /// The value as a double, as Prometheus stores every sample.
    public var doubleValue: Double {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        }
    }
}

/// One gauge or sum data point.
public struct NumberPoint: Sendable, Hashable {
    public var startTimeUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var value: NumberValue
    public var flags: UInt32

    public init(startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64, value: NumberValue, flags: UInt32 = 0) {
        self.startTimeUnixNano = startTimeUnixNano
        self.timeUnixNano = timeUnixNano
        self.value = value
        self.flags = flags
    }
}

/// One explicit-bucket histogram data point.
public struct HistogramPoint: Sendable, Hashable {
    public var startTimeUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var count: UInt64
    public var sum: Double?
    public var min: Double?
    public var max: Double?
    /// Upper bounds of every bucket but the last (which is `+Inf`).
    public var explicitBounds: [Double]
    /// One count per bucket: `explicitBounds.count + 1` of them (non-cumulative, as OTLP sends them).
    public var bucketCounts: [UInt64]
    public var flags: UInt32

    public init(
        startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64, count: UInt64, sum: Double? = nil,
        min: Double? = nil, max: Double? = nil, explicitBounds: [Double], bucketCounts: [UInt64], flags: UInt32 = 0
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
public struct ExponentialHistogramPoint: Sendable, Hashable {
    /// One side (positive or negative) of the buckets.
    public struct Buckets: Sendable, Hashable {
        public var offset: Int32
        public var bucketCounts: [UInt64]
        public init(offset: Int32 = 0, bucketCounts: [UInt64] = []) {
            self.offset = offset
            self.bucketCounts = bucketCounts
        }
    }

    public var startTimeUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var count: UInt64
    public var sum: Double?
    public var min: Double?
    public var max: Double?
    public var scale: Int32
    public var zeroCount: UInt64
    public var zeroThreshold: Double
    public var positive: Buckets
    public var negative: Buckets
    public var flags: UInt32

    public init(
        startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64, count: UInt64, sum: Double? = nil,
        min: Double? = nil, max: Double? = nil, scale: Int32, zeroCount: UInt64 = 0, zeroThreshold: Double = 0,
        positive: Buckets = .init(), negative: Buckets = .init(), flags: UInt32 = 0
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
public struct SummaryPoint: Sendable, Hashable {
    /// One quantile and its value.
    public struct Quantile: Sendable, Hashable {
        public var quantile: Double
        public var value: Double
        public init(quantile: Double, value: Double) {
            self.quantile = quantile
            self.value = value
        }
    }

    public var startTimeUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var count: UInt64
    public var sum: Double
    public var quantiles: [Quantile]
    public var flags: UInt32

    public init(
        startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64, count: UInt64, sum: Double,
        quantiles: [Quantile] = [], flags: UInt32 = 0
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
public enum MetricPoint: Sendable, Hashable {
    case number(NumberPoint)
    case histogram(HistogramPoint)
    case exponentialHistogram(ExponentialHistogramPoint)
    case summary(SummaryPoint)

    /// The point's timestamp.
    public var timeUnixNano: UInt64 {
        switch self {
        case .number(let point): point.timeUnixNano
        case .histogram(let point): point.timeUnixNano
        case .exponentialHistogram(let point): point.timeUnixNano
        case .summary(let point): point.timeUnixNano
        }
    }
}

/// What identifies a series: metric name, point attributes and resource attributes.
public struct SeriesKey: Hashable, Sendable {
    public var metricName: String
    public var attributes: Attributes
    public var resource: Resource

    public init(metricName: String, attributes: Attributes, resource: Resource) {
        self.metricName = metricName
        self.attributes = attributes
        self.resource = resource
    }
}

/// A metric series and every point received for it, in arrival order.
public struct MetricSeries: Sendable, Hashable {
    public var key: SeriesKey
    public var kind: MetricKind
    public var unit: String
    public var description: String
    public var scope: InstrumentationScope
    public var points: [MetricPoint]
    /// The intake channel that first brought the series.
    public var channel: IntakeChannel

    public init(
        key: SeriesKey, kind: MetricKind, unit: String = "", description: String = "",
        scope: InstrumentationScope = .init(), points: [MetricPoint] = [], channel: IntakeChannel
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
    public var name: String { key.metricName }
}
