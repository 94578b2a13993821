/// One log record as the store keeps it (OTLP `LogRecord`).
package struct LogRecord: Sendable, Hashable {
    package var timeUnixNano: UInt64
    package var observedTimeUnixNano: UInt64
    /// OTLP `SeverityNumber` (1–24; 0 unspecified).
    package var severityNumber: Int
    package var severityText: String
    package var body: AttributeValue
    package var attributes: Attributes
    /// The trace the record was emitted in, if any.
    package var traceID: TraceID?
    /// The span the record was emitted in, if any.
    package var spanID: SpanID?
    package var flags: UInt32
    package var eventName: String
    package var resource: Resource
    package var scope: InstrumentationScope
    /// The intake channel that received the record.
    package var channel: IntakeChannel

    /// Creates a log record; fields not given take OTLP's defaults.
    package init(
        timeUnixNano: UInt64 = 0,
        observedTimeUnixNano: UInt64 = 0,
        severityNumber: Int = 0,
        severityText: String = "",
        body: AttributeValue = .empty,
        attributes: Attributes = [:],
        traceID: TraceID? = nil,
        spanID: SpanID? = nil,
        flags: UInt32 = 0,
        eventName: String = "",
        resource: Resource = .init(),
        scope: InstrumentationScope = .init(),
        channel: IntakeChannel
    ) {
        self.timeUnixNano = timeUnixNano
        self.observedTimeUnixNano = observedTimeUnixNano
        self.severityNumber = severityNumber
        self.severityText = severityText
        self.body = body
        self.attributes = attributes
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.eventName = eventName
        self.resource = resource
        self.scope = scope
        self.channel = channel
    }
}
