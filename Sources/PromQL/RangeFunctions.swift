import Foundation
package import PromQLSyntax

/// The functions over a range vector (a range selector or a subquery): one value per series from its samples
/// in the window, as Prometheus 2.42 computes them (promql/functions.go).
enum RangeFunction: String {
    case rate, increase, delta, irate, idelta, changes, resets, deriv
    case avgOverTime = "avg_over_time"
    case minOverTime = "min_over_time"
    case maxOverTime = "max_over_time"
    case sumOverTime = "sum_over_time"
    case countOverTime = "count_over_time"
    case stddevOverTime = "stddev_over_time"
    case stdvarOverTime = "stdvar_over_time"
    case lastOverTime = "last_over_time"
    case presentOverTime = "present_over_time"
    case absentOverTime = "absent_over_time"
    case quantileOverTime = "quantile_over_time"
    case predictLinear = "predict_linear"
    case holtWinters = "holt_winters"
}

extension PromQLFunctions {
    /// One element per series of the range argument with samples in its window at `time`.
    static func rangeFunction(
        _ kind: RangeFunction,
        arguments: [PromQLExpression],
        at time: Int64,
        engine: PromQLEngine
    ) throws(PromQLError)
        -> [VectorElement]
    {
        let rangeArgument = kind == .quantileOverTime ? arguments[1] : arguments[0]
        let parameters = try arguments.filter { $0.type == .scalar }.map { (argument) throws(PromQLError) in try engine.scalar(argument, at: time) }
        var elements: [VectorElement] = []
        var anySamples = false
        let window = try engine.forEachRangeWindow(rangeArgument, at: time) { (labels, labelsWithoutName, samples, start, end) throws(PromQLError) in
            anySamples = true
            guard let value = try rangeValue(kind, samples, start: start, end: end, time: time, parameters: parameters) else { return }
            // last_over_time acts like an offset and keeps the metric name.
            elements.append(VectorElement(labels: kind == .lastOverTime ? labels : labelsWithoutName, value: value))
        }
        if kind == .absentOverTime { return anySamples ? [] : [VectorElement(labels: absentLabels(rangeArgument), value: 1)] }
        // Series of one name stay distinct without it: only other selections need the check.
        return window.distinctWithoutName || kind == .lastOverTime ? elements : try engine.unique(elements)
    }

    /// One series' value from its samples in `[start, end]`, or nil when the function gives none for it.
    static func rangeValue(
        _ kind: RangeFunction,
        _ samples: ArraySlice<Sample>,
        start: Int64,
        end: Int64,
        time: Int64,
        parameters: [Double]
    ) throws(PromQLError) -> Double? {
        guard let first = samples.first, let last = samples.last else { return nil }
        switch kind {
        case .rate: return extrapolatedRate(samples, start: start, end: end, isCounter: true, isRate: true)
        case .increase: return extrapolatedRate(samples, start: start, end: end, isCounter: true, isRate: false)
        case .delta: return extrapolatedRate(samples, start: start, end: end, isCounter: false, isRate: false)
        case .irate: return instantValue(samples, isRate: true)
        case .idelta: return instantValue(samples, isRate: false)
        case .avgOverTime: return incrementalMean(samples.map(\.value))
        case .sumOverTime: return samples.dropFirst().reduce(first.value) { $0 + $1.value }
        case .countOverTime: return Double(samples.count)
        case .minOverTime: return samples.dropFirst().reduce(first.value) { $0.isNaN || $1.value < $0 ? $1.value : $0 }
        case .maxOverTime: return samples.dropFirst().reduce(first.value) { $0.isNaN || $1.value > $0 ? $1.value : $0 }
        case .stddevOverTime: return variance(samples).squareRoot()
        case .stdvarOverTime: return variance(samples)
        case .lastOverTime: return last.value
        case .presentOverTime: return 1
        case .absentOverTime: return nil
        case .quantileOverTime: return PromQLEngine.quantile(parameters[0], samples.map(\.value))
        case .changes, .resets:
            var count = 0
            var previous = first.value
            for sample in samples.dropFirst() {
                let current = sample.value
                if kind == .changes ? current != previous && !(current.isNaN && previous.isNaN) : current < previous { count += 1 }
                previous = current
            }
            return Double(count)
        case .deriv:
            guard samples.count >= 2 else { return nil }
            return linearRegression(samples, interceptTime: first.timestamp).slope
        case .predictLinear:
            guard samples.count >= 2 else { return nil }
            // Prometheus anchors the line at the evaluation time, whatever the offset or @.
            let (slope, intercept) = linearRegression(samples, interceptTime: time)
            return slope * parameters[0] + intercept
        case .holtWinters:
            return try holtWinters(samples, smoothingFactor: parameters[0], trendFactor: parameters[1])
        }
    }

