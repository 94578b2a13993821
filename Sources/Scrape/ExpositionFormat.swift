import Intake

/// The two exposition formats.
package enum ExpositionFormat: Sendable {
    /// The text format 0.0.4.
    case text
    /// OpenMetrics 1.0.0.
    case openMetrics

    /// The `Content-Type` of an answer in this format.
    package var contentType: String {
        switch self {
        case .text: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// The format an `Accept` header prefers: OpenMetrics when its quality is at least text's, else text.
    package static func negotiated(accept: String?) -> ExpositionFormat {
        guard let accept else { return .text }
        var openMetricsQuality = -1.0
        var textQuality = -1.0
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { String($0).lowercased().trimmingSpaces }
            guard let mediaType = parts.first else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            switch mediaType {
            case "application/openmetrics-text":
                if parts.contains(where: { $0.hasPrefix("version=") && $0 != "version=1.0.0" }) { continue }
                openMetricsQuality = max(openMetricsQuality, quality)
            case "text/plain", "*/*", "text/*": textQuality = max(textQuality, quality)
            default: continue
            }
        }
        return openMetricsQuality > 0 && openMetricsQuality >= textQuality ? .openMetrics : .text
    }
}
