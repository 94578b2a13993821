import Foundation
import Scenario
import TestSupport
import Testing

/// The Kubernetes manifests of a sharded run (`deploy/kubernetes`), as `kubectl kustomize` renders them, without a
/// cluster: valid for the Kubernetes API (kubernetes-validate, strict), and consistent where no schema can tell —
/// one shard count everywhere, an Indexed Job whose pods take their index, a Service with every port the intake
/// listens on, a scenario that `otelbench validate` accepts where the pods find it, and only flags the built
/// binary lists.
///
/// Needs kubectl (kustomize v4.5+) and `.venv-kubernetes` (scripts/install-test-deps.sh).
@Suite(.serialized) struct KubernetesManifestTests {
    /// The oldest Kubernetes the manifests are for, and the newest kubernetes-validate knows (API removals show there).
    static let kubernetesVersions = ["1.30.0", "1.37.0"]
    static let deployDirectory = "deploy/kubernetes"
    /// Where the image keeps the repository's layout (deploy/Containerfile).
    static let imageRoot = "/opt/otelbench"

    @Test func theRenderedManifestsMatchTheKubernetesSchema() async throws {
        let yaml = try await Kustomize.render(repositoryRoot.appendingPathComponent(Self.deployDirectory))
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("rendered.yaml")
            try Data(yaml.utf8).write(to: file)
            let validate = try requirePeer(".venv-kubernetes/bin/kubernetes-validate")
            for version in Self.kubernetesVersions {
                let outcome = try await runProcess(
                    URL(fileURLWithPath: validate),
                    ["--strict", "--quiet", "--kubernetes-version", version, file.path]
                )
                #expect(outcome.status == 0, "kubernetes-validate --strict, Kubernetes \(version):\n\(outcome.output)")
            }
        }
        let manifests = try await Manifests.render()
        let kinds = Set(manifests.resources.map { "\($0.kind)/\($0.metadata.name)" })
        #expect(
            kinds == [
                "ConfigMap/otelbench-scenario", "Service/otelbench-intake", "Deployment/otelbench-intake", "Job/otelbench-shards",
                "Job/otelbench-merge",
            ]
        )
    }

    /// The shard Job is Indexed with completions = parallelism = N (all shards at once), each pod passes
    /// `--shard $(JOB_COMPLETION_INDEX)/N`, the intake waits for the same N, and a failed shard is never re-run.
    @Test func theShardCountAgreesEverywhere() async throws {
        let manifests = try await Manifests.render()
        let job = try manifests.resource("Job", "otelbench-shards")
        let spec = try #require(job.spec)
        let count = try #require(spec.completions, "the shard Job needs completions (the number of shards)")
        #expect(count >= 1)
        #expect(spec.completionMode == "Indexed")
        #expect(spec.parallelism == count, "parallelism must equal completions: every shard runs at once")

        let shard = try manifests.container("shard", of: job)
        #expect(Arguments(shard.args).value(of: "--shard") == "$(JOB_COMPLETION_INDEX)/\(count)", "\(shard.args ?? [])")
        let intake = try manifests.container("intake", of: manifests.resource("Deployment", "otelbench-intake"))
        #expect(Arguments(intake.args).value(of: "--shards") == "\(count)", "\(intake.args ?? [])")

        // $(JOB_COMPLETION_INDEX) in args is expanded by the kubelet from the container's environment: defined here
        // from the pod's completion index (the Job controller would add the same, but only to containers without it).
        let index = try #require(shard.env?.first { $0.name == "JOB_COMPLETION_INDEX" }, "the shard container must define JOB_COMPLETION_INDEX")
        let fieldPath = index.valueFrom?.fieldRef?.fieldPath
        #expect(
            fieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
                || fieldPath == "metadata.labels['batch.kubernetes.io/job-completion-index']",
            "\(String(describing: fieldPath))"
        )

        // Never re-run a shard: no retries, and the policy fails the Job for a non-zero exit or a disruption.
        let template = try #require(spec.template?.spec)
        #expect(template.restartPolicy == "Never")
        #expect(spec.backoffLimit == 0)
        let rules = spec.podFailurePolicy?.rules ?? []
        #expect(
            rules.contains {
                $0.action == "FailJob" && $0.onExitCodes?.containerName == "shard" && $0.onExitCodes?.operator == "NotIn" && $0.onExitCodes?.values == [0]
            },
            "a shard that exits non-zero must fail the Job"
        )
        #expect(rules.contains { $0.action == "FailJob" && ($0.onPodConditions ?? []).contains { $0.type == "DisruptionTarget" } })
    }

    /// N and the image are each set in one place, kustomization.yaml: changing them there changes every use.
    @Test func oneSettingSetsTheShardCountAndTheImageEverywhere() async throws {
        let source = repositoryRoot.appendingPathComponent(Self.deployDirectory)
        try await withTemporaryDirectory { directory in
            let copy = directory.appendingPathComponent("kubernetes")
            try FileManager.default.copyItem(at: source, to: copy)
            let kustomization = copy.appendingPathComponent("kustomization.yaml")
            var text = try String(contentsOf: kustomization, encoding: .utf8)
            text = try Self.replacingTheOnlyLine(matching: #"^(\s*- shards=)\d+\s*$"#, in: text, keepingGroupOneThen: "7")
            text = try Self.replacingTheOnlyLine(matching: #"^(\s*newName:).*$"#, in: text, keepingGroupOneThen: " registry.example.com/team/otelbench")
            text = try Self.replacingTheOnlyLine(matching: #"^(\s*newTag:).*$"#, in: text, keepingGroupOneThen: " \"2026.12.1\"")
            try Data(text.utf8).write(to: kustomization)

            let manifests = try await Manifests.render(copy)
            let job = try manifests.resource("Job", "otelbench-shards")
            #expect(job.spec?.completions == 7)
            #expect(job.spec?.parallelism == 7)
            let shard = Arguments(try manifests.container("shard", of: job).args)
            #expect(shard.value(of: "--shard") == "$(JOB_COMPLETION_INDEX)/7")
            let intake = Arguments(try manifests.container("intake", of: manifests.resource("Deployment", "otelbench-intake")).args)
            #expect(intake.value(of: "--shards") == "7")

            let images = manifests.allContainers.map { "\($0.owner): \($0.container.name) \($0.container.image ?? "no image")" }
            #expect(!images.isEmpty)
            for image in images {
                #expect(image.hasSuffix(" registry.example.com/team/otelbench:2026.12.1"), "\(image)")
            }
        }
        // And as shipped: every pod runs the one image.
        let shipped = try await Manifests.render()
        #expect(Set(shipped.allContainers.map { $0.container.image ?? "" }).count == 1)
    }

    /// The scenario the pods load is the ConfigMap's, mounted where the image's layout resolves its relative paths
    /// as the repository does; `otelbench validate` accepts it there.
    @Test func theScenarioInTheConfigMapIsValidWhereThePodsLoadIt() async throws {
        let manifests = try await Manifests.render()
        let configMap = try manifests.resource("ConfigMap", "otelbench-scenario")
        let files = try #require(configMap.data)
        #expect(files.count == 1, "one scenario file: \(files.keys.sorted())")
        let key = try #require(files.keys.first)
        let mountPath = "\(Self.imageRoot)/\(Self.deployDirectory)"
        let scenarioPath = "\(mountPath)/\(key)"
        for (kind, name, containerName) in [("Deployment", "otelbench-intake", "intake"), ("Job", "otelbench-shards", "shard")] {
            let owner = try manifests.resource(kind, name)
            let container = try manifests.container(containerName, of: owner)
            #expect(container.args?.dropFirst().first == scenarioPath, "\(name): the scenario argument")
            let volumes = owner.spec?.template?.spec?.volumes ?? []
            let volume = try #require(volumes.first { $0.configMap?.name == configMap.metadata.name }, "\(name) mounts no \(configMap.metadata.name)")
            let mount = try #require(container.volumeMounts?.first { $0.name == volume.name }, "\(name): \(volume.name) is not mounted")
            #expect(mount.mountPath == mountPath && mount.subPath == nil, "\(name): mounted at \(mount.mountPath)")
        }
        // The image: Scenarios/ and the binary under the same root (deploy/Containerfile).
        let containerfile = try String(contentsOf: repositoryRoot.appendingPathComponent("deploy/Containerfile"), encoding: .utf8)
        #expect(containerfile.contains("COPY Scenarios \(Self.imageRoot)/Scenarios"))
        #expect(containerfile.contains("ENTRYPOINT [\"\(Self.imageRoot)/bin/otelbench\"]"))

        try await Self.withTheConfigMapScenarioAsMounted(manifests) { file in
            let outcome = try await runProcess(try otelbenchExecutable(), ["validate", file.path])
            #expect(outcome.status == 0, "otelbench validate on the ConfigMap's scenario:\n\(outcome.output)")
            // validate does not open the taxonomy file (the run does): it must be there too.
            let scenario = try ScenarioLoader.load(path: file.path, environment: [:])
            if let taxonomy = scenario.taxonomyPath(fallBackToCFCore: false) {
                #expect(FileManager.default.fileExists(atPath: taxonomy), "rules.taxonomy: \(taxonomy) is not in the image")
            }
        }
    }

    /// Every port the intake listens on — the scenario's receivers and sinks, the built-in services, the control
    /// API — on every interface, in the container and on the Service under the same number; and the shards, the
    /// merge step and the wait for the intake all use that Service.
    @Test func theIntakeServiceExposesEveryPortTheIntakeListensOn() async throws {
        let manifests = try await Manifests.render()
        let deployment = try manifests.resource("Deployment", "otelbench-intake")
        let intake = try manifests.container("intake", of: deployment)
        let arguments = Arguments(intake.args)
        let service = try manifests.resource("Service", "otelbench-intake")
        let serviceName = service.metadata.name

        let scenario = try await Self.scenarioOfTheConfigMap(manifests)
        var listening: [(what: String, address: ListenAddress)] = [
            ("OTLP/gRPC (intake.otlp_grpc)", scenario.intake.otlpGRPC), ("OTLP/HTTP (intake.otlp_http)", scenario.intake.otlpHTTP),
        ]
        for (kind, address) in scenario.intake.sinks.sorted(by: { $0.key.scenarioKey < $1.key.scenarioKey }) {
            listening.append(("sink intake.\(kind.scenarioKey)", address))
        }
        let control = try ListenAddress(parsing: arguments.value(of: "--control") ?? "0.0.0.0:4320")
        listening.append(("control API (--control)", control))
        if scenario.services.builtin != nil {
            let host = arguments.value(of: "--services-host") ?? "127.0.0.1"
            let first = try #require(Int(arguments.value(of: "--services-ports-from") ?? "0"))
            for (offset, name) in ["tasks", "projects", "sprints", "migrations"].enumerated() {
                listening.append(("built-in service \(name) (--services-ports-from)", ListenAddress(host: host, port: first == 0 ? 0 : first + offset)))
            }
            #expect(arguments.value(of: "--advertise") == serviceName, "the shards must reach the built-in services by the Service's name")
        }

        let containerPorts = Dictionary(
            (intake.ports ?? []).map { ($0.name ?? "\($0.containerPort)", $0.containerPort) },
            uniquingKeysWith: { first, _ in first }
        )
        let servicePorts = service.spec?.ports ?? []
        for (what, address) in listening {
            #expect(address.port != 0, "\(what) listens on a free port (0): a Service cannot expose it")
            #expect(["0.0.0.0", "::", ""].contains(address.host), "\(what) listens on \(address): other pods cannot reach it")
            #expect(containerPorts.values.contains(address.port), "\(what): the intake container does not declare port \(address.port)")
            let exposed = servicePorts.first { $0.port == address.port }
            #expect(exposed != nil, "\(what): the Service \(serviceName) does not expose port \(address.port)")
            if let exposed {
                let target: Int? =
                    switch exposed.targetPort {
                    case .number(let number): number
                    case .name(let name): containerPorts[name]
                    case nil: exposed.port
                    }
                #expect(target == address.port, "\(what): Service port \(address.port) goes to container port \(String(describing: target))")
            }
        }
        #expect(Set(servicePorts.map(\.port)).count == servicePorts.count)

        // The Service selects the intake's pods; they are ready once /healthz answers on the control port; they keep
        // serving the verdict after judging.
        let selector = service.spec?.selector?.labels ?? [:]
        let podLabels = deployment.spec?.template?.metadata?.labels ?? [:]
        #expect(!selector.isEmpty && selector.allSatisfy { podLabels[$0.key] == $0.value }, "the Service selects \(selector)")
        let probe = try #require(intake.readinessProbe?.httpGet, "the intake needs a readiness probe")
        #expect(probe.path == "/healthz")
        let probePort: Int? =
            switch probe.port {
            case .number(let number): number
            case .name(let name): containerPorts[name]
            case nil: nil
            }
        #expect(probePort == control.port)
        #expect(arguments.has("--keep-serving"), "without --keep-serving the Deployment restarts the judged intake into an empty one")

        // Everything else talks to the intake through the Service, on the control port.
        let controlURL = "http://\(serviceName):\(control.port)"
        let shards = try manifests.resource("Job", "otelbench-shards")
        let merge = try manifests.resource("Job", "otelbench-merge")
        for (owner, name) in [(shards, "shard"), (merge, "merge")] {
            let url = Arguments(try manifests.container(name, of: owner).args).value(of: "--intake")
            #expect(url == controlURL, "\(owner.metadata.name): --intake")
        }
        for owner in [shards, merge] {
            for wait in owner.spec?.template?.spec?.initContainers ?? [] {
                let script = (wait.command ?? []).joined(separator: " ") + " " + (wait.args ?? []).joined(separator: " ")
                #expect(script.contains("/dev/tcp/\(serviceName)/\(control.port)"), "\(owner.metadata.name): \(wait.name) waits for something else: \(script)")
            }
        }
    }

    /// Each `otelbench` command line in the manifests parses: its subcommand exists, each flag is one its `--help`
    /// lists, flags that take a value have one, and the positional arguments are as many as it takes.
    @Test func theCommandsUseOnlyFlagsTheBinaryLists() async throws {
        let manifests = try await Manifests.render()
        let binary = try otelbenchExecutable()
        var commands = 0
        for (owner, container) in manifests.allContainers {
            guard let args = Self.otelbenchArguments(of: container), let subcommand = args.first else { continue }
            commands += 1
            let context = "\(owner): container \(container.name): otelbench \(args.joined(separator: " "))"
            let help = try await runProcess(binary, [subcommand, "--help"])
            let usage = help.stdout.split(separator: "\n").first { $0.hasPrefix("USAGE:") }.map(String.init) ?? ""
            guard help.status == 0, usage.hasPrefix("USAGE: otelbench \(subcommand)") else {
                Issue.record("\(context)\n`otelbench \(subcommand) --help` does not describe a subcommand \(subcommand) (not there yet?):\n\(help.output)")
                continue
            }
            let options = HelpText(help.stdout)
            var positionals = 0
            var index = 1
            while index < args.count {
                let token = args[index]
                index += 1
                guard token.hasPrefix("-") else {
                    positionals += 1
                    continue
                }
                let name = token.split(separator: "=", maxSplits: 1).first.map(String.init) ?? token
                guard let takesValue = options.flags[name] else {
                    Issue.record("\(context)\n\(name) is not an option of `otelbench \(subcommand)`; its help lists \(options.flags.keys.sorted())")
                    continue
                }
                if takesValue && !token.contains("=") {
                    #expect(index < args.count && !args[index].hasPrefix("--"), "\(context)\n\(name) needs a value")
                    index += 1
                } else if !takesValue {
                    #expect(!token.contains("="), "\(context)\n\(name) takes no value")
                }
            }
            #expect(
                positionals == options.positionals,
                "\(context)\n\(positionals) positional arguments; `otelbench \(subcommand)` takes \(options.positionals)"
            )
        }
        #expect(commands == 3, "the intake, the shards and the merge step run otelbench")
    }

    /// The merge Job succeeds exactly when `otelbench merge` exits 0: its bash wrapper (which prints report.md after
    /// merge's output) passes the arguments on and exits with merge's code. Run here with a stand-in for otelbench.
    @Test func theMergeJobExitsWithTheVerdictsCode() async throws {
        let manifests = try await Manifests.render()
        let merge = try manifests.container("merge", of: manifests.resource("Job", "otelbench-merge"))
        let command = try #require(merge.command, "merge runs through a wrapper that prints report.md")
        try #require(command.count == 4 && command[0] == "/bin/bash" && command[1] == "-c")
        let reportDirectory = try #require(Arguments(merge.args).value(of: "--report-dir"))
        #expect(command[2].contains("\(reportDirectory)/report.md"), "the wrapper prints the report.md of --report-dir \(reportDirectory)")
        try await withTemporaryDirectory { directory in
            let standIn = directory.appendingPathComponent("otelbench")
            let script = command[2].replacingOccurrences(of: "\(Self.imageRoot)/bin/otelbench", with: standIn.path)
            for code in [0, 1, 2] {
                // The stand-in checks that it got merge's arguments, then exits with the verdict's code.
                let expected = (merge.args ?? []).joined(separator: " ")
                let body = "#!/bin/sh\n[ \"$*\" = \"\(expected)\" ] || exit 99\nexit \(code)\n"
                try Data(body.utf8).write(to: standIn)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: standIn.path)
                let outcome = try await runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script, command[3]] + (merge.args ?? []))
                #expect(outcome.status == Int32(code), "merge exited \(code), the wrapper \(outcome.status):\n\(outcome.output)")
            }
        }
    }

    // MARK: - Helpers

    /// The arguments of otelbench in a container: its args when it runs the image's entrypoint (otelbench), or when
    /// its command is a bash wrapper that passes them on as `otelbench "$@"`; nil for any other program.
    static func otelbenchArguments(of container: Container) -> [String]? {
        guard let command = container.command else { return container.args ?? [] }
        guard command.count >= 3, command[0] == "/bin/bash", command[1] == "-c" else { return nil }
        return command[2].contains("\(imageRoot)/bin/otelbench \"$@\"") ? container.args ?? [] : nil
    }

    /// Runs `body` with the ConfigMap's scenario file in a copy of the image's /opt/otelbench: Scenarios/ as shipped,
    /// the file where the pods mount it, laid out as the kubelet writes a ConfigMap volume (`KEY` → `..data/KEY`,
    /// `..data` → a timestamped folder), so a loader that resolved symlinks before `../` would fail here too.
    static func withTheConfigMapScenarioAsMounted<Result>(_ manifests: Manifests, _ body: (URL) async throws -> Result) async throws -> Result {
        let configMap = try manifests.resource("ConfigMap", "otelbench-scenario")
        let (key, text) = try #require(configMap.data?.first)
        return try await withTemporaryDirectory { directory in
            try FileManager.default.createSymbolicLink(
                at: directory.appendingPathComponent("Scenarios"),
                withDestinationURL: repositoryRoot.appendingPathComponent("Scenarios")
            )
            let mounted = directory.appendingPathComponent(deployDirectory)
            let version = mounted.appendingPathComponent("..2026_01_01_00_00_00.000000001")
            try FileManager.default.createDirectory(at: version, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: version.appendingPathComponent(key))
            try FileManager.default.createSymbolicLink(atPath: mounted.appendingPathComponent("..data").path, withDestinationPath: version.lastPathComponent)
            let file = mounted.appendingPathComponent(key)
            try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: "..data/\(key)")
            return try await body(file)
        }
    }

    /// The scenario of the ConfigMap, loaded by the harness' own loader from where the image resolves it.
    static func scenarioOfTheConfigMap(_ manifests: Manifests) async throws -> Scenario {
        try await withTheConfigMapScenarioAsMounted(manifests) { file in try ScenarioLoader.load(path: file.path, environment: [:]) }
    }

    /// `text` with its one line matching `pattern` replaced by the pattern's first group followed by `suffix`; fails
    /// unless exactly one line matches.
    static func replacingTheOnlyLine(matching pattern: String, in text: String, keepingGroupOneThen suffix: String) throws -> String {
        let expression = try NSRegularExpression(pattern: pattern)
        var lines = text.components(separatedBy: "\n")
        var replaced = 0
        for (index, line) in lines.enumerated() {
            let range = NSRange(line.startIndex..., in: line)
            guard let match = expression.firstMatch(in: line, range: range), let prefix = Range(match.range(at: 1), in: line) else { continue }
            lines[index] = String(line[prefix]) + suffix
            replaced += 1
        }
        try #require(replaced == 1, "kustomization.yaml: \(replaced) lines match \(pattern), expected one")
        return lines.joined(separator: "\n")
    }
}