    /// Go's `kahanSumInc` (Neumaier's variant): the running sum and its compensation after adding `increment`.
    static func kahanSum(_ increment: Double, _ sum: Double, _ compensation: Double) -> (Double, Double) {
        let total = sum + increment
        let correction = Swift.abs(sum) >= Swift.abs(increment) ? (sum - total) + increment : (increment - total) + sum
        return (total, compensation + correction)
    }

    /// The population variance, Welford's method with compensated sums (Prometheus' `stdvar_over_time`).
    static func variance(_ samples: ArraySlice<Sample>) -> Double {
        var (count, mean, meanCompensation, aux, auxCompensation) = (0.0, 0.0, 0.0, 0.0, 0.0)
        for sample in samples {
            count += 1
            let delta = sample.value - (mean + meanCompensation)
            (mean, meanCompensation) = kahanSum(delta / count, mean, meanCompensation)
            (aux, auxCompensation) = kahanSum(delta * (sample.value - (mean + meanCompensation)), aux, auxCompensation)
        }
        return (aux + auxCompensation) / count
    }

    /// Least-squares line through the samples, x in seconds from `interceptTime`: its slope per second and
    /// its value at `interceptTime`. A constant series has slope 0 (NaN when the constant is infinite).
    static func linearRegression(_ samples: ArraySlice<Sample>, interceptTime: Int64) -> (slope: Double, intercept: Double) {
        var (n, sumX, cX, sumY, cY, sumXY, cXY, sumX2, cX2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        let initialY = samples.first?.value ?? 0
        var constantY = true
        for (position, sample) in samples.enumerated() {
            if constantY, position > 0, sample.value != initialY { constantY = false }
            n += 1
            let x = Double(sample.timestamp &- interceptTime) / 1000
            (sumX, cX) = kahanSum(x, sumX, cX)
            (sumY, cY) = kahanSum(sample.value, sumY, cY)
            (sumXY, cXY) = kahanSum(x * sample.value, sumXY, cXY)
            (sumX2, cX2) = kahanSum(x * x, sumX2, cX2)
        }
        if constantY { return initialY.isInfinite ? (.nan, .nan) : (0, initialY) }
        sumX += cX
        sumY += cY
        sumXY += cXY
        sumX2 += cX2
        let covarianceXY = sumXY - sumX * sumY / n
        let varianceX = sumX2 - sumX * sumX / n
        let slope = covarianceXY / varianceX
        return (slope, sumY / n - slope * sumX / n)
    }

    /// Double exponential smoothing (Prometheus 2.x's `holt_winters`): both factors strictly between 0 and 1
    /// (an error otherwise); nil with fewer than two samples.
    static func holtWinters(_ samples: ArraySlice<Sample>, smoothingFactor: Double, trendFactor: Double) throws(PromQLError) -> Double? {
        guard smoothingFactor > 0, smoothingFactor < 1 else {
            throw PromQLError(message: "invalid smoothing factor. Expected: 0 < sf < 1, got: \(GoConversion.formatFixed(smoothingFactor))", offset: 0)
        }
        guard trendFactor > 0, trendFactor < 1 else {
            throw PromQLError(message: "invalid trend factor. Expected: 0 < tf < 1, got: \(GoConversion.formatFixed(trendFactor))", offset: 0)
        }
        let values = samples.map(\.value)
        guard values.count >= 2 else { return nil }
        var (previous, smoothed, trend) = (0.0, values[0], values[1] - values[0])
        for index in 1..<values.count {
            let scaled = smoothingFactor * values[index]
            if index > 1 { trend = trendFactor * (smoothed - previous) + (1 - trendFactor) * trend }
            let carried = (1 - smoothingFactor) * (smoothed + trend)
            (previous, smoothed) = (smoothed, scaled + carried)
        }
        return smoothed
    }
}
