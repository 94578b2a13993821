import Foundation
import HTTPTypes
import Hummingbird
import Tracing

/// Opens the server span of every request: extracts `traceparent`/`tracestate` (through the service's incoming
/// faults), starts the request's simulated clock from the caller's skew, names the span after the matched route,
/// and answers errors in HTTP terms while recording them on the span (5xx as error status; 4xx as a status code
/// attribute, the operation span below carries the error).
struct ServerSpanMiddleware<Context: RequestContext>: RouterMiddleware {
    let telemetry: ServiceTelemetry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        let incoming = telemetry.extract(headers)
        let callerSkew = request.headers[HTTPField.Name(RequestTimeline.skewHeader)!].flatMap { Int64($0) } ?? 0
        let timeline = RequestTimeline(skewNanos: callerSkew)
        return try await RequestTimeline.$current.withValue(timeline) {
            try await ServiceTelemetry.IncomingPropagation.$current.withValue(incoming) {
                try await telemetry.withSpan("\(request.method.rawValue)", kind: .server, parent: incoming.context) { span in
                    span.attributes["http.request.method"] = request.method.rawValue
                    span.attributes["url.path"] = request.uri.path
                    span.attributes["url.scheme"] = "http"
                    var response: Response
                    // The conventions require error.type on a server span whose request ended in a 5xx: the
                    // error's type when one was thrown, else the status code.
                    var errorType: String?
                    do {
                        response = try await next(request, context)
                    } catch let error as any HTTPResponseError {
                        response = try error.response(from: request, context: context)
                        if response.status.code >= 500 {
                            telemetry.fail(span, error)
                            errorType = String(describing: type(of: error))
                        }
                    } catch {
                        // Anything else is a bug or an injected failure: a 500 that says what happened.
                        telemetry.fail(span, error)
                        errorType = String(describing: type(of: error))
                        response = try HTTPError(.internalServerError, message: ServiceTelemetry.message(of: error))
                            .response(from: request, context: context)
                    }
                    if let route = context.endpointPath {
                        span.operationName = "\(request.method.rawValue) \(route)"
                        span.attributes["http.route"] = route
                    }
                    span.attributes["http.response.status_code"] = Int(response.status.code)
                    if response.status.code >= 500 { span.attributes["error.type"] = errorType ?? String(response.status.code) }
                    response.headers[HTTPField.Name(RequestTimeline.skewHeader)!] = String(timeline.skew)
                    return response
                }
            }
        }
    }
}
