/// A PromQL function's signature: what the parser type-checks calls against.
package struct PromQLFunctionSignature: Sendable {
    package var arguments: [ValueType]
    /// How many trailing arguments may be left out.
    package var optionalArguments: Int = 0
    /// Whether the last argument may repeat without limit (`label_join`'s source labels).
    package var repeatsLastArgument = false
    package var returns: ValueType

    /// Every function of Prometheus 2.42 by name.
    package static let all: [String: PromQLFunctionSignature] = {
        var table: [String: PromQLFunctionSignature] = [
            "histogram_quantile": PromQLFunctionSignature(arguments: [.scalar, .vector], returns: .vector),
            "histogram_fraction": PromQLFunctionSignature(arguments: [.scalar, .scalar, .vector], returns: .vector),
            "scalar": PromQLFunctionSignature(arguments: [.vector], returns: .scalar),
            "vector": PromQLFunctionSignature(arguments: [.scalar], returns: .vector),
            "time": PromQLFunctionSignature(arguments: [], returns: .scalar),
            "pi": PromQLFunctionSignature(arguments: [], returns: .scalar),
            "absent": PromQLFunctionSignature(arguments: [.vector], returns: .vector),
            "clamp": PromQLFunctionSignature(arguments: [.vector, .scalar, .scalar], returns: .vector),
            "clamp_min": PromQLFunctionSignature(arguments: [.vector, .scalar], returns: .vector),
            "clamp_max": PromQLFunctionSignature(arguments: [.vector, .scalar], returns: .vector),
            "round": PromQLFunctionSignature(arguments: [.vector, .scalar], optionalArguments: 1, returns: .vector),
            "timestamp": PromQLFunctionSignature(arguments: [.vector], returns: .vector),
            "sort": PromQLFunctionSignature(arguments: [.vector], returns: .vector),
            "sort_desc": PromQLFunctionSignature(arguments: [.vector], returns: .vector),
            "label_replace": PromQLFunctionSignature(arguments: [.vector, .string, .string, .string, .string], returns: .vector),
            "label_join": PromQLFunctionSignature(arguments: [.vector, .string, .string, .string], repeatsLastArgument: true, returns: .vector),
            "quantile_over_time": PromQLFunctionSignature(arguments: [.scalar, .matrix], returns: .vector),
            "predict_linear": PromQLFunctionSignature(arguments: [.matrix, .scalar], returns: .vector),
            "holt_winters": PromQLFunctionSignature(arguments: [.matrix, .scalar, .scalar], returns: .vector),
        ]
        for name in rangeFunctionNames { table[name] = PromQLFunctionSignature(arguments: [.matrix], returns: .vector) }
        for name in mathFunctionNames + ["histogram_count", "histogram_sum"] {
            table[name] = PromQLFunctionSignature(arguments: [.vector], returns: .vector)
        }
        for name in dateFunctionNames { table[name] = PromQLFunctionSignature(arguments: [.vector], optionalArguments: 1, returns: .vector) }
        return table
    }()

    /// The functions of one range vector argument (`rate`, `avg_over_time`, ...).
    package static let rangeFunctionNames = [
        "rate", "increase", "delta", "irate", "idelta", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
        "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time", "absent_over_time", "changes", "resets", "deriv",
    ]

    /// The math functions applied to each sample's value (`abs`, `ceil`, `sin`, ...).
    package static let mathFunctionNames = [
        "abs", "ceil", "floor", "sqrt", "exp", "ln", "log2", "log10", "sgn", "deg", "rad", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
        "cosh", "tanh", "asinh", "acosh", "atanh",
    ]

    /// The functions reading a date field from Unix seconds (each sample's value, or the evaluation time).
    package static let dateFunctionNames = ["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"]
}
