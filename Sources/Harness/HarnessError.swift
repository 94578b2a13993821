/// Why a run could not start or finish: a code, a message that says what to fix, and the underlying cause.
///
/// Every case is the user's to fix (a scenario, a file, a port), so the CLI answers each with exit 2.
package struct HarnessError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem it is.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String { case invalidScenario, cannotListen, cannotWriteReports, invalidBaseline, intakeUnreachable, refusedByIntake }
        private let value: Value

        /// The scenario, its taxonomy or its services configuration is wrong.
        package static let invalidScenario = Code(value: .invalidScenario)
        /// A receiver or sink could not listen on the address the scenario gives.
        package static let cannotListen = Code(value: .cannotListen)
        /// The report folder cannot be created or written.
        package static let cannotWriteReports = Code(value: .cannotWriteReports)
        /// The `--baseline` file cannot be read or is not a run summary.
        package static let invalidBaseline = Code(value: .invalidBaseline)
        /// A shard (or the merge step) cannot reach the central intake's control API (`--intake`).
        package static let intakeUnreachable = Code(value: .intakeUnreachable)
        /// The central intake refused a shard: another scenario file, seed or shard count, or a duplicate index.
        package static let refusedByIntake = Code(value: .refusedByIntake)

        package var description: String { value.rawValue }
    }

    package var code: Code
    package var message: String
    package var cause: (any Error)?

    package init(code: Code, message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    package var description: String { message }
}
