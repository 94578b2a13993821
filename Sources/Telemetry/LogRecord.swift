/// One log record as the store keeps it (OTLP `LogRecord`).
public struct LogRecord: Sendable, Hashable {
    public var timeUnixNano: UInt64
    public var observedTimeUnixNano: UInt64
    /// OTLP `SeverityNumber` (1–24; 0 unspecified).
    public var severityNumber: Int
    public var severityText: String
    public var body: AttributeValue
    public var attributes: Attributes
    /// The trace the record was emitted in, if any.
    public var traceID: TraceID?
    /// The span the record was emitted in, if any.
    public var spanID: SpanID?
    public var flags: UInt32
    public var eventName: String
    public var resource: Resource
    public var scope: InstrumentationScope
    /// The intake channel that received the record.
    public var channel: IntakeChannel

    /// Creates a log record; fields not given take OTLP's defaults.
    public init(
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
