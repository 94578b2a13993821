/// A PromQL function's signature: what the parser type-checks calls against.
package struct PromQLFunctionSignature: Sendable {
    package var arguments: [ValueType]
    /// How many trailing arguments may be left out.
    package var optionalArguments: Int = 0
    package var returns: ValueType

    /// Every supported function by name.
    package static let all: [String: PromQLFunctionSignature] = {
        var table: [String: PromQLFunctionSignature] = [
            "histogram_quantile": PromQLFunctionSignature(arguments: [.scalar, .vector], returns: .vector),
            "scalar": PromQLFunctionSignature(arguments: [.vector], returns: .scalar),
            "vector": PromQLFunctionSignature(arguments: [.scalar], returns: .vector),
            "time": PromQLFunctionSignature(arguments: [], returns: .scalar),
            "absent": PromQLFunctionSignature(arguments: [.vector], returns: .vector),
            "clamp": PromQLFunctionSignature(arguments: [.vector, .scalar, .scalar], returns: .vector),
            "clamp_min": PromQLFunctionSignature(arguments: [.vector, .scalar], returns: .vector),
            "clamp_max": PromQLFunctionSignature(arguments: [.vector, .scalar], returns: .vector),
            "round": PromQLFunctionSignature(arguments: [.vector, .scalar], optionalArguments: 1, returns: .vector),
        ]
        for name in ["rate", "increase", "delta", "irate", "idelta", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time"] {
            table[name] = PromQLFunctionSignature(arguments: [.matrix], returns: .vector)
        }
        for name in mathFunctionNames { table[name] = PromQLFunctionSignature(arguments: [.vector], returns: .vector) }
        return table
    }()

    /// The math functions applied to each sample's value (`abs`, `ceil`, ...).
    package static let mathFunctionNames = ["abs", "ceil", "floor", "sqrt", "exp", "ln", "log2", "log10"]
}
