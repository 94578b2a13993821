package import PromQLSyntax

/// A Prometheus label set: names sorted, each once; `__name__` is the metric name.
package struct Labels: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Name/value pairs sorted by name.
    package private(set) var pairs: [Pair]

    package struct Pair: Sendable, Hashable {
        package var name: String
        package var value: String
        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Builds a label set; empty values are dropped (Prometheus treats them as absent), a repeated name keeps the last value.
    package init(_ dictionary: [String: String]) {
        pairs = dictionary.filter { !$0.value.isEmpty }.map { Pair(name: $0.key, value: $0.value) }.sorted {
            $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
        }
    }

    package init(_ pairs: [(String, String)]) {
        var dictionary: [String: String] = [:]
        for (name, value) in pairs { dictionary[name] = value }
        self.init(dictionary)
    }

    package static let empty = Labels([String: String]())

    package subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    package var metricName: String? { self["__name__"] }

    package var dictionary: [String: String] { Dictionary(uniqueKeysWithValues: pairs.map { ($0.name, $0.value) }) }

    /// Without the metric name, as functions and arithmetic return.
    package var droppingMetricName: Labels { removing(["__name__"]) }

    // Name lists are short (grouping and matching labels): a linear search beats hashing them into a set, and
    // a label set that loses nothing is returned as it is, without copying its pairs.

    package func removing(_ names: some Sequence<String>) -> Labels {
        let names = Array(names)
        guard pairs.contains(where: { names.contains($0.name) }) else { return self }
        var copy = self
        copy.pairs.removeAll { names.contains($0.name) }
        return copy
    }

    package func keeping(_ names: some Sequence<String>) -> Labels {
        let names = Array(names)
        guard !pairs.allSatisfy({ names.contains($0.name) }) else { return self }
        var copy = self
        copy.pairs.removeAll { !names.contains($0.name) }
        return copy
    }

    package func setting(_ name: String, _ value: String) -> Labels {
        var dictionary = self.dictionary
        dictionary[name] = value
        return Labels(dictionary)
    }

    package static func < (lhs: Labels, rhs: Labels) -> Bool {
        for (left, right) in zip(lhs.pairs, rhs.pairs) {
            if left.name != right.name { return left.name.utf8.lexicographicallyPrecedes(right.name.utf8) }
            if left.value != right.value { return left.value.utf8.lexicographicallyPrecedes(right.value.utf8) }
        }
        return lhs.pairs.count < rhs.pairs.count
    }

    /// `name{a="1", b="2"}`, as Prometheus prints series.
    package var description: String {
        let others = pairs.filter { $0.name != "__name__" }.map { "\($0.name)=\"\(PromQLFormat.escape($0.value))\"" }
        return "\(metricName ?? ""){\(others.joined(separator: ", "))}"
    }
}

/// One sample: a millisecond timestamp and a value.
package struct Sample: Sendable, Hashable {
    package var timestamp: Int64
    package var value: Double

    package init(timestamp: Int64, value: Double) {
        self.timestamp = timestamp
        self.value = value
    }

    /// Prometheus' staleness marker, a NaN with this bit pattern.
    package static let staleNaNBits: UInt64 = 0x7ff0_0000_0000_0002

    package var isStale: Bool { value.bitPattern == Self.staleNaNBits }

    package static func == (lhs: Sample, rhs: Sample) -> Bool {
        lhs.timestamp == rhs.timestamp && lhs.value.bitPattern == rhs.value.bitPattern
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(timestamp)
        hasher.combine(value.bitPattern)
    }
}

/// A series with its samples in time order.
package struct Series: Sendable, Hashable {
    package var labels: Labels
    package var samples: [Sample]

    package init(labels: Labels, samples: [Sample]) {
        self.labels = labels
        self.samples = samples
    }
}

/// One element of an instant vector.
package struct VectorElement: Sendable, Hashable {
    package var labels: Labels
    package var value: Double

    package init(labels: Labels, value: Double) {
        self.labels = labels
        self.value = value
    }
}

/// The result of evaluating an expression at one instant.
package enum QueryValue: Sendable {
    case scalar(Double)
    case string(String)
    case vector([VectorElement])
    case matrix([Series])

    package var type: ValueType {
        switch self {
        case .scalar: .scalar
        case .string: .string
        case .vector: .vector
        case .matrix: .matrix
        }
    }
}
