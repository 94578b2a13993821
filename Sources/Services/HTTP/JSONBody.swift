import Foundation
import Hummingbird
import NIOCore

/// JSON in and out, with 400 answers that say what is wrong with the body.
enum JSONBody {
    static let maxBytes = 1 << 20

    /// Decodes the request body as `T`; answers 400 naming the missing or mistyped field, or the JSON error.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(maxBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { throw HTTPError(.badRequest, message: "the body is empty; send a JSON object") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let DecodingError.keyNotFound(key, context) {
            throw HTTPError(.badRequest, message: "missing field \"\(path(context.codingPath + [key]))\"")
        } catch let DecodingError.typeMismatch(expected, context) {
            throw HTTPError(.badRequest, message: "field \"\(path(context.codingPath))\" must be \(describe(expected))")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw HTTPError(.badRequest, message: "field \"\(path(context.codingPath))\" must be \(describe(expected)), not null")
        } catch let DecodingError.dataCorrupted(context) {
            if context.codingPath.isEmpty {
                throw HTTPError(.badRequest, message: "the body is not valid JSON")
            }
            throw HTTPError(.badRequest, message: "field \"\(path(context.codingPath))\": \(context.debugDescription)")
        } catch {
            throw HTTPError(.badRequest, message: "the body is not valid JSON")
        }
    }

    /// A JSON response.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// Encodes a value to JSON bytes (for outgoing calls).
    static func bytes(_ value: some Encodable) throws -> [UInt8] {
        Array(try JSONEncoder().encode(value))
    }

    /// Decodes JSON bytes from a peer's answer; a peer that answers something else is a 502.
    static func decodeAnswer<T: Decodable>(_ type: T.Type, from bytes: [UInt8], peer: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw HTTPError(.badGateway, message: "\(peer) answered something that is not the expected JSON: \(error)")
        }
    }

    /// The `message` of an error answer from a peer (Hummingbird's `{"error":{"message":...}}`), or the raw text.
    static func errorMessage(from bytes: [UInt8]) -> String {
        struct Envelope: Decodable {
            struct Inner: Decodable { var message: String? }
            var error: Inner?
        }
        if let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(bytes)), let message = envelope.error?.message {
            return message
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        case is [String].Type: "a list of strings"
        default: "\(type)"
        }
    }
}
