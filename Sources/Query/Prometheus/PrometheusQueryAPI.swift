import Foundation
package import Hummingbird
package import Intake
import NIOCore
import PromQL
package import PromQLSyntax
package import Telemetry

/// Prometheus' HTTP query API over the store, answered by the same PromQL engine as the checks, in
/// Prometheus' JSON shape, so that curl, scripts and Grafana's Prometheus data source can read a run.
///
/// `GET`/`POST` (form-encoded) `/api/v1/query` (`query`, `time`), `/api/v1/query_range` (`query`, `start`,
/// `end`, `step`), `/api/v1/series` (`match[]`, `start`, `end`), `/api/v1/labels` and
/// `/api/v1/label/{name}/values` (optional `match[]`), `/api/v1/status/tsdb` (series per metric name and
/// label value counts: the cardinality view), `/api/v1/status/buildinfo` and `/api/v1/metadata`.
/// Times are Unix seconds (fractions allowed) or RFC 3339, converted as Prometheus converts them — times
/// past Int64 milliseconds wrap as Go's do, never trap (``PrometheusTime``); steps are seconds or durations
/// (`15s`), refused when they overflow Int64 nanoseconds. Mistakes answer 400 with `errorType: bad_data`,
/// evaluation failures 422 with `errorType: execution`. Queries are parsed and evaluated on a
/// ``PromQLEvaluationThread``, whose stack fits the deepest expression the parser accepts.
/// OTLP metrics appear under their Prometheus names (``PrometheusView``).
/// The converted series are cached (``PromQLEngineCache``) and converted again only after new points arrive.
package struct PrometheusQueryAPI: ReadAPI {
    let store: TelemetryStore
    /// The engine over the store, converted again only after new points arrive.
    let engines: PromQLEngineCache

    /// Answers queries over everything `store` holds.
    package init(store: TelemetryStore) {
        self.store = store
        engines = PromQLEngineCache(store: store)
    }

    package func serves(_ path: String) -> Bool { Self.serves(path) }

    static let paths: Set<String> = [
        "/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/status/tsdb",
        "/api/v1/status/buildinfo", "/api/v1/metadata",
    ]

    /// Whether `path` is one of the API's.
    static func serves(_ path: String) -> Bool {
        paths.contains(path) || (path.hasPrefix("/api/v1/label/") && path.hasSuffix("/values"))
    }

    package func respond(to request: Request) async throws -> Response {
        guard request.method == .get || request.method == .post else {
            return Self.error(.methodNotAllowed, type: "bad_data", "\(request.method) is not allowed: use GET or POST", headers: [.allow: "GET, POST"])
        }
        var parameters = Self.formParameters(request.uri.query ?? "")
        if request.method == .post {
            guard HTTPSink.mediaType(request.headers[.contentType]) == "application/x-www-form-urlencoded" else {
                return Self.error(.unsupportedMediaType, type: "bad_data", "POST a form: Content-Type application/x-www-form-urlencoded")
            }
            let body = try await HTTPSink.readBody(request, limit: 1 << 20, allowCompression: false)
            for (key, values) in Self.formParameters(String(buffer: body)) { parameters[key, default: []] += values }
        }
        // Parsing and evaluating recurse as deep as the query nests: on a thread whose stack fits the deepest
        // query the parser accepts, whatever thread the request arrived on.
        let (path, received) = (request.uri.path, parameters)
        do throws(QueryFailure) {
            let data = try await PromQLEvaluationThread.run { () throws(QueryFailure) in try self.answer(path: path, parameters: received) }
            return Self.json(.ok, .object([("status", .string("success")), ("data", data)]))
        } catch {
            return Self.error(error.status, type: error.type, error.message)
        }
    }

    struct QueryFailure: Error, Sendable {
        var status: HTTPResponse.Status
        var type: String
        var message: String

        static func badData(_ message: String) -> QueryFailure { QueryFailure(status: .badRequest, type: "bad_data", message: message) }
    }

    func answer(path: String, parameters: [String: [String]]) throws(QueryFailure) -> JSONValue {
        let engine = engines.engine()
        switch path {
        case "/api/v1/query":
            let expression = try parse(parameters["query"]?.first, name: "query")
            let time = try parameters["time"]?.first.map { (text) throws(QueryFailure) in try Self.parseTime(text, name: "time").milliseconds } ?? Self.now()
            let value: QueryValue
            do throws(PromQLError) { value = try engine.instantQuery(expression, at: time) } catch {
                throw QueryFailure(status: .unprocessableContent, type: "execution", message: error.message)
            }
            return Self.encode(value, at: time)
        case "/api/v1/query_range":
            let expression = try parse(parameters["query"]?.first, name: "query")
            let start = try Self.parseTime(required(parameters, "start"), name: "start")
            let end = try Self.parseTime(required(parameters, "end"), name: "end")
            guard !end.isBefore(start) else { throw .badData("invalid parameter \"end\": end timestamp must not be before start time") }
            let step = try Self.parseStep(required(parameters, "step"))
            guard step > 0 else {
                throw .badData("invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer")
            }
            // Prometheus compares in nanoseconds, the span saturated rather than overflowing.
            guard end.nanoseconds(since: start) / step <= 11_000 else {
                throw .badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
            }
            let stepMilliseconds = step / 1_000_000
            guard stepMilliseconds > 0 else {
                // Prometheus' engine divides by the step in milliseconds and fails: "integer divide by zero".
                throw QueryFailure(status: .unprocessableContent, type: "execution", message: "query resolution step widths under 1ms cannot be evaluated")
            }
            // Times past the year 2262 wrap as Go's do; an end that wrapped below the start has no steps.
            let (startMilliseconds, endMilliseconds) = (start.milliseconds, end.milliseconds)
            guard startMilliseconds <= endMilliseconds else { return .object([("resultType", .string("matrix")), ("result", .array([]))]) }
            let matrix: [Series]
            do throws(PromQLError) {
                matrix = try engine.rangeQuery(expression, start: startMilliseconds, end: endMilliseconds, step: stepMilliseconds)
            } catch {
                throw QueryFailure(status: .unprocessableContent, type: "execution", message: error.message)
            }
            return .object([("resultType", .string("matrix")), ("result", .array(matrix.map(Self.encode)))])
        case "/api/v1/series":
            let matches = parameters["match[]"] ?? []
            guard !matches.isEmpty else { throw .badData("no match[] parameter provided") }
            return .array(try selected(engine, matches, parameters).map { Self.encode($0.labels) })
        case "/api/v1/labels":
            let series = try selected(engine, parameters["match[]"] ?? [], parameters)
            return .array(Set(series.flatMap { $0.labels.pairs.map(\.name) }).sorted().map(JSONValue.string))
        case "/api/v1/status/tsdb":
            return tsdbStatus(engine)
        case "/api/v1/status/buildinfo":
            return .object([
                ("version", .string("2.42.0")), ("revision", .string("otelbench")), ("branch", .string("otelbench")),
                ("buildUser", .string("otelbench")), ("buildDate", .string("")), ("goVersion", .string("")),
            ])
        case "/api/v1/metadata":
            return metadata()
        default:
            // /api/v1/label/{name}/values
            let name = String(path.dropFirst("/api/v1/label/".count).dropLast("/values".count)).removingPercentEncoding ?? ""
            guard !name.isEmpty, !name.contains("/") else { throw QueryFailure(status: .notFound, type: "bad_data", message: "no endpoint at \(path)") }
            let series = try selected(engine, parameters["match[]"] ?? [], parameters)
            return .array(Set(series.compactMap { $0.labels[name] }).sorted().map(JSONValue.string))
        }
    }

    private func required(_ parameters: [String: [String]], _ name: String) throws(QueryFailure) -> String {
        guard let value = parameters[name]?.first, !value.isEmpty else { throw .badData("invalid parameter \"\(name)\": missing") }
        return value
    }

    private func parse(_ text: String?, name: String) throws(QueryFailure) -> PromQLExpression {
        guard let text, !text.isEmpty else { throw .badData("invalid parameter \"\(name)\": missing") }
        do throws(PromQLError) { return try PromQLParser.parse(text) } catch {
            throw .badData("invalid parameter \"\(name)\": \(error)")
        }
    }

    /// The series the `match[]` selectors name (all of them without any), having samples in `[start, end]` when given.
    private func selected(_ engine: PromQLEngine, _ matches: [String], _ parameters: [String: [String]]) throws(QueryFailure) -> [Series] {
        let start = try parameters["start"]?.first.map { (text) throws(QueryFailure) in try Self.parseTime(text, name: "start").storageMilliseconds } ?? .min
        let end = try parameters["end"]?.first.map { (text) throws(QueryFailure) in try Self.parseTime(text, name: "end").storageMilliseconds } ?? .max
        var selectors: [[LabelMatcher]] = []
        for match in matches {
            guard case .vectorSelector(let selector) = try parse(match, name: "match[]") else {
                throw .badData("invalid parameter \"match[]\": \(match) is not a series selector")
            }
            selectors.append(selector.matchers)
        }
        // The union of the selections, in the engine's (label) order.
        let wanted = Set(selectors.flatMap { engine.select($0).map(\.labels) })
        let candidates = selectors.isEmpty ? engine.series : engine.series.filter { wanted.contains($0.labels) }
        return candidates.filter { series in series.samples.contains { $0.timestamp >= start && $0.timestamp <= end } }
    }

    /// Prometheus' TSDB status: head statistics and the top 10 by series count, label value count and pair.
    private func tsdbStatus(_ engine: PromQLEngine) -> JSONValue {
        var seriesByName: [String: Int] = [:]
        var valuesByLabel: [String: Set<String>] = [:]
        var seriesByPair: [String: Int] = [:]
        var memoryByLabel: [String: Int] = [:]
        for series in engine.series {
            if let name = series.labels.metricName { seriesByName[name, default: 0] += 1 }
            for pair in series.labels.pairs {
                valuesByLabel[pair.name, default: []].insert(pair.value)
                seriesByPair["\(pair.name)=\(pair.value)", default: 0] += 1
            }
        }
        for (label, values) in valuesByLabel { memoryByLabel[label] = values.reduce(0) { $0 + $1.utf8.count } }
        func top(_ counts: [String: Int]) -> JSONValue {
            .array(
                counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map {
                    .object([("name", .string($0.key)), ("value", .int(Int64($0.value)))])
                }
            )
        }
        let samples = engine.series.reduce(0) { $0 + $1.samples.count }
        return .object([
            (
                "headStats",
                .object([
                    ("numSeries", .int(Int64(engine.series.count))),
                    ("numLabelPairs", .int(Int64(seriesByPair.count))),
                    ("chunkCount", .int(Int64((samples + 119) / 120))),
                    ("minTime", .int(engine.earliestTimestamp ?? 0)),
                    ("maxTime", .int(engine.latestTimestamp ?? 0)),
                ])
            ),
            ("seriesCountByMetricName", top(seriesByName)),
            ("labelValueCountByLabelName", top(valuesByLabel.mapValues(\.count))),
            ("memoryInBytesByLabelName", top(memoryByLabel)),
            ("seriesCountByLabelValuePair", top(seriesByPair)),
        ])
    }

    /// Type, help and unit of every metric, by Prometheus name.
    private func metadata() -> JSONValue {
        var entries: [String: (type: String, help: String, unit: String)] = [:]
        for metric in store.series where !PrometheusView.isNativePrometheus(metric) {
            let type: String =
                switch metric.kind {
                case .gauge, .sum(isMonotonic: false, _): "gauge"
                case .sum(isMonotonic: true, _): "counter"
                case .histogram, .exponentialHistogram: "histogram"
                case .summary: "summary"
                }
            entries[PrometheusView.metricName(metric)] = (type, metric.description, metric.unit)
        }
        return .object(
            entries.keys.sorted().map { name in
                let entry = entries[name]!
                return (name, .array([.object([("type", .string(entry.type)), ("help", .string(entry.help)), ("unit", .string(entry.unit))])]))
            }
        )
    }

    // MARK: encoding

    static func encode(_ value: QueryValue, at time: Int64) -> JSONValue {
        let result: JSONValue =
            switch value {
            case .scalar(let number): point(time, number)
            case .string(let text): .array([timestamp(time), .string(text)])
            case .vector(let elements):
                .array(elements.map { .object([("metric", encode($0.labels)), ("value", point(time, $0.value))]) })
            case .matrix(let series): .array(series.map(encode))
            }
        return .object([("resultType", .string(value.type.rawValue)), ("result", result)])
    }

    static func encode(_ series: Series) -> JSONValue {
        .object([("metric", encode(series.labels)), ("values", .array(series.samples.map { point($0.timestamp, $0.value) }))])
    }

    static func encode(_ labels: Labels) -> JSONValue {
        .object(labels.pairs.map { ($0.name, .string($0.value)) })
    }

    /// `[seconds, "value"]`, as Prometheus writes a point.
    static func point(_ time: Int64, _ value: Double) -> JSONValue {
        .array([timestamp(time), .string(PromQLFormat.number(value))])
    }

    static func timestamp(_ milliseconds: Int64) -> JSONValue {
        milliseconds % 1000 == 0 ? .int(milliseconds / 1000) : .double(Double(milliseconds) / 1000)
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.serialized)))
    }

    static func error(_ status: HTTPResponse.Status, type: String, _ message: String, headers: HTTPFields = [:]) -> Response {
        var response = json(status, .object([("status", .string("error")), ("errorType", .string(type)), ("error", .string(message))]))
        for field in headers { response.headers.append(field) }
        return response
    }

    // MARK: parameters

    /// `a=1&b=2` with `+` as space and percent escapes decoded; repeated keys keep every value. A part whose escapes
    /// are broken (`%` without two hex digits) or decode to bytes that are not UTF-8 is kept as written, with only
    /// `+` turned into space (as Foundation's `removingPercentEncoding` returning `nil` left it).
    static func formParameters(_ text: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            while start <= bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.count
                if end > start {
                    let pair = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                        let key = UnsafeBufferPointer(rebasing: pair[..<equals])
                        let value = UnsafeBufferPointer(rebasing: pair[(equals + 1)...])
                        result[decodeFormComponent(key), default: []].append(decodeFormComponent(value))
                    } else {
                        result[decodeFormComponent(pair), default: []].append("")
                    }
                }
                start = end + 1
            }
        }
        return result
    }

    /// One key or value of a form: `+` as space, `%XX` as the byte XX, the bytes read as UTF-8.
    static func decodeFormComponent(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        var escapesHold = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                if index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                    decoded.append(high << 4 | low)
                    index += 3
                    continue
                }
                escapesHold = false
            }
            decoded.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        if escapesHold, let text = String(validating: decoded, as: UTF8.self) { return text }
        return String(decoding: bytes.lazy.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Unix seconds (with a fraction) or RFC 3339, converted as Prometheus converts them (``PrometheusTime``).
    static func parseTime(_ text: String, name: String) throws(QueryFailure) -> PrometheusTime {
        guard let time = PrometheusTime.parse(text) else {
            throw .badData("invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid timestamp (Unix seconds or RFC 3339)")
        }
        return time
    }

    /// Seconds (`15`, `0.5`) or a Prometheus duration (`15s`, `1m30s`), as nanoseconds (Go's `time.Duration`).
    static func parseStep(_ text: String) throws(QueryFailure) -> Int64 {
        switch PrometheusTime.parseDuration(text) {
        case .success(let nanoseconds): return nanoseconds
        case .failure(.overflows): throw .badData("invalid parameter \"step\": cannot parse \"\(text)\" to a valid duration. It overflows int64")
        case .failure(.unreadable): throw .badData("invalid parameter \"step\": cannot parse \"\(text)\" to a valid duration")
        }
    }
}
