import Foundation
import FuzzTargets
import TestSupport
import Testing

/// The fuzz campaigns' regression run: every committed corpus file of every target through the target's entry
/// point (the receivers' and loaders' own parsers, with the target's invariants), once. A campaign's findings
/// become corpus files here, so each crash or broken invariant it found stays fixed.
@Suite struct FuzzCorpusTests {
    /// `Tests/FuzzRegressionTests/Corpora/<target>/`.
    static let corpora = repositoryRoot.appendingPathComponent("Tests/FuzzRegressionTests/Corpora")

    /// The corpus files of `target`, sorted by name.
    static func corpus(of target: String) throws -> [URL] {
        let folder = corpora.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: FuzzTarget.all.map(\.name))
    func corpusHoldsEveryInvariant(target name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let files = try Self.corpus(of: name)
        // A target without seeds would pass for lack of evidence.
        #expect(files.count >= 3, "\(name) has \(files.count) corpus files: seed it from real payloads")
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: file))
            #expect(throws: Never.self, "\(name)/\(file.lastPathComponent)") { try target.run(bytes) }
        }
    }

    @Test func everyCorpusFolderIsATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpora.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(folders == FuzzTarget.all.map(\.name).sorted())
    }
}
