/// Tags that Jaeger clients and the Collector's Jaeger translator use to carry OTLP fields; they become
/// those fields rather than attributes (and the query API writes them back as tags).
package enum JaegerSpecialTag {
    package static let spanKind = "span.kind"
    package static let statusCode = "otel.status_code"
    package static let statusDescription = "otel.status_description"
    package static let error = "error"
    package static let libraryName = "otel.library.name"
    package static let libraryVersion = "otel.library.version"
    package static let scopeName = "otel.scope.name"
    package static let scopeVersion = "otel.scope.version"
    package static let traceState = "w3c.tracestate"
    /// On a link: which Jaeger reference it came from (`child_of` or `follows_from`), as the Collector records it.
    package static let referenceType = "opentracing.ref_type"
    /// The log field that names an event.
    package static let event = "event"
}

/// The spans of one Jaeger batch as the sinks store them, and what is wrong with the others: one problem per
/// invalid span, naming it (`spans[3] ("GET /"): traceId is all zero`). A batch with any problem is refused whole.
package struct JaegerBatchSpans: Sendable {
    /// The valid spans, in the batch's order.
    package var spans: [Span] = []
    /// One line per invalid span, in the batch's order.
    package var problems: [String] = []

    package init(spans: [Span] = [], problems: [String] = []) {
        self.spans = spans
        self.problems = problems
    }

    /// How many spans the batch carried.
    package var spanCount: Int { spans.count + problems.count }
}

extension Attributes {
    /// Makes room for `count` more entries. An empty dictionary is replaced by a new one of that capacity (the
    /// usual case, and cheaper: `reserveCapacity` is not specialized, and looks up generic metadata on each call).
    @inlinable @inline(__always)
    package mutating func makeRoom(for count: Int) {
        if isEmpty { self = Self(minimumCapacity: count) } else { reserveCapacity(self.count + count) }
    }
}

/// Where a wire decoder puts the tags it reads: a span's, a log's or a process's.
package protocol JaegerTagCollector {
    /// Adds one tag; a later tag of the same key replaces an earlier one.
    mutating func add(_ key: String, _ value: AttributeValue)
    /// Makes room for `count` more tags.
    mutating func reserve(_ count: Int)
    /// Whether room has been made already (the protobuf decoder counts a message's tags once, before the first).
    var hasReserved: Bool { get set }
    /// A key already made whose UTF-8 is `utf8`, for the next tag: the decoders take it rather than make a new
    /// `String` of the same bytes (which are then valid UTF-8). `nil` (the default) when there is none.
    func reusableKey(utf8: UnsafeRawBufferPointer) -> String?
}

extension JaegerTagCollector {
    @inlinable @inline(__always)
    package func reusableKey(utf8: UnsafeRawBufferPointer) -> String? { nil }
}

/// A span's tags as the wire decoders (`JaegerThriftDecoder` (Intake), ``JaegerProtoWireDecoder``) read them: the tags
/// that carry OTLP fields (``JaegerSpecialTag``) set aside, the rest as attributes, a later tag of the same key
/// replacing an earlier one. ``JaegerSpanTagsBuilder`` makes them; `JaegerConversion` (Intake) builds the same from a
/// whole dictionary.
package struct JaegerSpanTags {
    package var attributes = Attributes()
    package var kind: AttributeValue?
    package var statusCode: AttributeValue?
    package var statusDescription: AttributeValue?
    package var error: AttributeValue?
    package var libraryName: AttributeValue?
    package var libraryVersion: AttributeValue?
    package var scopeName: AttributeValue?
    package var scopeVersion: AttributeValue?
    package var traceState: AttributeValue?

    package init() {}

    /// Sets the field of a special tag (``JaegerSpecialTag``) to `value`; `false`, and nothing set, for any other key.
    /// The special keys all differ in length, so nearly every key is told apart by its length alone.
    @inlinable @inline(__always)
    package mutating func setSpecialTag(_ key: String, _ value: AttributeValue) -> Bool {
        switch key.utf8.count {
        case 5 where key == JaegerSpecialTag.error: error = value
        case 9 where key == JaegerSpecialTag.spanKind: kind = value
        case 14 where key == JaegerSpecialTag.traceState: traceState = value
        case 15 where key == JaegerSpecialTag.scopeName: scopeName = value
        case 16 where key == JaegerSpecialTag.statusCode: statusCode = value
        case 17 where key == JaegerSpecialTag.libraryName: libraryName = value
        case 18 where key == JaegerSpecialTag.scopeVersion: scopeVersion = value
        case 20 where key == JaegerSpecialTag.libraryVersion: libraryVersion = value
        case 23 where key == JaegerSpecialTag.statusDescription: statusDescription = value
        default: return false
        }
        return true
    }
}

