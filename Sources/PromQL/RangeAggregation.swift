package import PromQLSyntax

/// Aggregations at the steps of a range query, without doing again at every step what only the series decide.
///
/// A range query evaluates its expression at each step (``PromQLEngine/rangeQuery(_:start:end:step:)``). For the
/// most common shape, `sum by (le) (rate(x[5m]))` and the like, that means building one element per series per
/// step, then computing and hashing each element's grouping labels to find its group. The series a selector picks
/// and the group each falls in are the same at every step, so a range query keeps them in an
/// ``AggregationGroupsMemo``:
/// - an aggregation straight over a range function of a range selector (``aggregateRangeFunction(_:at:)``) groups
///   the selected series once, then at each step adds each series' value to its group: no element, no labels;
/// - any other aggregation remembers the previous step's input and the group of each element, and groups by
///   labels only the elements that differ (``AggregationGroupsMemo/Groups``).
///
/// Either way the groups come out in the order of their first member, with the values in input order, as the
/// plain evaluation gives them: the answers are the same to the bit (the Prometheus fidelity tests hold it).
extension PromQLEngine {
    /// The range functions whose per-series value is all a fused aggregation needs: each gives a value or none
    /// from the series' window, and keeps no labels of its own (`last_over_time` keeps the metric name,
    /// `absent_over_time` answers for the absence of every series).
    private static let fusableRangeFunctions: Set<RangeFunction> = Set(
        [RangeFunction.rate, .increase, .delta, .irate, .idelta, .changes, .resets, .deriv, .avgOverTime, .minOverTime, .maxOverTime]
            + [.sumOverTime, .countOverTime, .stddevOverTime, .stdvarOverTime, .presentOverTime, .quantileOverTime, .predictLinear, .holtWinters]
    )
    /// The aggregations that reduce a group's values to one value.
    private static let fusableAggregations: Set<String> = ["sum", "avg", "count", "group", "min", "max", "stddev", "stdvar", "quantile"]

    /// `aggregation` at `time` when it is an aggregation of a range function of one range selector of one metric
    /// name (`sum by (le) (rate(x_bucket[5m]))`), computed from the series' windows straight into their groups;
    /// nil for any other shape, which the plain evaluation answers.
    func aggregateRangeFunction(_ aggregation: Aggregation, at time: Int64) throws(PromQLError) -> [VectorElement]? {
        guard let memo = aggregationGroups, Self.fusableAggregations.contains(aggregation.operation),
            case .call(let name, let arguments) = aggregation.expression.unwrapped,
            let kind = RangeFunction(rawValue: name), Self.fusableRangeFunctions.contains(kind)
        else { return nil }
        let rangeArgument = kind == .quantileOverTime ? arguments[1] : arguments[0]
        // Series of more than one name could clash without their names: the plain evaluation refuses those.
        guard case .matrixSelector(let selector, let range) = rangeArgument.unwrapped, selectsOneName(selector.matchers) else { return nil }

        // Evaluated in the plain evaluation's order: the function's parameters, then the aggregation's.
        let parameters = try arguments.filter { $0.type == .scalar }.map { (argument) throws(PromQLError) in try scalar(argument, at: time) }
        let parameter = try aggregation.parameter.map { (expression) throws(PromQLError) in try scalar(expression, at: time) }
        let plan = memo.seriesGroups(for: aggregation, seriesCount: series.count, selection: selection(selector.matchers)) { index in
            Self.groupingKey(labelsWithoutName[index], aggregation.grouping)
        }
        let end = selector.referenceTime(at: time, start: queryStart, end: queryEnd)
        let start = end &- PromQLFormat.milliseconds(range)
        var valuesOfGroup = [[Double]](repeating: [], count: plan.keys.count)
        var order: [Int] = []
        var failure: PromQLError?
        forEachWindow(selector, range: range, at: time) { index, samples in
            guard failure == nil else { return }
            let value: Double?
            do throws(PromQLError) {
                value = try PromQLFunctions.rangeValue(kind, samples, start: start, end: end, time: time, parameters: parameters)
            } catch {
                failure = error
                return
            }
            guard let value else { return }
            let group = Int(plan.groupOfSeries[index])
            if valuesOfGroup[group].isEmpty { order.append(group) }
            valuesOfGroup[group].append(value)
        }
        if let failure { throw failure }
        var result: [VectorElement] = []
        result.reserveCapacity(order.count)
        for group in order {
            guard let value = Self.aggregatedValue(aggregation.operation, valuesOfGroup[group], parameter: parameter) else { return nil }
            result.append(VectorElement(labels: plan.keys[group], value: value))
        }
        return result
    }
}

