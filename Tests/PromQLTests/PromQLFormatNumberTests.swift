import Testing

@testable import PromQLSyntax

/// `PromQLFormat.number`'s shortcut (Swift's description without an exponent, less a trailing ".0") writes
/// what spelling the digits out writes, and both write Go's `FormatFloat(v, 'f', -1, 64)`.
@Suite struct PromQLFormatNumberTests {
    @Test func shortcutWritesWhatSpellingOutWrites() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [
            1, -1, 0.1, 1.5, 100, 123_456_789_012_345, 9_007_199_254_740_992, 0.000_1, 0.001, 1e15, 1e16, -2.5e-5, .ulpOfOne, .greatestFiniteMagnitude,
        ]
        for _ in 0..<20_000 {
            // Random bits cover every exponent; scaled integers and decimals cover the common values.
            values.append(Double(bitPattern: generator.next()))
            values.append(
                Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / [1, 10, 100, 1_000, 1e6][Int.random(in: 0..<5, using: &generator)]
            )
        }
        for value in values where value.isFinite && value != 0 {
            #expect(PromQLFormat.number(value) == PromQLFormat.spelledOut("\(value)"), "\(value)")
        }
    }

    @Test(arguments: [
        (1.0, "1"), (-1.0, "-1"), (0.1, "0.1"), (100.0, "100"), (1e16, "10000000000000000"), (1.5e-7, "0.00000015"), (-0.0, "-0"),
        (123_456_789_012_345.0, "123456789012345"), (0.000_1, "0.0001"), (Double.nan, "NaN"), (-Double.infinity, "-Inf"),
    ])
    func writesAsGo(_ value: Double, _ expected: String) {
        #expect(PromQLFormat.number(value) == expected)
    }
}