extension KubernetesManifestTests {
    /// `kubectl kustomize`, which needs no cluster.
    enum Kustomize {
        static func kubectl() throws -> URL {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            for directory in path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin"] {
                let candidate = URL(fileURLWithPath: directory).appendingPathComponent("kubectl")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
            return URL(fileURLWithPath: try requirePeer("/usr/bin/kubectl"))  // missing: says to run scripts/install-test-deps.sh
        }

        /// The rendered manifests of the kustomization in `directory`, as YAML.
        static func render(_ directory: URL) async throws -> String {
            let outcome = try await runProcess(try kubectl(), ["kustomize", directory.path])
            try #require(outcome.status == 0, "kubectl kustomize \(directory.path) failed:\n\(outcome.stderr)")
            return outcome.stdout
        }
    }

    /// The rendered resources, decoded (YAML to JSON by PyYAML from .venv-kubernetes).
    struct Manifests {
        var resources: [Resource]

        static func render(_ directory: URL = repositoryRoot.appendingPathComponent(KubernetesManifestTests.deployDirectory)) async throws -> Manifests {
            let yaml = try await Kustomize.render(directory)
            let python = try requirePeer(".venv-kubernetes/bin/python")
            return try await withTemporaryDirectory { temporary in
                let file = temporary.appendingPathComponent("rendered.yaml")
                try Data(yaml.utf8).write(to: file)
                let script = "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None], sys.stdout)"
                let outcome = try await runProcess(URL(fileURLWithPath: python), ["-c", script, file.path])
                try #require(outcome.status == 0, "PyYAML could not read the rendered manifests:\n\(outcome.stderr)")
                return Manifests(resources: try JSONDecoder().decode([Resource].self, from: Data(outcome.stdout.utf8)))
            }
        }

