import GRPCCore
import GRPCProtobuf
import Intake
import Telemetry
import Testing

/// A throttling refusal on gRPC carries its delay as `google.rpc.RetryInfo`, as the OTLP specification asks:
/// in the status details (`grpc-status-details-bin`) and in the `google.rpc.retryinfo-bin` trailer; and each
/// refusal is sorted retryable or not as the specification's tables say.
@Suite struct RetryInfoTests {
    @Test(arguments: [Refusal.Code.tooManyRequests, .unavailable])
    func throttlingCarriesRetryInfo(_ code: Refusal.Code) throws {
        let refusal = Refusal(code, "slow down", retryAfterSeconds: 3)
        let error = RPCError(code: refusal.rpcErrorCode, message: refusal.rpcErrorMessage, metadata: refusal.rpcErrorMetadata)
        let status = try #require(try error.unpackGoogleRPCStatus())
        #expect(status.code == refusal.rpcErrorCode)
        #expect(status.details.compactMap(\.retryInfo).map(\.delay) == [.seconds(3)])
        let trailer = try #require(refusal.rpcErrorMetadata[binaryValues: "google.rpc.retryinfo-bin"].first(where: { _ in true }))
        // RetryInfo { retry_delay { seconds: 3 } }
        #expect(trailer == [0x0a, 0x02, 0x08, 0x03])

        let answer = refusal.exportAnswer(on: .otlpGRPC)
        #expect(answer.retryable && answer.advertisedDelay == .seconds(3))
    }

    @Test func noDelayNoRetryInfo() {
        #expect(Refusal(.tooManyRequests, "slow down").rpcErrorMetadata.isEmpty)
        #expect(Refusal(.invalidArgument, "bad", retryAfterSeconds: 3).rpcErrorMetadata.isEmpty)
        let exhausted = Refusal(.tooManyRequests, "slow down").exportAnswer(on: .otlpGRPC)
        #expect(exhausted.code == "RESOURCE_EXHAUSTED" && !exhausted.retryable, "RESOURCE_EXHAUSTED without RetryInfo is not retryable")
    }

    @Test func httpAnswersFollowTheStatus() {
        let throttled = Refusal(.tooManyRequests, "slow down", retryAfterSeconds: 2).exportAnswer(on: .otlpHTTPProtobuf)
        #expect(throttled.code == "429" && throttled.retryable && throttled.advertisedDelay == .seconds(2))
        let invalid = Refusal(.invalidArgument, "bad").exportAnswer(on: .otlpHTTPJSON)
        #expect(invalid.code == "400" && !invalid.retryable)
        #expect(Refusal.scripted(.badRequest, retryAfterSeconds: nil).exportAnswer(on: .otlpGRPC).code == "INVALID_ARGUMENT")
    }
}
