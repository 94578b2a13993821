/// What telemetry items cost resident once decoded and kept, estimated from their contents: what the memory
/// limit (``TelemetryStore/Limits/maxRetainedBytes``) charges, instead of the bytes they took on the wire.
///
/// The estimate adds up the allocations Swift makes for a value, each rounded as glibc's malloc rounds it
/// (8 bytes of header, 16-byte granules, 32 bytes at least): a `String` of more than 15 UTF-8 bytes is a heap
/// object (15 or fewer live inside the value), an array's storage holds its *capacity*, a dictionary's storage
/// its power-of-two buckets; an ``AttributeValue`` lives inline in its dictionary bucket or array slot, and only
/// what its payload holds (a long string, an array's or a dictionary's storage) is on the heap. Values
/// that several items share (a request's resource and scope) are charged once, to the first item that holds them.
///
/// Held to malloc's own count of live bytes on several shapes of spans, log records and series in
/// `ResidentCostTests`; the arithmetic itself is pinned there too.
///
/// ```swift
/// let charge = ResidentCost.span(span) + ResidentCost.shared(resource: span.resource, scope: span.scope)
/// ```
package enum ResidentCost {
    // MARK: Allocations

    /// What malloc takes for a request of `bytes`: glibc's chunk, 8 bytes of header rounded up to 16, at least 32.
    package static func allocation(_ bytes: Int) -> Int { max(32, (bytes + 8 + 15) & ~15) }

    /// A Swift heap object with `payload` bytes after its 16-byte header (type and reference count).
    package static func object(payload: Int) -> Int { allocation(16 + payload) }

    /// The heap a `String` holds: none up to 15 UTF-8 bytes (a small string), else its storage object (32 bytes
    /// of header, the bytes and a terminating NUL).
    package static func string(_ string: String) -> Int {
        let count = string.utf8.count
        return count <= 15 ? 0 : allocation(32 + count + 1)
    }

    /// The storage of an array holding `capacity` elements of `stride` bytes (none when the capacity is 0).
    package static func arrayStorage(capacity: Int, stride: Int) -> Int {
        capacity == 0 ? 0 : object(payload: 16 + capacity * stride)
    }

    /// The storage of a dictionary of `capacity` (its `capacity` property: three quarters of its power-of-two
    /// buckets, rounded down), with keys and values of the given strides: 48 bytes of header, a bitmap word per 64
    /// buckets, then the keys and the values.
    package static func dictionaryStorage(capacity: Int, keyStride: Int, valueStride: Int) -> Int {
        guard capacity > 0 else { return 0 }
        let buckets = dictionaryBuckets(capacity: capacity)
        return object(payload: 48 + (buckets + 63) / 64 * 8 + buckets * (keyStride + valueStride))
    }

    /// Buckets of a Swift dictionary or set whose `capacity` is given: the fewest (a power of two) whose three
    /// quarters hold it.
    package static func dictionaryBuckets(capacity: Int) -> Int {
        var buckets = 1
        while buckets * 3 / 4 < capacity { buckets *= 2 }
        return buckets
    }

    // MARK: Values

    /// The heap of an attribute value: what its payload holds (the value itself is inline, in its dictionary's
    /// bucket or its array's slot).
    package static func value(_ value: AttributeValue) -> Int {
        switch value {
        case .string(let string): self.string(string)
        case .bool, .int, .double, .empty: 0
        case .bytes(let bytes): arrayStorage(capacity: bytes.capacity, stride: 1)
        case .array(let values):
            arrayStorage(capacity: values.capacity, stride: MemoryLayout<AttributeValue>.stride) + values.reduce(0) { $0 + self.value($1) }
        case .keyValueList(let values): attributes(values)
        }
    }

    /// The heap of a set of attributes: the dictionary's storage, each key and each value.
    package static func attributes(_ attributes: Attributes) -> Int {
        var total = dictionaryStorage(
            capacity: attributes.capacity,
            keyStride: MemoryLayout<String>.stride,
            valueStride: MemoryLayout<AttributeValue>.stride
        )
        for (key, value) in attributes { total += string(key) + self.value(value) }
        return total
    }

    /// The heap of a resource and an instrumentation scope, which every item of one resource and scope in a
    /// request shares: charged once, with the first of them.
    package static func shared(resource: Resource, scope: InstrumentationScope) -> Int {
        attributes(resource.attributes) + string(scope.name) + string(scope.version) + attributes(scope.attributes)
    }

    // MARK: Items

    /// The heap one span holds of its own (its resource and scope are ``shared(resource:scope:)``); the span's
    /// inline bytes are its slot in its trace's array (``TelemetryStore``'s charge adds the array's storage).
    package static func span(_ span: Span) -> Int {
        var total = string(span.traceState) + string(span.name) + attributes(span.attributes) + string(span.status.message)
        total += arrayStorage(capacity: span.events.capacity, stride: MemoryLayout<SpanEvent>.stride)
        for event in span.events { total += string(event.name) + attributes(event.attributes) }
        total += arrayStorage(capacity: span.links.capacity, stride: MemoryLayout<SpanLink>.stride)
        for link in span.links { total += string(link.traceState) + attributes(link.attributes) }
        return total + string(span.channel.name)
    }

    /// The heap one log record holds of its own (its resource and scope are ``shared(resource:scope:)``), plus its
    /// slot in the store's ring of log records.
    package static func logRecord(_ record: LogRecord) -> Int {
        logRecordSlot + string(record.severityText) + value(record.body) + attributes(record.attributes) + string(record.eventName)
            + string(record.channel.name)
    }

    /// The bytes of a log record's slot in the store's ring (the record and its charge).
    package static let logRecordSlot = MemoryLayout<LogRecord>.stride + MemoryLayout<Int>.stride

    /// The heap of one metric point held decoded (a series keeps its newest one so): its arrays.
    package static func point(_ point: MetricPoint) -> Int {
        switch point {
        case .number: 0
        case .histogram(let histogram):
            arrayStorage(capacity: histogram.explicitBounds.capacity, stride: 8) + arrayStorage(capacity: histogram.bucketCounts.capacity, stride: 8)
        case .exponentialHistogram(let histogram):
            arrayStorage(capacity: histogram.positive.bucketCounts.capacity, stride: 8)
                + arrayStorage(capacity: histogram.negative.bucketCounts.capacity, stride: 8)
        case .summary(let summary): arrayStorage(capacity: summary.quantiles.capacity, stride: MemoryLayout<SummaryPoint.Quantile>.stride)
        }
    }

    /// The heap a series holds apart from its points: its name, unit, description, attributes, scope and resource
    /// (a series keeps its own copies: series are few, and outlive the requests that brought them).
    package static func seriesHeader(_ series: MetricSeries) -> Int {
        string(series.key.metricName) + attributes(series.key.attributes) + string(series.unit) + string(series.description)
            + shared(resource: series.key.resource, scope: series.scope) + string(series.channel.name)
    }

    // MARK: Requests

    /// How many times its decompressed size a request is reserved for before it is decoded: its body (1×) and
    /// the items decoded from it, which take 2.5–3.6 times their protobuf size resident for spans with 3–30
    /// attributes (6 times for spans with none; measured in `ResidentCostTests`; metric points take less). Once
    /// decoded, the items are charged what they cost, and the reservation is given back.
    package static let decodingFactor = 5

    /// What admission reserves for a request of `bytes` (decompressed) before decoding it: ``decodingFactor`` × `bytes`.
    package static func admission(bytes: Int) -> Int { bytes.multipliedReportingOverflow(by: decodingFactor).overflow ? .max : bytes * decodingFactor }
}
