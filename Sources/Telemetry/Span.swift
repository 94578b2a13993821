/// One span as the store keeps it, whichever protocol brought it.
package struct Span: Sendable, Hashable {
    package var traceID: TraceID
    package var spanID: SpanID
    /// The parent's span id; `nil` for a root span.
    package var parentSpanID: SpanID?
    /// The W3C `tracestate` the span carried, exactly as received.
    package var traceState: String
    /// OTLP span flags (the low byte holds the W3C trace flags; bits 8 and 9 say whether the parent was remote).
    package var flags: UInt32
    package var name: String
    package var kind: SpanKind
    package var startTimeUnixNano: UInt64
    package var endTimeUnixNano: UInt64
    package var attributes: Attributes
    package var droppedAttributesCount: UInt32
    package var events: [SpanEvent]
    package var links: [SpanLink]
    package var status: SpanStatus
    package var resource: Resource
    package var scope: InstrumentationScope
    /// The intake channel that received the span.
    package var channel: IntakeChannel

    /// Creates a span; fields not given take OTLP's defaults.
    package init(
        traceID: TraceID,
        spanID: SpanID,
        parentSpanID: SpanID? = nil,
        traceState: String = "",
        flags: UInt32 = 0,
        name: String,
        kind: SpanKind = .internal,
        startTimeUnixNano: UInt64 = 0,
        endTimeUnixNano: UInt64 = 0,
        attributes: Attributes = [:],
        droppedAttributesCount: UInt32 = 0,
        events: [SpanEvent] = [],
        links: [SpanLink] = [],
        status: SpanStatus = .init(),
        resource: Resource = .init(),
        scope: InstrumentationScope = .init(),
        channel: IntakeChannel
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.flags = flags
        self.name = name
        self.kind = kind
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
        self.events = events
        self.links = links
        self.status = status
        self.resource = resource
        self.scope = scope
        self.channel = channel
    }

    /// End minus start, in nanoseconds (0 when the end precedes the start).
    package var durationNanos: UInt64 { endTimeUnixNano >= startTimeUnixNano ? endTimeUnixNano - startTimeUnixNano : 0 }

    /// The W3C sampled flag, from the low byte of `flags`.
    package var isSampled: Bool { flags & 0x01 != 0 }
}

/// OTLP `Span.SpanKind`, with OTLP's integer values.
package enum SpanKind: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case unspecified = 0
    case `internal` = 1
    case server = 2
    case client = 3
    case producer = 4
    case consumer = 5

    package var description: String {
        switch self {
        case .unspecified: "unspecified"
        case .internal: "internal"
        case .server: "server"
        case .client: "client"
        case .producer: "producer"
        case .consumer: "consumer"
        }
    }
}

/// OTLP `Status`.
package struct SpanStatus: Sendable, Hashable {
    /// OTLP `Status.StatusCode`, with OTLP's integer values.
    package enum Code: Int, Sendable, Hashable {
        case unset = 0
        case ok = 1
        case error = 2
    }

    package var code: Code
    package var message: String

    /// Creates a status; unset by default.
    package init(code: Code = .unset, message: String = "") {
        self.code = code
        self.message = message
    }
}

/// A time-stamped event on a span (OTLP `Span.Event`; Jaeger's span logs).
package struct SpanEvent: Sendable, Hashable {
    package var timeUnixNano: UInt64
    package var name: String
    package var attributes: Attributes

    /// Creates an event.
    package init(timeUnixNano: UInt64, name: String, attributes: Attributes = [:]) {
        self.timeUnixNano = timeUnixNano
        self.name = name
        self.attributes = attributes
    }
}

/// A link from a span to another span context (OTLP `Span.Link`; Jaeger's references).
package struct SpanLink: Sendable, Hashable {
    package var traceID: TraceID
    package var spanID: SpanID
    package var traceState: String
    package var attributes: Attributes

    /// Creates a link.
    package init(traceID: TraceID, spanID: SpanID, traceState: String = "", attributes: Attributes = [:]) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceState = traceState
        self.attributes = attributes
    }
}