/// Reads the tags of a request's spans, one span after another, into ``JaegerSpanTags``: ``begin()`` before a span's
/// tags, ``finish()`` after them. What it keeps from one span makes the next one of the same kind cheaper, without
/// changing what it gets:
///
/// - the attributes are built by an ``AttributeLayoutTemplate``: a span whose other-than-special keys are the last
///   span's, in the same order, takes the last span's dictionary layout with its own values;
/// - a tag whose key bytes are those of the key at the same position in the last span takes that `String`
///   (``reusableKey(utf8:)``), rather than a new one.
///
/// The attributes are the dictionary that inserting the span's other tags in wire order into one reserved for all
/// of its tags (when there are two or more) gives: the same entries and the same capacity.
package struct JaegerSpanTagsBuilder: JaegerTagCollector {
    // Internal rather than private: the methods are inlinable, the Thrift decoder (Intake) calling them per tag.

    /// The special tags of the span being read; its attributes are made by ``finish()``.
    @usableFromInline var tags = JaegerSpanTags()
    /// The span's other tags in wire order, and the layout of the last span's attributes.
    @usableFromInline var attributes = AttributeLayoutTemplate()
    /// The tags the attributes are reserved for: the span's tag count when ``reserve(_:)`` was called, else 0.
    @usableFromInline var reserved = 0
    /// The key at each tag position of the spans read so far.
    @usableFromInline var recentKeys = RecentAttributeKeys()
    /// Tags added since ``begin()``: the next tag's position.
    @usableFromInline var position = 0
    package var hasReserved = false

    package init() {}

    /// Starts a span's tags afresh: a new span, or Thrift's tags list sent again, which replaces the earlier one.
    @inlinable @inline(__always)
    package mutating func begin() {
        tags = JaegerSpanTags()
        attributes.pairs.removeAll(keepingCapacity: true)
        reserved = 0
        position = 0
        hasReserved = false
    }

    /// Adds one tag: a special one to its field, any other to the attributes.
    @inlinable @inline(__always)
    package mutating func add(_ key: String, _ value: AttributeValue) {
        recentKeys.remember(key, at: position)
        position += 1
        if !tags.setSpecialTag(key, value) { attributes.pairs.append((key, value)) }
    }

    /// Reserves the attributes for `count` tags; both decoders call it before the span's first tag, as the
    /// attributes were reserved when each tag went straight into them. The buffers kept from span to span get room
    /// for them at once, rather than growing a step at a time on a request's first spans.
    @inlinable @inline(__always)
    package mutating func reserve(_ count: Int) {
        reserved = count
        if attributes.pairs.capacity < count { attributes.pairs.reserveCapacity(count) }
        recentKeys.reserve(count)
    }

    /// The key at the next tag's position in the last span that had a tag there, when its UTF-8 is `utf8`.
    @inlinable @inline(__always)
    package func reusableKey(utf8: UnsafeRawBufferPointer) -> String? { recentKeys.key(at: position, utf8: utf8) }

    /// The span's tags, its attributes made from the tags added since ``begin()``.
    @inlinable @inline(__always)
    package mutating func finish() -> JaegerSpanTags {
        // Moved out rather than copied (a copy retained every value, and the next `begin()` released them again).
        var finished = JaegerSpanTags()
        swap(&finished, &tags)
        finished.attributes = attributes.attributes(reserving: reserved)
        return finished
    }
}

/// A Jaeger log's fields as the wire decoders read them: the `event` field (the event's name) set aside.
package struct JaegerLogFields: JaegerTagCollector {
    package var attributes = Attributes()
    package var event: AttributeValue?
    package var hasReserved = false

    package init() {}

    @inlinable @inline(__always)
    package mutating func add(_ key: String, _ value: AttributeValue) {
        if key.utf8.count == 5, key == JaegerSpecialTag.event { event = value } else { attributes[key] = value }
    }

    @inlinable @inline(__always)
    package mutating func reserve(_ count: Int) { attributes.makeRoom(for: count) }

    /// The span event at `timeUnixNano`, named by the `event` field.
    package func event(at timeUnixNano: UInt64) -> SpanEvent {
        SpanEvent(timeUnixNano: timeUnixNano, name: event?.description ?? "", attributes: attributes)
    }
}

/// A Jaeger process as the wire decoders read it: its tags and service name, both of which a later field of the
/// same process replaces or extends as the protocol says.
package struct JaegerProcessFields: JaegerTagCollector {
    package var serviceName = ""
    package var attributes = Attributes()
    package var hasReserved = false

    package init() {}

    @inlinable @inline(__always)
    package mutating func add(_ key: String, _ value: AttributeValue) { attributes[key] = value }

    @inlinable @inline(__always)
    package mutating func reserve(_ count: Int) { attributes.makeRoom(for: count) }

    /// The resource: the tags, and `service.name` from the service name when it is not empty.
    package var resource: Resource {
        var attributes = attributes
        if !serviceName.isEmpty { attributes["service.name"] = .string(serviceName) }
        return Resource(attributes: attributes)
    }
}

/// What is wrong with one Jaeger span, in the words of the problem line (``JaegerSpanAssembly/problem(_:index:name:)``).
package struct JaegerSpanProblem: Error {
    package var message: String

    package init(message: String) { self.message = message }
}