/// The group of each input element an aggregation found at the previous step of a range query, and the groups'
/// labels, by aggregation: what spares each step of `sum by (le) (rate(x[5m]))` from computing and hashing the
/// grouping labels of every series again.
///
/// An aggregation's input usually holds the same series in the same order at every step, each element's labels
/// sharing their storage with the engine's (``PromQLEngine/labelsWithoutName``), so comparing an element with the
/// previous step's element at its place is a pointer comparison; a different element is grouped by its labels
/// and remembered. The groups are a pure function of the labels and the grouping, so a memo can never change
/// an answer, only its cost. Made for each range query and used only by the thread evaluating it, hence
/// unchecked `Sendable`.
final class AggregationGroupsMemo: @unchecked Sendable {
    /// One aggregation's groups: every group seen so far, and the previous step's assignment.
    struct Groups {
        /// Each group's labels, by group number.
        var keys: [Labels] = []
        /// Group numbers by labels.
        var numbers: [Labels: Int] = [:]
        /// The previous step's input, and the group of each of its elements.
        var previousInput: [VectorElement] = []
        var previousGroups: [Int] = []

        /// The group number of each element of `input` (computing `key` for elements not seen at their place
        /// at the previous step), and every group's labels.
        mutating func assign(_ input: [VectorElement], key: (Labels) -> Labels) -> (groupOfElement: [Int], keys: [Labels]) {
            var groupOfElement: [Int] = []
            groupOfElement.reserveCapacity(input.count)
            for (place, element) in input.enumerated() {
                if place < previousInput.count, previousInput[place].labels == element.labels {
                    groupOfElement.append(previousGroups[place])
                    continue
                }
                let labels = key(element.labels)
                if let number = numbers[labels] {
                    groupOfElement.append(number)
                } else {
                    numbers[labels] = keys.count
                    groupOfElement.append(keys.count)
                    keys.append(labels)
                }
            }
            (previousInput, previousGroups) = (input, groupOfElement)
            return (groupOfElement, keys)
        }
    }

    /// An aggregation's groups of the series it selects, for ``PromQLEngine/aggregateRangeFunction(_:at:)``.
    struct SeriesGroups {
        /// Each engine series' group number, -1 for series the selector does not pick.
        var groupOfSeries: [Int32]
        /// Each group's labels, by group number.
        var keys: [Labels]
    }

    private var groupsByAggregation: [Aggregation: Groups] = [:]
    private var seriesGroupsByAggregation: [Aggregation: SeriesGroups] = [:]

    /// The groups of the series in `selection` (engine indices), by `key`; computed at the first step.
    func seriesGroups(for aggregation: Aggregation, seriesCount: Int, selection: [Int], key: (Int) -> Labels) -> SeriesGroups {
        if let known = seriesGroupsByAggregation[aggregation] { return known }
        var groups = SeriesGroups(groupOfSeries: [Int32](repeating: -1, count: seriesCount), keys: [])
        var numbers: [Labels: Int32] = [:]
        for index in selection {
            let labels = key(index)
            if let number = numbers[labels] {
                groups.groupOfSeries[index] = number
            } else {
                let number = Int32(groups.keys.count)
                numbers[labels] = number
                groups.groupOfSeries[index] = number
                groups.keys.append(labels)
            }
        }
        seriesGroupsByAggregation[aggregation] = groups
        return groups
    }

    /// ``Groups/assign(_:key:)`` with what `aggregation` found at earlier steps.
    func groups(of input: [VectorElement], in aggregation: Aggregation, key: (Labels) -> Labels) -> (groupOfElement: [Int], keys: [Labels]) {
        var groups = groupsByAggregation.removeValue(forKey: aggregation) ?? Groups()
        defer { groupsByAggregation[aggregation] = groups }
        return groups.assign(input, key: key)
    }
}
