package import PromQLSyntax

extension PromQLEngine {
    /// A subquery's series and the window they cover, at evaluation time `time`.
    struct SubqueryResult {
        var series: [Series]
        /// The window `[start, end]` (ms): the range before the `@` time (or `time`) less the offset.
        var start: Int64
        var end: Int64
    }

    /// Evaluates `subquery.expression` at every multiple of the step (absolute, as Prometheus aligns them)
    /// in `[end - range, end]`, where `end` is the `@` time (or `time`) less the offset: one series per label
    /// set, each with a sample per step it had a value at.
    func evaluateSubquery(_ subquery: Subquery, at time: Int64) throws(PromQLError) -> SubqueryResult {
        let end = (subquery.at?.time(start: queryStart, end: queryEnd) ?? time) &- PromQLFormat.milliseconds(subquery.offset)
        let start = end &- PromQLFormat.milliseconds(subquery.range)
        let step = PromQLFormat.milliseconds(subquery.step ?? defaultSubqueryStep)
        guard step > 0 else { throw PromQLError(message: "zero or negative subquery step", offset: 0) }
        // The first multiple of the step at or after the start (Go's division truncates toward zero).
        var first = step * (start / step)
        if first < start {
            let (next, overflow) = first.addingReportingOverflow(step)
            guard !overflow else { return SubqueryResult(series: [], start: start, end: end) }
            first = next
        }
        guard first <= end else { return SubqueryResult(series: [], start: start, end: end) }
        let (span, overflow) = end.subtractingReportingOverflow(first)
        guard !overflow, span / step < Int64(maxSamples) else {
            throw PromQLError(message: "query processing would load too many samples into memory in query execution (more than \(maxSamples))", offset: 0)
        }
        var order: [Labels] = []
        var samplesByLabels: [Labels: [Sample]] = [:]
        var total = 0
        var stepTime = first
        while stepTime <= end {
            let elements = try subqueryStep(subquery, at: stepTime)
            for element in elements {
                if samplesByLabels[element.labels] == nil { order.append(element.labels) }
                samplesByLabels[element.labels, default: []].append(Sample(timestamp: stepTime, value: element.value))
            }
            total += elements.count
            guard total <= maxSamples else {
                throw PromQLError(message: "query processing would load too many samples into memory in query execution (more than \(maxSamples))", offset: 0)
            }
            let (next, overflow) = stepTime.addingReportingOverflow(step)
            if overflow { break }
            stepTime = next
        }
        let series = order.sorted().map { Series(labels: $0, samples: samplesByLabels[$0]!) }
        return SubqueryResult(series: series, start: start, end: end)
    }

    /// Calls `body` with each series' labels (with and without the metric name) and its samples in the window
    /// `[start, end]` of a range argument (a range selector or a subquery) at `time`; series without samples
    /// there are skipped. Returns the window, and whether the series stay distinct without their metric name.
    @discardableResult
    func forEachRangeWindow(
        _ argument: PromQLExpression,
        at time: Int64,
        _ body: (_ labels: Labels, _ labelsWithoutName: Labels, _ samples: ArraySlice<Sample>, _ start: Int64, _ end: Int64) throws(PromQLError) -> Void
    ) throws(PromQLError) -> (start: Int64, end: Int64, distinctWithoutName: Bool) {
        switch argument.unwrapped {
        case .matrixSelector(let selector, let range):
            let end = selector.referenceTime(at: time, start: queryStart, end: queryEnd)
            let start = end &- PromQLFormat.milliseconds(range)
            var windows: [(Int, ArraySlice<Sample>)] = []
            forEachWindow(selector, range: range, at: time) { index, samples in windows.append((index, samples)) }
            for (index, samples) in windows { try body(series[index].labels, labelsWithoutName[index], samples, start, end) }
            return (start, end, selectsOneName(selector.matchers))
        case .subquery(let subquery):
            let result = try evaluateSubquery(subquery, at: time)
            for one in result.series where !one.samples.isEmpty {
                try body(one.labels, one.labels.droppingMetricName, one.samples[...], result.start, result.end)
            }
            return (result.start, result.end, false)
        default:
            throw PromQLError(message: "expected a range vector (x[5m] or a subquery), got \(argument)", offset: 0)
        }
    }

    /// The subquery's expression at one of its steps, from ``subqueryMemo`` when an earlier step of the
    /// query (an overlapping window) evaluated it already: steps are absolute multiples, so the windows of
    /// a range query's steps, and of nested subqueries, share most of them.
    func subqueryStep(_ subquery: Subquery, at time: Int64) throws(PromQLError) -> [VectorElement] {
        let key = SubqueryMemo.Key(position: subquery.position, time: time)
        if let known = subqueryMemo?.results[key] { return known }
        let elements: [VectorElement]
        switch try evaluate(subquery.expression, at: time) {
        case .vector(let vector): elements = vector
        case .scalar(let value): elements = [VectorElement(labels: .empty, value: value)]
        default: throw PromQLError(message: "subquery is only allowed on instant vector", offset: 0)
        }
        subqueryMemo?.results[key] = elements
        return elements
    }
}

/// The subquery steps one query has evaluated, by subquery (its place in the query) and time: what keeps a range query over a
/// subquery, or subqueries nested in subqueries, from evaluating the same steps again and again (a cost
/// that would multiply with each level of nesting).
///
/// Made for each query and used only by the thread evaluating it, hence unchecked `Sendable`.
final class SubqueryMemo: @unchecked Sendable {
    struct Key: Hashable {
        /// ``PromQLSyntax/Subquery/position``: which subquery.
        var position: Int
        var time: Int64
    }

    var results: [Key: [VectorElement]] = [:]
}
