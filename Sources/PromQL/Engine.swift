import Foundation
package import PromQLSyntax
package import Telemetry

/// Evaluates PromQL over a fixed set of series with Prometheus 2.x semantics: instant selectors look back
/// 5 minutes (closed at both ends) and skip staleness markers; range selectors take the samples in
/// `[t - range, t]`; subqueries evaluate at the multiples of their step (``defaultSubqueryStep`` when left
/// out); `@` pins a selector or subquery to a time, `@ start()`/`@ end()` to the query's ends; results of
/// functions and arithmetic lose their metric name; vector matching is one-to-one unless
/// `group_left`/`group_right` say otherwise, and ambiguous matches are errors, as in Prometheus.
///
/// Times are Int64 milliseconds; arithmetic on them wraps as Go's does (Prometheus is a Go program), so
/// times, offsets and `@` at the ends of the range give Prometheus' answers and never trap. Evaluation is
/// recursive in the expression's depth: run deep expressions on a ``PromQLEvaluationThread``.
package struct PromQLEngine: Sendable {
    /// Every series, sorted by labels.
    package let series: [Series]
    /// How far back an instant selector looks for a sample (Prometheus' `--query.lookback-delta`).
    package var lookbackDelta: Duration = .seconds(300)
    /// The most samples a range query may return (Prometheus' `--query.max-samples`), so that one query
    /// cannot take all the memory.
    package var maxSamples = 50_000_000
    /// Each series' labels without `__name__` (what functions and arithmetic return), by index in `series`.
    let labelsWithoutName: [Labels]
    /// Whether a series holds a staleness marker, by index (only those windows are copied and filtered).
    let hasStaleMarkers: [Bool]
    /// Indices into `series` by metric name, ascending (so in label order): the postings of `__name__`.
    let indicesByName: [String: [Int]]
    /// The step of subqueries that leave it out (`x[5m:]`): Prometheus' global evaluation interval, 1 m by default.
    package var defaultSubqueryStep: Duration = .seconds(60)
    /// Selections made once for all the steps of a range query, by their matchers.
    var preselected: [[LabelMatcher]: [Int]] = [:]
    /// The query's start and end (ms), what `@ start()` and `@ end()` name; an instant query's time for both.
    var queryStart: Int64 = 0
    var queryEnd: Int64 = 0
    /// Subquery steps already evaluated in this query (``SubqueryMemo``); nil outside a query.
    var subqueryMemo: SubqueryMemo?
    /// The groups aggregations found at earlier steps of a range query (``AggregationGroupsMemo``); nil otherwise.
    var aggregationGroups: AggregationGroupsMemo?

    package init(series: [Series]) {
        self.init(sortedSeries: series.sorted { $0.labels < $1.labels })
    }

    /// An engine over series already sorted by labels (as ``PrometheusView/series(from:namespace:)`` returns them).
    init(sortedSeries series: [Series]) {
        self.series = series
        var byName: [String: [Int]] = [:]
        var withoutName: [Labels] = []
        withoutName.reserveCapacity(series.count)
        var stale: [Bool] = []
        stale.reserveCapacity(series.count)
        for (index, one) in series.enumerated() {
            if let name = one.labels.metricName { byName[name, default: []].append(index) }
            withoutName.append(one.labels.droppingMetricName)
            stale.append(one.samples.contains { $0.isStale })
        }
        labelsWithoutName = withoutName
        hasStaleMarkers = stale
        indicesByName = byName
    }

    /// The store's metrics as Prometheus would hold them (``PrometheusView``).
    package init(store: TelemetryStore) {
        self.init(sortedSeries: PrometheusView.series(from: store.seriesSnapshot.series))
    }

    /// The newest sample's timestamp (ms), or nil without samples.
    package var latestTimestamp: Int64? { series.compactMap { $0.samples.last?.timestamp }.max() }
    /// The oldest sample's timestamp (ms), or nil without samples.
    package var earliestTimestamp: Int64? { series.compactMap { $0.samples.first?.timestamp }.min() }

    /// Evaluates `expression` at `time` (ms since the epoch).
    package func instantQuery(_ expression: PromQLExpression, at time: Int64) throws(PromQLError) -> QueryValue {
        // Evaluating is recursive in the expression's depth: a deep one (from a rule file, say) gets a large stack.
        if expression.height > LargeStack.shallow {
            return try LargeStack.run { Result { () throws(PromQLError) in try instantQueryHere(expression, at: time) } }.get()
        }
        return try instantQueryHere(expression, at: time)
    }

    private func instantQueryHere(_ expression: PromQLExpression, at time: Int64) throws(PromQLError) -> QueryValue {
        var scoped = self
        (scoped.queryStart, scoped.queryEnd, scoped.subqueryMemo) = (time, time, SubqueryMemo())
        return try scoped.evaluate(expression, at: time)
    }

    /// Evaluates `expression` at every step from `start` to `end` (ms), as `/api/v1/query_range` does: one
    /// series per label set, scalars as a series without labels.
    package func rangeQuery(_ expression: PromQLExpression, start: Int64, end: Int64, step: Int64) throws(PromQLError) -> [Series] {
        if expression.height > LargeStack.shallow {
            return try LargeStack.run { Result { () throws(PromQLError) in try rangeQueryHere(expression, start: start, end: end, step: step) } }.get()
        }
        return try rangeQueryHere(expression, start: start, end: end, step: step)
    }

    private func rangeQueryHere(_ expression: PromQLExpression, start: Int64, end: Int64, step: Int64) throws(PromQLError) -> [Series] {
        guard expression.type == .scalar || expression.type == .vector else {
            throw PromQLError(
                message:
                    "invalid expression type \"\(expression.type == .matrix ? "range vector" : "string")\" for range query, must be Scalar or instant Vector",
                offset: 0
            )
        }
        guard step > 0 else { throw PromQLError(message: "zero or negative query resolution step widths are not accepted", offset: 0) }
        guard end >= start else { throw PromQLError(message: "end timestamp must not be before start time", offset: 0) }
        let (span, overflow) = end.subtractingReportingOverflow(start)
        guard !overflow, span / step < 11_000 else {
            throw PromQLError(message: "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)", offset: 0)
        }
        // The series a selector picks do not depend on the time: select once, not at every step.
        var scoped = self
        (scoped.queryStart, scoped.queryEnd, scoped.subqueryMemo) = (start, end, SubqueryMemo())
        scoped.aggregationGroups = AggregationGroupsMemo()
        for selector in Self.selectors(in: expression) where scoped.preselected[selector.matchers] == nil {
            scoped.preselected[selector.matchers] = selection(selector.matchers)
        }
        var samplesByLabels: [Labels: [Sample]] = [:]
        var time = start
        var total = 0
        while time <= end {
            switch try scoped.evaluate(expression, at: time) {
            case .scalar(let value):
                samplesByLabels[.empty, default: []].append(Sample(timestamp: time, value: value))
                total += 1
            case .vector(let elements):
                for element in elements { samplesByLabels[element.labels, default: []].append(Sample(timestamp: time, value: element.value)) }
                total += elements.count
            case .string, .matrix: break
            }
            guard total <= maxSamples else {
                throw PromQLError(message: "query processing would load too many samples into memory in query execution (more than \(maxSamples))", offset: 0)
            }
            let (next, overflow) = time.addingReportingOverflow(step)
            if overflow { break }
            time = next
        }
        return samplesByLabels.map { Series(labels: $0.key, samples: $0.value) }.sorted { $0.labels < $1.labels }
    }

    /// The series every matcher selects.
    package func select(_ matchers: [LabelMatcher]) -> [Series] {
        selection(matchers).map { series[$0] }
    }

    /// Indices into `series` (ascending) of the series every matcher selects: a `__name__` equality picks the
    /// candidates from the name index, the other matchers filter them.
    func selection(_ matchers: [LabelMatcher]) -> [Int] {
        if let known = preselected[matchers] { return known }
        var remaining = matchers
        var candidates: [Int]?
        // An empty name matches series without one, which the index does not hold.
        if let position = matchers.firstIndex(where: { $0.name == "__name__" && $0.kind == .equal && !$0.value.isEmpty }) {
            let name = matchers[position].value
            candidates = indicesByName[name] ?? []
            // The index is keyed by Swift's canonical equivalence; Prometheus compares bytes. A non-ASCII name
            // keeps its matcher, which then compares exactly.
            if name.utf8.allSatisfy({ $0 < 0x80 }) { remaining.remove(at: position) }
        }
        if remaining.isEmpty { return candidates ?? Array(series.indices) }
        // Label values repeat: a costly matcher (an NFA or Swift's Regex) runs once per distinct value. The
        // verdicts are keyed by canonical equivalence (String's hashing) and kept with the exact value they
        // were found for, since canonically equivalent values can match differently.
        let costly = remaining.map(\.isCostly)
        var verdicts: [[String: (value: String, verdict: Bool)]] = Array(repeating: [:], count: remaining.count)
        var selected: [Int] = []
        // Read in place: copying a matcher for every series and matcher cost more than matching.
        remaining.withUnsafeBufferPointer { matchers in
            for index in candidates ?? Array(series.indices) {
                let labels = series[index].labels
                var accepted = true
                for position in matchers.indices {
                    let value = labels[matchers[position].name] ?? ""
                    let verdict: Bool
                    if costly[position] {
                        if let known = verdicts[position][value], known.value.utf8.elementsEqual(value.utf8) {
                            verdict = known.verdict
                        } else {
                            verdict = matchers[position].matches(value)
                            verdicts[position][value] = (value, verdict)
                        }
                    } else {
                        verdict = matchers[position].matches(value)
                    }
                    if !verdict {
                        accepted = false
                        break
                    }
                }
                if accepted { selected.append(index) }
            }
        }
        return selected
    }

    /// Whether the matchers pin one metric name, so that the series they select stay distinct without it.
    func selectsOneName(_ matchers: [LabelMatcher]) -> Bool {
        matchers.contains { $0.name == "__name__" && $0.kind == .equal && !$0.value.isEmpty }
    }

    /// Every vector and range selector in `expression`.
    static func selectors(in expression: PromQLExpression) -> [VectorSelector] {
        var found: [VectorSelector] = []
        var pending = [expression]
        while let next = pending.popLast() {
            switch next {
            case .vectorSelector(let selector), .matrixSelector(let selector, _): found.append(selector)
            default: pending += next.children
            }
        }
        return found
    }

    // MARK: evaluation

    func evaluate(_ expression: PromQLExpression, at time: Int64) throws(PromQLError) -> QueryValue {
        // Parentheses are skipped in a loop, and chains of left-associative operators folded in one: deep
        // nesting of either costs no stack.
        var expression = expression
        while case .parenthesized(let inner) = expression { expression = inner }
        switch expression {
        case .number(let value): return .scalar(value)
        case .string(let text): return .string(text)
        case .parenthesized(let inner): return try evaluate(inner, at: time)
        case .vectorSelector(let selector): return .vector(instantVector(selector, at: time))
        case .matrixSelector(let selector, let range): return .matrix(rangeVector(selector, range: range, at: time))
        case .subquery(let subquery): return .matrix(try evaluateSubquery(subquery, at: time).series)
        case .unaryMinus(let inner): return try negated(try evaluate(inner, at: time))
        case .call(let function, let arguments): return try PromQLFunctions.call(function, arguments: arguments, at: time, engine: self)
        case .aggregate(let aggregation): return .vector(try aggregate(aggregation, at: time))
        case .binary(let operation): return try evaluateChain(operation, at: time)
        }
    }

    // `evaluate` recurses once per level of the expression: what each case needs beyond the recursion is
    // done in the functions below, which keeps its stack frame (large in debug builds) small.

    /// `-value`: the metric name dropped.
    func negated(_ value: QueryValue) throws(PromQLError) -> QueryValue {
        switch value {
        case .scalar(let number): return .scalar(-number)
        case .vector(let elements): return .vector(try unique(elements.map { VectorElement(labels: $0.labels.droppingMetricName, value: -$0.value) }))
        default: throw PromQLError(message: "unary minus needs a scalar or an instant vector", offset: 0)
        }
    }

    /// A binary operation, with the chain of left-associative operations on its left folded in a loop.
    func evaluateChain(_ operation: BinaryOperation, at time: Int64) throws(PromQLError) -> QueryValue {
        var chain = [operation]
        var leftmost = operation.lhs
        while true {
            while case .parenthesized(let inner) = leftmost { leftmost = inner }
            guard case .binary(let inner) = leftmost else { break }
            chain.append(inner)
            leftmost = inner.lhs
        }
        var value = try evaluate(leftmost, at: time)
        for link in chain.reversed() { value = try binary(link, value, try evaluate(link.rhs, at: time)) }
        return value
    }

    /// The samples `selector` picks at `time`, each with its own timestamp (what `timestamp()` returns).
    func instantVectorWithTimestamps(_ selector: VectorSelector, at time: Int64) -> [(element: VectorElement, timestamp: Int64)] {
        let reference = selector.referenceTime(at: time, start: queryStart, end: queryEnd)
        let earliest = reference &- PromQLFormat.milliseconds(lookbackDelta)
        return selection(selector.matchers).compactMap { index in
            let candidate = series[index]
            guard let sample = latest(in: candidate.samples, atOrBefore: reference), sample.timestamp >= earliest, !sample.isStale else { return nil }
            return (VectorElement(labels: candidate.labels, value: sample.value), sample.timestamp)
        }
    }

    func instantVector(_ selector: VectorSelector, at time: Int64) -> [VectorElement] {
        instantVectorWithTimestamps(selector, at: time).map(\.element)
    }

    func rangeVector(_ selector: VectorSelector, range: Duration, at time: Int64) -> [Series] {
        var result: [Series] = []
        forEachWindow(selector, range: range, at: time) { index, samples in
            result.append(Series(labels: series[index].labels, samples: Array(samples)))
        }
        return result
    }

    /// Calls `body` with the index of each selected series and its samples in `[t - range, t]` (shifted by
    /// the offset), staleness markers left out, in series order; series without samples there are skipped.
    /// The samples are a slice of the series' own, copied only for series that hold staleness markers.
    func forEachWindow(_ selector: VectorSelector, range: Duration, at time: Int64, _ body: (Int, ArraySlice<Sample>) -> Void) {
        let end = selector.referenceTime(at: time, start: queryStart, end: queryEnd)
        let start = end &- PromQLFormat.milliseconds(range)
        for index in selection(selector.matchers) {
            let samples = series[index].samples
            let upper = end == .max ? samples.endIndex : firstIndex(in: samples[...], atOrAfter: end + 1)
            let lower = firstIndex(in: samples[..<upper], atOrAfter: start)
            guard lower < upper else { continue }
            if hasStaleMarkers[index] {
                let kept = samples[lower..<upper].filter { !$0.isStale }
                if !kept.isEmpty { body(index, kept[...]) }
            } else {
                body(index, samples[lower..<upper])
            }
        }
    }

    private func latest(in samples: [Sample], atOrBefore time: Int64) -> Sample? {
        let index = time == .max ? samples.endIndex : firstIndex(in: samples[...], atOrAfter: time + 1)
        return index > 0 ? samples[index - 1] : nil
    }

    /// Binary search: the index of the first sample at or after `time`.
    private func firstIndex(in samples: ArraySlice<Sample>, atOrAfter time: Int64) -> Int {
        var (low, high) = (samples.startIndex, samples.endIndex)
        while low < high {
            let middle = (low + high) / 2
            if samples[middle].timestamp < time { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Prometheus refuses vectors in which two elements have the same labels.
    func unique(_ elements: [VectorElement]) throws(PromQLError) -> [VectorElement] {
        var seen: Set<Labels> = []
        for element in elements where !seen.insert(element.labels).inserted {
            throw PromQLError(message: "vector cannot contain metrics with the same labelset (\(element.labels))", offset: 0)
        }
        return elements
    }

    func vector(_ expression: PromQLExpression, at time: Int64) throws(PromQLError) -> [VectorElement] {
        guard case .vector(let elements) = try evaluate(expression, at: time) else {
            throw PromQLError(message: "expected an instant vector from \(expression)", offset: 0)
        }
        return elements
    }

    func scalar(_ expression: PromQLExpression, at time: Int64) throws(PromQLError) -> Double {
        guard case .scalar(let value) = try evaluate(expression, at: time) else {
            throw PromQLError(message: "expected a scalar from \(expression)", offset: 0)
        }
        return value
    }

    func string(_ expression: PromQLExpression, at time: Int64) throws(PromQLError) -> String {
        guard case .string(let value) = try evaluate(expression, at: time) else {
            throw PromQLError(message: "expected a string from \(expression)", offset: 0)
        }
        return value
    }

    // MARK: aggregation

    func aggregate(_ aggregation: Aggregation, at time: Int64) throws(PromQLError) -> [VectorElement] {
        if aggregationGroups != nil, let fused = try aggregateRangeFunction(aggregation, at: time) { return fused }
        return try aggregate(aggregation, try vector(aggregation.expression, at: time), at: time)
    }

    /// `aggregation` over its evaluated `input`.
    func aggregate(_ aggregation: Aggregation, _ input: [VectorElement], at time: Int64) throws(PromQLError) -> [VectorElement] {
        var input = input
        var parameter: Double?
        var grouping = aggregation.grouping
        if aggregation.operation == "count_values", let expression = aggregation.parameter {
            // Each value becomes a label, grouped on as if named in `by`.
            guard case .string(let valueLabel) = try evaluate(expression, at: time) else {
                throw PromQLError(message: "count_values needs a label name (a string) as its parameter", offset: 0)
            }
            guard PrometheusNames.isLabelName(valueLabel) else { throw PromQLError(message: "invalid label name \"\(valueLabel)\"", offset: 0) }
            switch grouping {
            case nil: grouping = .by([valueLabel])
            case .by(let names): grouping = .by(names + [valueLabel])
            case .without: break
            }
            input = input.map { VectorElement(labels: $0.labels.setting(valueLabel, PromQLFormat.number($0.value)), value: $0.value) }
        } else if let expression = aggregation.parameter {
            parameter = try scalar(expression, at: time)
        }
        var k = 0
        if aggregation.operation == "topk" || aggregation.operation == "bottomk" {
            // Prometheus refuses a k that does not fit Int64, at every step, whatever the input.
            let value = parameter ?? .nan
            guard value >= -9_223_372_036_854_775_808.0, value <= 9_223_372_036_854_774_784.0 else {
                throw PromQLError(message: "Scalar value \(PromQLFormat.number(value)) overflows int64", offset: 0)
            }
            k = Int(clamping: GoConversion.int64(value))
            if k < 1 { return [] }
        }
        let groupLabels = { (labels: Labels) in Self.groupingKey(labels, grouping) }
        // Groups in order of first appearance.
        let (groupOfElement, keys): ([Int], [Labels])
        if let memo = aggregationGroups, aggregation.operation != "count_values" {
            (groupOfElement, keys) = memo.groups(of: input, in: aggregation, key: groupLabels)
        } else {
            var fresh = AggregationGroupsMemo.Groups()
            (groupOfElement, keys) = fresh.assign(input, key: groupLabels)
        }
        var order: [Labels] = []
        var groups: [[VectorElement]] = []
        var slotOfGroup = [Int](repeating: -1, count: keys.count)
        for (element, group) in zip(input, groupOfElement) {
            if slotOfGroup[group] >= 0 {
                groups[slotOfGroup[group]].append(element)
            } else {
                slotOfGroup[group] = order.count
                order.append(keys[group])
                groups.append([element])
            }
        }
        var result: [VectorElement] = []
        for (position, key) in order.enumerated() {
            let members = groups[position]
            switch aggregation.operation {
            case "topk", "bottomk":
                let top = aggregation.operation == "topk"
                // NaN sorts last either way, as Prometheus' heaps put it.
                let sorted = members.sorted { lhs, rhs in
                    if lhs.value.isNaN { return false }
                    if rhs.value.isNaN { return true }
                    return top ? lhs.value > rhs.value : lhs.value < rhs.value
                }
                result += sorted.prefix(k)
            case "count_values":
                result.append(VectorElement(labels: key, value: Double(members.count)))
            default:
                guard let value = Self.aggregatedValue(aggregation.operation, members.map(\.value), parameter: parameter) else {
                    throw PromQLError(message: "unknown aggregation \(aggregation.operation)", offset: 0)
                }
                result.append(VectorElement(labels: key, value: value))
            }
        }
        return result
    }

    /// The labels of the group `labels` falls in.
    static func groupingKey(_ labels: Labels, _ grouping: Aggregation.Grouping?) -> Labels {
        switch grouping {
        case nil: .empty
        case .by(let names): labels.keeping(names)
        case .without(let names): labels.removing(names + ["__name__"])
        }
    }

    /// The value of one group of an aggregation that reduces values to one (every one but `topk`, `bottomk`
    /// and `count_values`), or nil for any other operation. `values` is not empty.
    static func aggregatedValue(_ operation: String, _ values: [Double], parameter: Double?) -> Double? {
        switch operation {
        case "sum": return values.dropFirst().reduce(values[0], +)
        case "avg": return PromQLFunctions.incrementalMean(values)
        case "count": return Double(values.count)
        case "group": return 1
        case "min", "max":
            var extreme = values[0]
            for value in values.dropFirst() where extreme.isNaN || (operation == "max" ? extreme < value : extreme > value) {
                extreme = value
            }
            return extreme
        case "stddev", "stdvar":
            var (count, mean, squares) = (0.0, 0.0, 0.0)
            for value in values {
                count += 1
                let delta = value - mean
                mean += delta / count
                squares += delta * (value - mean)
            }
            let variance = squares / count
            return operation == "stddev" ? variance.squareRoot() : variance
        case "quantile": return quantile(parameter ?? .nan, values)
        default: return nil
        }
    }

    /// Prometheus' `quantile`: linear interpolation between the closest ranks; ±Inf outside [0, 1].
    static func quantile(_ q: Double, _ values: [Double]) -> Double {
        guard !values.isEmpty, !q.isNaN else { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        // Go's sort.Float64s: NaN first.
        let sorted = values.sorted { $0.isNaN ? !$1.isNaN : $0 < $1 }
        let rank = q * Double(sorted.count - 1)
        let lower = max(0, Int(rank.rounded(.down)))
        let upper = min(sorted.count - 1, lower + 1)
        let weight = rank - rank.rounded(.down)
        return sorted[lower] * (1 - weight) + sorted[upper] * weight
    }

    // MARK: binary operators

    /// `operation` applied to its evaluated sides.
    func binary(_ operation: BinaryOperation, _ lhs: QueryValue, _ rhs: QueryValue) throws(PromQLError) -> QueryValue {
        switch (lhs, rhs) {
        case (.scalar(let left), .scalar(let right)):
            let (value, keep) = Self.apply(operation.op, left, right)
            return .scalar(operation.op.isComparison ? (keep ? 1 : 0) : value)
        case (.vector(let elements), .scalar(let right)):
            return .vector(try unique(scalarOperation(operation, elements, scalar: right, scalarOnLeft: false)))
        case (.scalar(let left), .vector(let elements)):
            return .vector(try unique(scalarOperation(operation, elements, scalar: left, scalarOnLeft: true)))
        case (.vector(let left), .vector(let right)):
            return .vector(try vectorOperation(operation, left, right))
        default:
            throw PromQLError(message: "binary expression must contain only scalar and instant vector types", offset: 0)
        }
    }

    private func scalarOperation(_ operation: BinaryOperation, _ elements: [VectorElement], scalar: Double, scalarOnLeft: Bool) -> [VectorElement] {
        elements.compactMap { element in
            let (left, right) = scalarOnLeft ? (scalar, element.value) : (element.value, scalar)
            var (value, keep) = Self.apply(operation.op, left, right)
            // A comparison keeps the vector's value, whichever side it is on.
            if operation.op.isComparison { value = element.value }
            if operation.returnBool {
                value = keep ? 1 : 0
                keep = true
            }
            guard keep else { return nil }
            let labels = operation.dropsMetricName ? element.labels.droppingMetricName : element.labels
            return VectorElement(labels: labels, value: value)
        }
    }

    private func signature(_ labels: Labels, _ matching: VectorMatching?) -> Labels {
        guard let matching else { return labels.droppingMetricName }
        return matching.on ? labels.keeping(matching.labels) : labels.removing(matching.labels + ["__name__"])
    }

    private func vectorOperation(_ operation: BinaryOperation, _ left: [VectorElement], _ right: [VectorElement]) throws(PromQLError) -> [VectorElement] {
        let matching = operation.matching
        switch operation.op {
        case .and:
            let signatures = Set(right.map { signature($0.labels, matching) })
            return left.filter { signatures.contains(signature($0.labels, matching)) }
        case .unless:
            let signatures = Set(right.map { signature($0.labels, matching) })
            return left.filter { !signatures.contains(signature($0.labels, matching)) }
        case .or:
            let signatures = Set(left.map { signature($0.labels, matching) })
            return left + right.filter { !signatures.contains(signature($0.labels, matching)) }
        default: break
        }
        let cardinality = matching?.cardinality ?? .oneToOne
        // The "one" side is indexed; the "many" side (or lhs, one-to-one) drives.
        let (many, one) = cardinality == .oneToMany ? (right, left) : (left, right)
        var oneBySignature: [Labels: VectorElement] = [:]
        for element in one {
            let key = signature(element.labels, matching)
            if let existing = oneBySignature[key] {
                throw PromQLError(
                    message:
                        "found duplicate series for the match group \(key) on the \(cardinality == .oneToMany ? "left" : "right") hand-side of the operation: [\(existing.labels), \(element.labels)];many-to-many matching not allowed: matching labels must be unique on one side",
                    offset: 0
                )
            }
            oneBySignature[key] = element
        }
        var matchedSignatures: Set<Labels> = []
        var resultLabels: Set<Labels> = []
        var result: [VectorElement] = []
        for element in many {
            let key = signature(element.labels, matching)
            guard let partner = oneBySignature[key] else { continue }
            if cardinality == .oneToOne, !matchedSignatures.insert(key).inserted {
                throw PromQLError(message: "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)", offset: 0)
            }
            let (leftValue, rightValue) = cardinality == .oneToMany ? (partner.value, element.value) : (element.value, partner.value)
            var (value, keep) = Self.apply(operation.op, leftValue, rightValue)
            if operation.returnBool {
                value = keep ? 1 : 0
                keep = true
            }
            guard keep else { continue }
            var labels = element.labels
            if operation.dropsMetricName { labels = labels.droppingMetricName }
            if cardinality == .oneToOne, let matching {
                labels = matching.on ? labels.keeping(matching.labels) : labels.removing(matching.labels)
            }
            for name in matching?.include ?? [] {
                if let copied = partner.labels[name] { labels = labels.setting(name, copied) } else { labels = labels.removing([name]) }
            }
            if cardinality != .oneToOne, !resultLabels.insert(labels).inserted {
                throw PromQLError(message: "multiple matches for labels: grouping labels must ensure unique matches", offset: 0)
            }
            result.append(VectorElement(labels: labels, value: value))
        }
        return result
    }

    /// An operator on two numbers: the value, and for comparisons whether it holds.
    static func apply(_ op: BinaryOperator, _ left: Double, _ right: Double) -> (value: Double, keep: Bool) {
        switch op {
        case .add: (left + right, true)
        case .subtract: (left - right, true)
        case .multiply: (left * right, true)
        case .divide: (left / right, true)
        case .modulo: (fmod(left, right), true)
        case .power: (pow(left, right), true)
        case .atan2: (Foundation.atan2(left, right), true)
        case .equal: (left, left == right)
        case .notEqual: (left, left != right)
        case .greater: (left, left > right)
        case .less: (left, left < right)
        case .greaterOrEqual: (left, left >= right)
        case .lessOrEqual: (left, left <= right)
        case .and, .or, .unless: (left, true)
        }
    }
}

extension BinaryOperation {
    /// Whether the result loses the metric name: arithmetic does, and `bool` comparisons; filtering
    /// comparisons keep it, and so does `atan2` (Prometheus 2.42 leaves it out of its arithmetic list).
    var dropsMetricName: Bool {
        switch op {
        case .add, .subtract, .multiply, .divide, .modulo, .power: true
        default: returnBool
        }
    }
}
