import Foundation
package import PromQLSyntax

/// Prometheus 2.42's PromQL functions, with its arithmetic: the range functions in `RangeFunctions.swift`,
/// the date functions in `DateFunctions.swift`, `label_replace`/`label_join` in `LabelFunctions.swift`, the
/// rest here.
package enum PromQLFunctions {
    /// Every function by name, with its signature.
    package static var all: [String: PromQLFunctionSignature] { PromQLFunctionSignature.all }

    static let mathFunctions: [String: @Sendable (Double) -> Double] = [
        "abs": { Swift.abs($0) }, "ceil": { $0.rounded(.up) }, "floor": { $0.rounded(.down) }, "sqrt": { $0.squareRoot() },
        "exp": { Foundation.exp($0) }, "ln": { Foundation.log($0) }, "log2": { Foundation.log2($0) }, "log10": { Foundation.log10($0) },
        // Go's sgn: the sign of a number, zero and NaN as they are.
        "sgn": { $0 < 0 ? -1 : $0 > 0 ? 1 : $0 },
        "deg": { $0 * 180 / Double.pi }, "rad": { $0 * Double.pi / 180 },
        "sin": { Foundation.sin($0) }, "cos": { Foundation.cos($0) }, "tan": { Foundation.tan($0) },
        "asin": { Foundation.asin($0) }, "acos": { Foundation.acos($0) }, "atan": { Foundation.atan($0) },
        "sinh": { Foundation.sinh($0) }, "cosh": { Foundation.cosh($0) }, "tanh": { Foundation.tanh($0) },
        "asinh": { Foundation.asinh($0) }, "acosh": { Foundation.acosh($0) }, "atanh": { Foundation.atanh($0) },
    ]

    /// `name(arguments)` evaluated at `time`; the parser has checked the arguments' number and types.
    static func call(_ name: String, arguments: [PromQLExpression], at time: Int64, engine: PromQLEngine) throws(PromQLError) -> QueryValue {
        // A thin dispatcher: it is on the recursive path of evaluation, and its stack frame stays small.
        if let kind = RangeFunction(rawValue: name) { return .vector(try rangeFunction(kind, arguments: arguments, at: time, engine: engine)) }
        if let field = DateField(rawValue: name) { return try dateFunction(field, arguments: arguments, at: time, engine: engine) }
        if let function = mathFunctions[name] { return try math(function, try engine.vector(arguments[0], at: time), engine: engine) }
        if ["clamp", "clamp_min", "clamp_max", "round"].contains(name) {
            return try clampOrRound(name, try engine.vector(arguments[0], at: time), arguments: arguments, at: time, engine: engine)
        }
        if name == "label_replace" || name == "label_join" {
            return try labelFunction(name, try engine.vector(arguments[0], at: time), arguments: arguments, at: time, engine: engine)
        }
        return try otherFunction(name, arguments: arguments, at: time, engine: engine)
    }

    /// A math function applied to each element, the metric name dropped.
    static func math(_ function: (Double) -> Double, _ elements: [VectorElement], engine: PromQLEngine) throws(PromQLError) -> QueryValue {
        .vector(try engine.unique(elements.map { VectorElement(labels: $0.labels.droppingMetricName, value: function($0.value)) }))
    }

    /// A date field of each element's value (or of the evaluation time without an argument).
    static func dateFunction(_ field: DateField, arguments: [PromQLExpression], at time: Int64, engine: PromQLEngine) throws(PromQLError) -> QueryValue {
        let elements = arguments.isEmpty ? [VectorElement(labels: .empty, value: Double(time) / 1000)] : try engine.vector(arguments[0], at: time)
        return .vector(try engine.unique(elements.map { VectorElement(labels: $0.labels.droppingMetricName, value: field.value(unixSeconds: $0.value)) }))
    }

    /// `label_replace`/`label_join` over their evaluated vector.
    static func labelFunction(
        _ name: String,
        _ elements: [VectorElement],
        arguments: [PromQLExpression],
        at time: Int64,
        engine: PromQLEngine
    ) throws(PromQLError) -> QueryValue {
        let strings = try arguments.dropFirst().map { (argument) throws(PromQLError) in try engine.string(argument, at: time) }
        let labelled =
            name == "label_replace"
            ? try labelReplace(elements, destination: strings[0], replacement: strings[1], source: strings[2], pattern: strings[3])
            : try labelJoin(elements, destination: strings[0], separator: strings[1], sources: Array(strings.dropFirst(2)))
        return .vector(try engine.unique(labelled))
    }

    /// `clamp`, `clamp_min`, `clamp_max` and `round` over their evaluated vector, the metric name dropped.
    static func clampOrRound(
        _ name: String,
        _ elements: [VectorElement],
        arguments: [PromQLExpression],
        at time: Int64,
        engine: PromQLEngine
    ) throws(PromQLError) -> QueryValue {
        switch name {
        case "clamp", "clamp_min", "clamp_max":
            let bounds = try arguments.dropFirst().map { (argument) throws(PromQLError) in try engine.scalar(argument, at: time) }
            let (low, high): (Double, Double) =
                switch name {
                case "clamp": (bounds[0], bounds[1])
                case "clamp_min": (bounds[0], .infinity)
                default: (-.infinity, bounds[0])
                }
            if name == "clamp", high < low { return .vector([]) }
            return .vector(
                try engine.unique(
                    elements.map {
                        VectorElement(labels: $0.labels.droppingMetricName, value: Foundation.fmax(low, Foundation.fmin(high, $0.value)))
                    }
                )
            )
        case "round":
            let toNearest = arguments.count > 1 ? try engine.scalar(arguments[1], at: time) : 1
            // Prometheus rounds half up, via the inverse to keep precision.
            let inverse = 1 / toNearest
            return .vector(
                try engine.unique(
                    elements.map {
                        VectorElement(labels: $0.labels.droppingMetricName, value: Foundation.floor($0.value * inverse + 0.5) / inverse)
                    }
                )
            )
        default:
            throw PromQLError(message: "unknown function with name \"\(name)\"", offset: 0)
        }
    }

    /// The functions that are neither range, date, math nor label functions.
    static func otherFunction(_ name: String, arguments: [PromQLExpression], at time: Int64, engine: PromQLEngine) throws(PromQLError) -> QueryValue {
        switch name {
        case "histogram_quantile":
            let q = try engine.scalar(arguments[0], at: time)
            return .vector(histogramQuantile(q, try engine.vector(arguments[1], at: time)))
        case "histogram_count", "histogram_sum", "histogram_fraction":
            // These read native histogram samples only, and skip float samples as Prometheus does; OTelBench
            // holds float samples only (classic histograms are `_bucket` series), so nothing is selected.
            for argument in arguments { _ = try engine.evaluate(argument, at: time) }
            return .vector([])
        case "scalar":
            let elements = try engine.vector(arguments[0], at: time)
            return .scalar(elements.count == 1 ? elements[0].value : .nan)
        case "vector":
            return .vector([VectorElement(labels: .empty, value: try engine.scalar(arguments[0], at: time))])
        case "time":
            return .scalar(Double(time) / 1000)
        case "pi":
            return .scalar(Double.pi)
        case "absent":
            guard try engine.vector(arguments[0], at: time).isEmpty else { return .vector([]) }
            return .vector([VectorElement(labels: absentLabels(arguments[0]), value: 1)])
        case "timestamp":
            // A selector's samples carry their own timestamps; anything else is as of the evaluation time.
            if case .vectorSelector(let selector) = arguments[0].unwrapped {
                let elements = engine.instantVectorWithTimestamps(selector, at: time).map {
                    VectorElement(labels: $0.element.labels.droppingMetricName, value: Double($0.timestamp) / 1000)
                }
                return .vector(try engine.unique(elements))
            }
            let elements = try engine.vector(arguments[0], at: time)
            return .vector(try engine.unique(elements.map { VectorElement(labels: $0.labels.droppingMetricName, value: Double(time) / 1000) }))
        case "sort", "sort_desc":
            return .vector(sorted(try engine.vector(arguments[0], at: time), descending: name == "sort_desc"))
        default:
            throw PromQLError(message: "unknown function with name \"\(name)\"", offset: 0)
        }
    }

    /// The labels `absent(x)` and `absent_over_time(x[5m])` give their one element: the selector's equality
    /// matchers on labels other than the name, except labels matched more than once.
    static func absentLabels(_ argument: PromQLExpression) -> Labels {
        let selector: VectorSelector
        switch argument.unwrapped {
        case .vectorSelector(let one), .matrixSelector(let one, _): selector = one
        default: return .empty
        }
        var seen: [String: Int] = [:]
        for matcher in selector.matchers where matcher.name != "__name__" { seen[matcher.name, default: 0] += 1 }
        var labels: [String: String] = [:]
        for matcher in selector.matchers where matcher.name != "__name__" && matcher.kind == .equal && seen[matcher.name] == 1 {
            labels[matcher.name] = matcher.value
        }
        return Labels(labels)
    }

    /// `sort`/`sort_desc`: by value, NaN last either way; labels (and the name) kept.
    static func sorted(_ elements: [VectorElement], descending: Bool) -> [VectorElement] {
        elements.sorted { lhs, rhs in
            if lhs.value.isNaN { return false }
            if rhs.value.isNaN { return true }
            return descending ? lhs.value > rhs.value : lhs.value < rhs.value
        }
    }

    /// `rate`, `increase` and `delta` as Prometheus 2.x computes them (promql/functions.go `extrapolatedRate`):
    /// counter resets add the value before the reset; the result is extrapolated to the range's edges when
    /// the first/last samples are within 1.1 average intervals of them (else by half an interval), and for
    /// counters not below zero; nil with fewer than two samples.
    package static func extrapolatedRate<Samples: BidirectionalCollection<Sample>>(
        _ samples: Samples,
        start: Int64,
        end: Int64,
        isCounter: Bool,
        isRate: Bool
    ) -> Double? {
        guard samples.count >= 2, let first = samples.first, let last = samples.last else { return nil }
        var result = last.value - first.value
        if isCounter {
            var previous = 0.0
            for sample in samples {
                if sample.value < previous { result += previous }
                previous = sample.value
            }
        }
        var durationToStart = Double(first.timestamp - start) / 1000
        let durationToEnd = Double(end - last.timestamp) / 1000
        let sampledInterval = Double(last.timestamp - first.timestamp) / 1000
        let averageInterval = sampledInterval / Double(samples.count - 1)
        if isCounter, result > 0, first.value >= 0 {
            let durationToZero = sampledInterval * (first.value / result)
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        let threshold = averageInterval * 1.1
        var extrapolateTo = sampledInterval
        extrapolateTo += durationToStart < threshold ? durationToStart : averageInterval / 2
        extrapolateTo += durationToEnd < threshold ? durationToEnd : averageInterval / 2
        var factor = extrapolateTo / sampledInterval
        if isRate { factor /= Double(end - start) / 1000 }
        return result * factor
    }

    /// `irate`/`idelta`: from the last two samples; nil with fewer, or when they share a timestamp.
    static func instantValue(_ samples: ArraySlice<Sample>, isRate: Bool) -> Double? {
        guard samples.count >= 2 else { return nil }
        let (previous, last) = (samples[samples.endIndex - 2], samples[samples.endIndex - 1])
        var result = last.value - previous.value
        if isRate, last.value < previous.value { result = last.value }
        let interval = last.timestamp - previous.timestamp
        guard interval != 0 else { return nil }
        return isRate ? result / (Double(interval) / 1000) : result
    }

    /// Prometheus 2.x's mean for `avg` and `avg_over_time`: incremental, each value divided by the count
    /// before adding (no overflow), an infinite mean kept against finite values.
    static func incrementalMean(_ values: [Double]) -> Double {
        var mean = values[0]
        for (index, value) in values.enumerated().dropFirst() {
            let count = Double(index + 1)
            if mean.isInfinite {
                if value.isInfinite, (mean > 0) == (value > 0) { continue }
                if !value.isInfinite, !value.isNaN { continue }
            }
            mean += value / count - mean / count
        }
        return mean
    }

    /// `histogram_quantile(q, v)`: `v`'s `_bucket` series grouped by their labels without `le` (and name),
    /// each group's quantile by ``bucketQuantile(_:buckets:)``. Series whose `le` is missing or not a number
    /// are ignored, as in Prometheus.
    static func histogramQuantile(_ q: Double, _ elements: [VectorElement]) -> [VectorElement] {
        var order: [Labels] = []
        var groups: [Labels: [Bucket]] = [:]
        for element in elements {
            guard let le = element.labels["le"], let bound = parseBound(le) else { continue }
            let key = element.labels.removing(["le", "__name__"])
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(Bucket(upperBound: bound, count: element.value))
        }
        return order.map { VectorElement(labels: $0, value: bucketQuantile(q, buckets: groups[$0]!)) }
    }

    static func parseBound(_ text: String) -> Double? {
        switch text.lowercased() {
        case "+inf", "inf": .infinity
        case "-inf": -.infinity
        case "nan": .nan
        default: Double(text)
        }
    }

    /// One cumulative bucket: observations `<= upperBound`.
    package struct Bucket: Sendable, Hashable {
        package var upperBound: Double
        package var count: Double
        package init(upperBound: Double, count: Double) {
            self.upperBound = upperBound
            self.count = count
        }
    }

    /// Prometheus 2.x's `bucketQuantile` (promql/quantile.go), step for step: sorted by bound; NaN without a
    /// `+Inf` bucket; buckets with one bound merged; counts forced monotonic; NaN with fewer than two buckets
    /// or no observations; the rank's bucket found among the finite ones; `+Inf` answers with the highest
    /// finite bound, a first bucket with a bound ≤ 0 with that bound; otherwise linear interpolation, the
    /// lowest bucket starting at 0. -Inf/+Inf for q < 0 / q > 1.
    package static func bucketQuantile(_ q: Double, buckets unsorted: [Bucket]) -> Double {
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        let sorted = unsorted.sorted { $0.upperBound < $1.upperBound }
        guard let highest = sorted.last, highest.upperBound == .infinity else { return .nan }
        var buckets: [Bucket] = []
        for bucket in sorted {
            if let last = buckets.last, last.upperBound == bucket.upperBound {
                buckets[buckets.count - 1].count += bucket.count
            } else {
                buckets.append(bucket)
            }
        }
        var maximum = -Double.infinity
        for index in buckets.indices {
            if buckets[index].count > maximum {
                maximum = buckets[index].count
            } else if buckets[index].count < maximum {
                buckets[index].count = maximum
            }
        }
        guard buckets.count >= 2 else { return .nan }
        let observations = buckets[buckets.count - 1].count
        guard observations != 0 else { return .nan }
        var rank = q * observations
        let finite = buckets.count - 1
        // sort.Search over the finite buckets: the first whose count reaches the rank.
        var (low, high) = (0, finite)
        while low < high {
            let middle = (low + high) / 2
            if buckets[middle].count >= rank { high = middle } else { low = middle + 1 }
        }
        let index = low
        if index == finite { return buckets[finite - 1].upperBound }
        if index == 0, buckets[0].upperBound <= 0 { return buckets[0].upperBound }
        var start = 0.0
        let end = buckets[index].upperBound
        var count = buckets[index].count
        if index > 0 {
            start = buckets[index - 1].upperBound
            count -= buckets[index - 1].count
            rank -= buckets[index - 1].count
        }
        return start + (end - start) * (rank / count)
    }
}