        func resource(_ kind: String, _ name: String) throws -> Resource {
            try #require(resources.first { $0.kind == kind && $0.metadata.name == name }, "no \(kind) \(name) in the rendered manifests")
        }

        func container(_ name: String, of resource: Resource) throws -> Container {
            try #require(
                resource.spec?.template?.spec?.containers.first { $0.name == name },
                "\(resource.kind) \(resource.metadata.name) has no container \(name)"
            )
        }

        /// Every container and init container of every pod template, with the resource it belongs to.
        var allContainers: [(owner: String, container: Container)] {
            resources.flatMap { resource -> [(owner: String, container: Container)] in
                guard let pod = resource.spec?.template?.spec else { return [] }
                return ((pod.initContainers ?? []) + pod.containers).map { ("\(resource.kind) \(resource.metadata.name)", $0) }
            }
        }
    }

    /// A command line's options: `--name value` or `--name=value`.
    struct Arguments {
        var tokens: [String]
        init(_ tokens: [String]?) { self.tokens = tokens ?? [] }

        func value(of name: String) -> String? {
            for (index, token) in tokens.enumerated() {
                if token == name { return index + 1 < tokens.count ? tokens[index + 1] : nil }
                if token.hasPrefix(name + "=") { return String(token.dropFirst(name.count + 1)) }
            }
            return nil
        }

        func has(_ name: String) -> Bool { tokens.contains(name) }
    }

    /// What swift-argument-parser's `--help` says a subcommand takes: its options (and whether each takes a value)
    /// and how many positional arguments.
    struct HelpText {
        var flags: [String: Bool] = [:]
        var positionals = 0

        init(_ text: String) {
            var section = ""
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                if !line.hasPrefix(" "), line.hasSuffix(":") {
                    section = line
                    continue
                }
                let trimmed = line.drop { $0 == " " }
                // Definition lines are indented by two; continuation lines of a description by more.
                guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
                if section == "ARGUMENTS:", trimmed.hasPrefix("<") {
                    positionals += 1
                } else if section == "OPTIONS:", trimmed.hasPrefix("-") {
                    // "--name <value>", "-n, --name <value>", "--flag/--no-flag", then the description after two spaces.
                    let definition = trimmed.components(separatedBy: "  ").first ?? String(trimmed)
                    let takesValue = definition.contains("<")
                    for word in definition.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "/" }) where word.hasPrefix("-") {
                        flags[String(word)] = takesValue
                    }
                }
            }
        }
    }

    // MARK: - The subset of the Kubernetes API the checks read

    struct Resource: Decodable {
        var apiVersion: String
        var kind: String
        var metadata: ObjectMeta
        var spec: Spec?
        var data: [String: String]?
    }

    struct ObjectMeta: Decodable {
        var name: String
        var labels: [String: String]?
    }

    /// The fields of a Job's, a Deployment's and a Service's spec that the checks read.
    struct Spec: Decodable {
        var completionMode: String?
        var completions: Int?
        var parallelism: Int?
        var backoffLimit: Int?
        var podFailurePolicy: PodFailurePolicy?
        var replicas: Int?
        var template: PodTemplate?
        var selector: Selector?
        var ports: [ServicePort]?
    }

    /// A Service's `selector` (labels) or a workload's (`matchLabels`).
    struct Selector: Decodable {
        var labels: [String: String]

        private struct LabelSelector: Decodable { var matchLabels: [String: String]? }

        init(from decoder: any Decoder) throws {
            if let labels = try? decoder.singleValueContainer().decode([String: String].self) {
                self.labels = labels
            } else {
                labels = try LabelSelector(from: decoder).matchLabels ?? [:]
            }
        }
    }

    struct PodFailurePolicy: Decodable {
        struct Rule: Decodable {
            struct ExitCodes: Decodable {
                var containerName: String?
                var `operator`: String
                var values: [Int]
            }
            struct PodCondition: Decodable {
                var type: String
                var status: String?
            }
            var action: String
            var onExitCodes: ExitCodes?
            var onPodConditions: [PodCondition]?
        }
        var rules: [Rule]
    }

    struct PodTemplate: Decodable {
        var metadata: ObjectMetaLabels?
        var spec: PodSpec?
    }

    struct ObjectMetaLabels: Decodable {
        var labels: [String: String]?
    }

    struct PodSpec: Decodable {
        var restartPolicy: String?
        var initContainers: [Container]?
        var containers: [Container]
        var volumes: [Volume]?
    }

    struct Container: Decodable {
        var name: String
        var image: String?
        var command: [String]?
        var args: [String]?
        var env: [EnvVar]?
        var ports: [ContainerPort]?
        var volumeMounts: [VolumeMount]?
        var readinessProbe: Probe?
    }

    struct EnvVar: Decodable {
        struct Source: Decodable {
            struct FieldRef: Decodable { var fieldPath: String }
            var fieldRef: FieldRef?
        }
        var name: String
        var value: String?
        var valueFrom: Source?
    }

    struct ContainerPort: Decodable {
        var name: String?
        var containerPort: Int
    }

    struct VolumeMount: Decodable {
        var name: String
        var mountPath: String
        var subPath: String?
    }

    struct Volume: Decodable {
        struct ConfigMapSource: Decodable { var name: String }
        var name: String
        var configMap: ConfigMapSource?
    }

    struct Probe: Decodable {
        struct HTTPGet: Decodable {
            var path: String?
            var port: IntOrString?
        }
        var httpGet: HTTPGet?
    }

    struct ServicePort: Decodable {
        var name: String?
        var port: Int
        var targetPort: IntOrString?
    }

    /// Kubernetes' int-or-string: a port by number or by the container port's name.
    enum IntOrString: Decodable {
        case number(Int)
        case name(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                self = .number(number)
            } else {
                self = .name(try container.decode(String.self))
            }
        }
    }
}