/// A Jaeger reference with its ids checked: the parent, or a link.
package struct JaegerReference {
    package var traceID: TraceID
    package var spanID: SpanID
    /// api_v2's `SpanRefType` (jaeger.thrift's is the same): 0 `CHILD_OF`, 1 `FOLLOWS_FROM`; any other value
    /// (protobuf keeps unknown values) is neither.
    package var type: Int32

    package init(traceID: TraceID, spanID: SpanID, type: Int32) {
        self.traceID = traceID
        self.spanID = spanID
        self.type = type
    }
}

/// The rules of `JaegerConversion` (Intake) on the parts the wire decoders read, in its order and words, so that a span
/// decoded straight from the wire is the span the api_v2 model converts to, and a problem the same problem.
package enum JaegerSpanAssembly {
    package typealias Problem = JaegerSpanProblem

    /// A span's start and duration as nanoseconds: `nil` start or duration (negative, or past ``UnixTime/latest``)
    /// is the span's problem.
    @inline(__always)
    package static func times(
        start: (seconds: Int64, nanos: Int32),
        duration: (seconds: Int64, nanos: Int32)
    ) -> Result<(start: UInt64, duration: UInt64), Problem> {
        guard let startNanos = UnixTime.nanoseconds(seconds: start.seconds, nanos: Int64(start.nanos)) else {
            return .failure(Problem(message: "startTime \(start.seconds)s is out of range: send times \(UnixTime.rangeText)"))
        }
        guard let durationNanos = UnixTime.nanoseconds(seconds: duration.seconds, nanos: Int64(duration.nanos)) else {
            return .failure(Problem(message: "duration \(duration.seconds)s is negative or out of range"))
        }
        return .success((startNanos, durationNanos))
    }

    /// Adds a reference: the first `CHILD_OF` within the span's own trace is the parent; every other reference is a
    /// link whose `opentracing.ref_type` says which kind it was.
    @inline(__always)
    package static func add(_ reference: JaegerReference, traceID: TraceID, parent: inout SpanID?, links: inout [SpanLink]) {
        if parent == nil, reference.type == 0, reference.traceID == traceID {
            parent = reference.spanID
            return
        }
        let type = reference.type == 1 ? "follows_from" : "child_of"
        links.append(SpanLink(traceID: reference.traceID, spanID: reference.spanID, attributes: [JaegerSpecialTag.referenceType: .string(type)]))
    }

    /// The span, once its ids, times and references have passed: tags become kind, status, scope and trace state
    /// as `JaegerConversion` (Intake) makes them; the span must end by ``UnixTime/latest``.
    @inline(__always)
    package static func span(
        traceID: TraceID,
        spanID: SpanID,
        parent: SpanID?,
        flags: UInt32,
        name: String,
        start: UInt64,
        duration: UInt64,
        tags: JaegerSpanTags,
        events: [SpanEvent],
        links: [SpanLink],
        resource: Resource,
        channel: IntakeChannel
    ) -> Result<Span, Problem> {
        let (end, overflow) = start.addingReportingOverflow(duration)
        guard !overflow, end <= UnixTime.latest else {
            return .failure(Problem(message: "startTime + duration is out of range: the span must end \(UnixTime.rangeText)"))
        }
        var attributes = tags.attributes
        var status = SpanStatus()
        let errorFlagged = tags.error == .bool(true) || tags.error == .string("true")
        switch tags.statusCode?.description.uppercased() {
        case "ERROR": status.code = .error
        case "OK": status.code = .ok
        default: status.code = errorFlagged ? .error : .unset
        }
        if status.code == .error, let description = tags.statusDescription { status.message = description.description }
        // `error=false` says nothing about the status: keep it as it was sent.
        if let error = tags.error, !errorFlagged { attributes[JaegerSpecialTag.error] = error }
        var scope = InstrumentationScope()
        if let scopeName = tags.scopeName ?? tags.libraryName { scope.name = scopeName.description }
        if let scopeVersion = tags.scopeVersion ?? tags.libraryVersion { scope.version = scopeVersion.description }
        return .success(
            Span(
                traceID: traceID,
                spanID: spanID,
                parentSpanID: parent,
                traceState: tags.traceState?.description ?? "",
                flags: flags & 0x01,
                name: name,
                kind: spanKind(tags.kind),
                startTimeUnixNano: start,
                endTimeUnixNano: end,
                attributes: attributes,
                events: events,
                links: links,
                status: status,
                resource: resource,
                scope: scope,
                channel: channel
            )
        )
    }

    /// A `span.kind` tag's kind (any case); unspecified for anything else.
    package static func spanKind(_ value: AttributeValue?) -> SpanKind {
        switch value?.description.lowercased() {
        case "client": .client
        case "server": .server
        case "producer": .producer
        case "consumer": .consumer
        case "internal": .internal
        default: .unspecified
        }
    }

    /// The problem line of the span at `index` named `name`.
    package static func problem(_ problem: Problem, index: Int, name: String) -> String {
        "spans[\(index)] (\"\(name)\"): \(problem.message)"
    }
}
