/// The entity that produced telemetry (OTLP `Resource`).
package struct Resource: Hashable, Sendable {
    /// The resource attributes, `service.name` among them.
    package var attributes: Attributes

    /// Creates a resource from its attributes.
    package init(attributes: Attributes = [:]) { self.attributes = attributes }

    /// `service.name`, or `unknown_service` as the specification says when it is missing.
    package var serviceName: String { attributes.string("service.name") ?? "unknown_service" }
}

/// The library that produced telemetry (OTLP `InstrumentationScope`).
package struct InstrumentationScope: Hashable, Sendable {
    package var name: String
    package var version: String
    package var attributes: Attributes

    /// Creates a scope.
    package init(name: String = "", version: String = "", attributes: Attributes = [:]) {
        self.name = name
        self.version = version
        self.attributes = attributes
    }
}
