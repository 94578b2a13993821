/// The entity that produced telemetry (OTLP `Resource`).
public struct Resource: Hashable, Sendable {
    /// The resource attributes, `service.name` among them.
    public var attributes: Attributes

    /// Creates a resource from its attributes.
    public init(attributes: Attributes = [:]) { self.attributes = attributes }

    /// `service.name`, or `unknown_service` as the specification says when it is missing.
    public var serviceName: String { attributes.string("service.name") ?? "unknown_service" }
}

/// The library that produced telemetry (OTLP `InstrumentationScope`).
public struct InstrumentationScope: Hashable, Sendable {
    public var name: String
    public var version: String
    public var attributes: Attributes

    /// Creates a scope.
    public init(name: String = "", version: String = "", attributes: Attributes = [:]) {
        self.name = name
        self.version = version
        self.attributes = attributes
    }
}
