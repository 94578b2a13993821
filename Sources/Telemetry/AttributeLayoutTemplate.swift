/// Builds the attribute dictionaries of items read one after another (a request's spans) from their key-values in
/// wire order, reusing the table of the last item's when the keys are the same: spans of one kind carry the same
/// keys in the same order, and their dictionary is then made from the last one's layout (`mapValues` keeps a
/// table's buckets, capacity and seed) without hashing or inserting the keys again; only the values are new.
///
/// Whichever way it is built, the result is the dictionary that inserting ``pairs`` in order into
/// `reserved > 1 ? Attributes(minimumCapacity: reserved) : Attributes()` gives: the same entries (the last value of
/// a repeated key wins) and the same capacity, which ``ResidentCost`` charges.
///
/// ```swift
/// var template = AttributeLayoutTemplate()
/// for span in spans {
///     template.pairs.removeAll(keepingCapacity: true)
///     for keyValue in span.keyValues { template.pairs.append(keyValue) }
///     let attributes = template.attributes(reserving: span.keyValues.count)
/// }
/// ```
package struct AttributeLayoutTemplate {
    /// The key-values of the item being read, in wire order (repeated keys included).
    package var pairs: [(key: String, value: AttributeValue)] = []
    /// The keys of the last item of two or more key-values, in wire order: the template's keys.
    private var keys: [String] = []
    /// Each distinct key of `keys` at the index of its last occurrence, in a table made as that item's dictionary
    /// would have been (the same reservation, the same insertions), hence of the same capacity.
    private var positions: [String: Int] = [:]
    /// The reservation `positions` was made with.
    private var reserved = 0

    package init() {}

    /// ``pairs`` as attributes, the dictionary reserved for `reserved` entries first when that is more than one
    /// (as the decoders reserve room for all of an item's key-values before the first).
    ///
    /// When the keys are the template's, in the same order, and a dictionary reserved for `reserved` would have the
    /// capacity of the template's, the dictionary is the template's table with these values. Otherwise these keys
    /// become the template (when there are two or more of them).
    package mutating func attributes(reserving reserved: Int) -> Attributes {
        let count = pairs.count
        guard count > 1 else {
            var attributes = reserved > 1 ? Attributes(minimumCapacity: reserved) : Attributes()
            for (key, value) in pairs { attributes[key] = value }
            return attributes
        }
        if count == keys.count, hasCapacityOfTemplate(reserving: reserved), Self.keys(of: pairs, equal: keys) {
            return positions.mapValues { pairs[$0].value }
        }
        var positions = reserved > 1 ? [String: Int](minimumCapacity: reserved) : [:]
        for index in pairs.indices { positions[pairs[index].key] = index }
        keys.removeAll(keepingCapacity: true)
        keys.reserveCapacity(count)
        for pair in pairs { keys.append(pair.key) }
        self.positions = positions
        self.reserved = reserved
        return positions.mapValues { pairs[$0].value }
    }

    /// Whether a dictionary reserved for `reserved` entries, given ``pairs`` (whose keys are the template's), would
    /// have the template's capacity: it was reserved alike, or for a count the standard library rounds to the same
    /// table and that holds every pair without growing (a span with one special Jaeger tag more than the last, say).
    private func hasCapacityOfTemplate(reserving reserved: Int) -> Bool {
        if reserved == self.reserved { return true }
        guard reserved >= pairs.count else { return false }
        return Self.capacity(reserving: reserved) == positions.capacity
    }

    /// The capacity of `Attributes(minimumCapacity: reserved)` for `reserved` > 0: the standard library gives the
    /// table the fewest power-of-two buckets whose three quarters hold `reserved`, and three quarters of them as its
    /// capacity (pinned against the standard library in `AttributeLayoutTemplateTests`).
    package static func capacity(reserving reserved: Int) -> Int {
        ResidentCost.dictionaryBuckets(capacity: reserved) * 3 / 4
    }

    private static func keys(of pairs: [(key: String, value: AttributeValue)], equal keys: [String]) -> Bool {
        for index in pairs.indices where pairs[index].key != keys[index] { return false }
        return true
    }
}

/// The attribute keys of the items read before, by position (the key of each item's first key-value, second, and
/// so on, the latest item that had one there): a key whose bytes are those of the key at its position in the last
/// item takes that `String` instead of a new one, which for a key of more than 15 bytes is an allocation saved.
///
/// ```swift
/// let key = recentKeys.key(at: position, utf8: bytes) ?? String(decoding: bytes, as: UTF8.self)
/// recentKeys.remember(key, at: position)
/// ```
package struct RecentAttributeKeys {
    /// The key at each position. Internal rather than private: the methods are inlinable, for decoders in other
    /// modules calling them per key.
    @usableFromInline var keys: [String] = []

    package init() {}

    /// The key last remembered at `position` when its UTF-8 is `utf8`; `nil` when it is not (or there is none).
    /// Bytes equal to a key's are valid UTF-8: a decoder that checks keys may skip the check when this returns one.
    @inlinable @inline(__always)
    package func key(at position: Int, utf8: UnsafeRawBufferPointer) -> String? {
        guard position < keys.count else { return nil }
        let key = keys[position]
        return Self.utf8(of: key, equals: utf8) ? key : nil
    }

    /// Remembers `key` as the key at `position`, for the next item. Positions are remembered in order from 0, each
    /// no later than the one after the last remembered.
    @inlinable @inline(__always)
    package mutating func remember(_ key: String, at position: Int) {
        assert(position <= keys.count, "positions are remembered in order from 0")
        if position < keys.count { keys[position] = key } else { keys.append(key) }
    }

    /// Makes room for keys at `count` positions, so that remembering them does not grow the buffer a step at a time.
    @inlinable @inline(__always)
    package mutating func reserve(_ count: Int) {
        if keys.capacity < count { keys.reserveCapacity(count) }
    }

    /// Whether `key`'s UTF-8 is the bytes `utf8`, compared 8 bytes at a time.
    @inlinable @inline(__always)
    static func utf8(of key: String, equals utf8: UnsafeRawBufferPointer) -> Bool {
        guard key.utf8.count == utf8.count else { return false }
        let equal = key.utf8.withContiguousStorageIfAvailable { stored in
            let stored = UnsafeRawBufferPointer(stored)
            var index = 0
            while stored.count - index >= 8 {
                let lhs = stored.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                guard lhs == utf8.loadUnaligned(fromByteOffset: index, as: UInt64.self) else { return false }
                index += 8
            }
            while index < stored.count {
                guard stored[index] == utf8[index] else { return false }
                index += 1
            }
            return true
        }
        return equal ?? key.utf8.elementsEqual(utf8)
    }
}
