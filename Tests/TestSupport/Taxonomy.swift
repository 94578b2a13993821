import Foundation
package import Scenario

/// The taxonomy file could not be found from the package.
package struct MissingTaxonomy: Error, CustomStringConvertible {
    package var description: String { "Scenarios/taxonomy/cf-core.yaml not found above \(#filePath)" }
}

/// The cf_core taxonomy of the package (tests run from the package root; searched upwards otherwise).
package func cfCoreTaxonomy() throws -> MetricTaxonomy {
    guard let path = MetricTaxonomy.locateCFCore(currentDirectory: FileManager.default.currentDirectoryPath, executablePath: #filePath) else {
        throw MissingTaxonomy()
    }
    return try MetricTaxonomy.load(path: path)
}
