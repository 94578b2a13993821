package import Foundation
package import Reporting

/// Writes a run's report files into one folder: `summary.json`, `junit.xml`, `report.md`, `report.html`.
package enum ReportFiles {
    package static func write(_ summary: RunSummary, to directory: String) throws(HarnessError) {
        let folder = URL(fileURLWithPath: directory)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try summary.json().write(to: folder.appendingPathComponent("summary.json"))
            try Data(JUnitReport.xml(summary).utf8).write(to: folder.appendingPathComponent("junit.xml"))
            try Data(TextReport.markdown(summary).utf8).write(to: folder.appendingPathComponent("report.md"))
            try Data(HTMLReport.html(summary).utf8).write(to: folder.appendingPathComponent("report.html"))
        } catch {
            throw HarnessError(code: .cannotWriteReports, message: "cannot write reports to \(directory): \(error)", cause: error)
        }
    }
}
