import AsyncHTTPClient
package import Foundation

/// What `otelbench merge` does: waits for the central intake's verdict, then downloads every report it lists.
package struct VerdictDownload: Sendable {
    /// The intake's control API.
    package var intake: String
    /// How long to wait for the verdict (and for the intake to be reachable at all).
    package var timeout: Duration

    package init(intake: String, timeout: Duration) {
        self.intake = intake.hasSuffix("/") ? String(intake.dropLast()) : intake
        self.timeout = timeout
    }

    /// Waits for the verdict, writes the reports into `directory`, and returns the verdict.
    package func fetch(into directory: String) async throws(HarnessError) -> RunVerdict {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let result = await waitAndDownload(ControlClient(base: intake, client: client), into: directory)
        try? await client.shutdown()
        return try result.get()
    }

    private func waitAndDownload(_ control: ControlClient, into directory: String) async -> Result<RunVerdict, HarnessError> {
        do { return .success(try await poll(control, into: directory)) } catch let error as HarnessError { return .failure(error) } catch {
            return .failure(HarnessError(code: .intakeUnreachable, message: "\(intake): \(error)", cause: error))
        }
    }

    private func poll(_ control: ControlClient, into directory: String) async throws -> RunVerdict {
        let deadline = ContinuousClock.now + timeout
        var lastProblem = "no answer yet"
        while ContinuousClock.now < deadline {
            do {
                let answer = try await control.fetch("/v1/verdict")
                if answer.status == 200 {
                    let verdict = try JSONDecoder().decode(RunVerdict.self, from: answer.body)
                    try await download(verdict.files, from: control, into: directory)
                    return verdict
                }
                lastProblem = "HTTP \(answer.status): \(String(decoding: answer.body.prefix(300), as: UTF8.self))"
                try await Task.sleep(for: .seconds(answer.retryAfter ?? 1))
            } catch let error as HarnessError {
                throw error
            } catch {
                lastProblem = "\(error)"
                try? await Task.sleep(for: .seconds(1))
            }
        }
        throw HarnessError(code: .intakeUnreachable, message: "no verdict from \(intake) within \(timeout): \(lastProblem)")
    }

    private func download(_ files: [String], from control: ControlClient, into directory: String) async throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HarnessError(code: .cannotWriteReports, message: "cannot create \(directory): \(error)", cause: error)
        }
        for name in files where !name.contains("/") {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name)
            let status: Int
            do {
                status = try await control.download("/v1/reports/\(name)", to: path)
            } catch let error as ControlError {
                throw HarnessError(code: .cannotWriteReports, message: "\(error)", cause: error)
            }
            guard status == 200 else {
                throw HarnessError(code: .intakeUnreachable, message: "\(intake)/v1/reports/\(name): HTTP \(status)")
            }
        }
    }
}
