import Testing

@testable import Telemetry

@Suite struct IdentifierTests {
    @Test func traceIDRoundTripsThroughHex() throws {
        let id = try #require(TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736"))
        #expect(id.hex == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(id.high == 0x4bf9_2f35_77b3_4da6)
        #expect(id.low == 0xa3ce_929d_0e0e_4736)
        #expect(TraceID(bytes: id.bytes) == id)
    }

    @Test func upperCaseHexIsReadAndWrittenLowerCase() throws {
        let id = try #require(SpanID(hex: "00F067AA0BA902B7"))
        #expect(id.hex == "00f067aa0ba902b7")
    }

    @Test(arguments: ["", "4bf92f3577b34da6a3ce929d0e0e473", "4bf92f3577b34da6a3ce929d0e0e47366", "zbf92f3577b34da6a3ce929d0e0e4736"])
    func malformedTraceIDHexIsRejected(_ text: String) {
        #expect(TraceID(hex: text) == nil)
    }

    @Test func wrongByteCountsAreRejected() {
        #expect(TraceID(bytes: [UInt8](repeating: 1, count: 15)) == nil)
        #expect(SpanID(bytes: [UInt8](repeating: 1, count: 9)) == nil)
        #expect(TraceID(bytes: [UInt8](repeating: 0, count: 16))?.isZero == true)
    }
}
