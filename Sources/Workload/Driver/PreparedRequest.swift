import NIOCore
import Scenario

/// One request template of the workload made ready to send many times: the parts of its HTTP/1.1 request that
/// are the same every time are encoded once (``HTTP1Request``'s rules: tokens checked, CR/LF/NUL in values sent as
/// spaces, the target percent-encoded), so that each request only writes the trace context, the placeholders'
/// values and the body's length.
///
/// A class: a slot, the pool's queue and the connection pass it on with one retain, where the template's strings
/// would take several.
final class PreparedRequest: Sendable {
    let template: RequestTemplate
    /// The template's position in the workload's list.
    let index: Int
    /// Whether the method is HEAD (whose answer has no body).
    let isHead: Bool
    /// `METHOD ` (the method as a token, then a space).
    let methodAndSpace: ByteBuffer
    /// The request target without the origin's prefix when the path has no placeholder (a leading `/` added);
    /// `nil`: rendered per request.
    let fixedTarget: ByteBuffer?
    /// Whether the body has a placeholder (rendered per request).
    let bodyHasPlaceholders: Bool
    /// The template's header lines, as sent with the trace context its ``TraceContextSpec`` gives: without
    /// those it replaces (`traceparent` when it propagates, `tracestate` when it sends one) and without the
    /// framing headers the driver writes itself.
    let headerLines: ByteBuffer
    /// Whether the template has its own `Host` (else the origin's is sent).
    let hasHost: Bool
    /// Whether the template has its own `Content-Type` (else a body is sent as `application/json`).
    let hasContentType: Bool

    init(_ template: RequestTemplate, index: Int) {
        self.template = template
        self.index = index
        isHead = HTTP1Request.isHead(template.method)
        var method = ByteBuffer()
        HTTP1Request.writeToken(template.method, into: &method)
        method.writeInteger(UInt8(ascii: " "))
        methodAndSpace = method
        if Placeholders.hasPlaceholder(template.path) {
            fixedTarget = nil
        } else {
            var target = ByteBuffer()
            if !template.path.hasPrefix("/") { target.writeInteger(UInt8(ascii: "/")) }
            HTTP1Request.writeTarget(template.path, into: &target)
            fixedTarget = target
        }
        bodyHasPlaceholders = template.body.map(Placeholders.hasPlaceholder) ?? false
        var lines = ByteBuffer()
        let spec = template.trace
        let written = HTTP1Request.writeTemplateHeaders(template.headers, into: &lines) { name in
            HTTP1Request.isReplacedByContext(name, propagates: spec.propagate, sendsTracestate: spec.tracestate != nil)
        }
        headerLines = lines
        hasHost = written.hasHost
        hasContentType = written.hasContentType
    }

    /// Whether `trace` is the context this template's spec sends, which ``headerLines`` were written for (a W3C
    /// suite case sends its own headers instead).
    func fitsHeaderLines(_ trace: SentTraceContext) -> Bool {
        trace.invalid == nil && trace.propagated == template.trace.propagate
            && (!trace.propagated || (trace.tracestate != nil) == (template.trace.tracestate != nil))
    }
}
