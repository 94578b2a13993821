import Scenario
import Testing

@testable import Telemetry

/// ``AttributeLayoutTemplate`` and ``RecentAttributeKeys`` on their own: whatever the items before, each item's
/// attributes are the dictionary a fresh one reserved alike would be (entries and capacity), and a key is reused
/// only for the very same bytes.
@Suite struct AttributeLayoutTemplateTests {
    /// The dictionary the decoders built before the template: reserved for `reserved` when that is more than one,
    /// then each key-value inserted in order.
    static func fresh(_ pairs: [(key: String, value: AttributeValue)], reserving reserved: Int) -> Attributes {
        var attributes = reserved > 1 ? Attributes(minimumCapacity: reserved) : Attributes()
        for (key, value) in pairs { attributes[key] = value }
        return attributes
    }

    @Test func capacityOfAReservationIsTheStandardLibrarys() {
        for reserved in 1...4_096 {
            #expect(AttributeLayoutTemplate.capacity(reserving: reserved) == Attributes(minimumCapacity: reserved).capacity, "\(reserved)")
        }
    }

    /// Runs of items with the same keys (the template's case), broken by other keys, other orders, repeated keys, other
    /// counts, and reservations that round to the same table or not.
    @Test func everyItemGetsTheDictionaryAFreshOneWouldBe() {
        var random = SplitMix64(seed: 0x1a7_0a7)
        let keys = ["a", "b", "c", "d", "a key longer than fifteen bytes", "ключ"]
        var template = AttributeLayoutTemplate()
        var shape: [String] = ["a", "b", "c"]
        var previousShape: [String] = []
        var sameShapes = 0
        for round in 0..<3_000 {
            // Mostly the shape before, sometimes a new one (of 0 to 6 keys, repeats possible).
            if random.next() % 4 == 0 {
                shape = (0..<Int(random.next() % 7)).map { _ in keys[Int(random.next() % UInt64(keys.count))] }
            }
            let pairs = shape.map { (key: $0, value: AttributeValue.int(Int64(bitPattern: random.next()))) }
            // As the decoders reserve: for every key-value, or for more (Jaeger's special tags), or (a count of 0 or 1)
            // not at all; now and then for fewer, which no decoder does.
            let reserved =
                switch random.next() % 8 {
                case 0: pairs.count + Int(random.next() % 12)
                case 1: Int(random.next() % 2)
                case 2: max(0, pairs.count - 1)
                default: pairs.count
                }
            template.pairs = pairs
            let attributes = template.attributes(reserving: reserved)
            let expected = Self.fresh(pairs, reserving: reserved)
            #expect(attributes == expected, "round \(round): \(shape), reserved \(reserved)")
            #expect(attributes.capacity == expected.capacity, "round \(round): \(shape), reserved \(reserved)")
            if pairs.count > 1, shape == previousShape { sameShapes += 1 }
            previousShape = shape
        }
        #expect(sameShapes > 1_000, "mostly runs of one shape, which the template serves")
    }

    @Test func aSpanWithOneKeyMoreReservedTakesTheTemplateOnlyForTheSameTableSize() {
        var template = AttributeLayoutTemplate()
        let pairs: [(key: String, value: AttributeValue)] = [("a", .int(1)), ("b", .int(2)), ("c", .int(3)), ("d", .int(4))]
        template.pairs = pairs
        _ = template.attributes(reserving: 4)
        // 4 and 5 round to a table of capacity 6, 7 to one of 12.
        for reserved in [5, 7, 4, 6, 7, 13] {
            template.pairs = pairs.map { ($0.key, .string("\($0.key) for \(reserved)")) }
            let attributes = template.attributes(reserving: reserved)
            let expected = Self.fresh(template.pairs, reserving: reserved)
            #expect(attributes == expected && attributes.capacity == expected.capacity, "reserved \(reserved)")
        }
    }

    @Test func aKeyIsReusedOnlyForTheSameBytesAtItsPosition() {
        var recent = RecentAttributeKeys()
        let long = "attribute.number1"  // 17 bytes: two words and a tail
        recent.remember(long, at: 0)
        recent.remember("k", at: 1)
        recent.remember("ключ", at: 2)
        func key(_ text: String, at position: Int) -> String? {
            Array(text.utf8).withUnsafeBytes { recent.key(at: position, utf8: $0) }
        }
        #expect(key("attribute.number1", at: 0) == long)
        #expect(key("attribute.number2", at: 0) == nil, "the tail differs")
        #expect(key("attributX.number1", at: 0) == nil, "the first word differs")
        #expect(key("attribute.Number1", at: 0) == nil, "the second word differs")
        #expect(key("attribute.number", at: 0) == nil, "a prefix")
        #expect(key("attribute.number1", at: 1) == nil, "another position")
        #expect(key("k", at: 1) == "k" && key("ключ", at: 2) == "ключ" && key("ключ", at: 3) == nil)
        #expect(key("", at: 1) == nil)
        recent.remember("", at: 1)
        #expect(key("", at: 1) == "" && key("k", at: 1) == nil)
        // The String itself, not a copy: a long key's storage is shared.
        func storage(_ string: String?) -> UnsafePointer<UInt8>? { string?.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil }
        #expect(storage(key("attribute.number1", at: 0)) == storage(long))
    }
}
