import Scenario
import Testing

/// `${PORT:NAME}` in a process's command or `env`: another process's port (a peer), or a service the process
/// serves on a port of its own, which the workload may name; each served name belongs to one process.
@Suite struct NamedPortsLoaderTests {
    static func scenario(_ processes: String, service: String = "tasks") -> String {
        """
        name: ports
        services:
          processes:
        \(processes)
        workload:
          phases:
            - {name: p, duration: 1s, arrival: constant, rate: 1}
          requests:
            - {name: r, service: \(service), path: /}
        rules:
          accounting: {tolerance: 0}

        """
    }

    @Test func servedNamesAreServicesAndProcessNamesArePeers() throws {
        let yaml = Self.scenario(
            """
                - name: family
                  command: [/bin/sh, -c, "serve --tasks ${PORT:tasks} --projects ${PORT:projects} --billing ${PORT:billing}"]
                - name: billing
                  command: [/bin/sh, -c, "serve ${PORT}"]
                  env: {TASKS_URL: "http://127.0.0.1:${PORT:tasks}", FALLBACK: "${PORT:-8080}"}
            """
        )
        let scenario = try ScenarioLoader.parse(yaml, file: "p.yaml")
        let family = try #require(scenario.services.processes.first { $0.name == "family" })
        #expect(family.namedPorts == ["tasks", "projects", "billing"])
        #expect(!family.usesOwnPort)
        let served = ProcessUnderTest.servedServices(of: scenario.services.processes)
        #expect(served["family"] == ["tasks", "projects"], "billing is a peer")
        #expect(served["billing"] == [], "it calls tasks, which family serves")
        let billing = try #require(scenario.services.processes.first { $0.name == "billing" })
        #expect(billing.usesOwnPort && billing.namedPorts == ["tasks"])
        #expect(billing.environment["TASKS_URL"] == "http://127.0.0.1:${PORT:tasks}", "kept for the run to fill in")
        #expect(billing.environment["FALLBACK"] == "${PORT}", "the shell's default form is no named port, and the run sets PORT")
        #expect(billing.command.last == "serve ${PORT}")
    }

    @Test func aServedNameThatClashesOrAnUnknownServiceIsAMistake() {
        let clash = """
            name: ports
            services:
              builtin: {}
              processes:
                - name: one
                  command: [/bin/sh, -c, "serve ${PORT:tasks}"]
            workload:
              phases:
                - {name: p, duration: 1s, arrival: constant, rate: 1}
              requests:
                - {name: r, service: tasks, path: /}
            rules:
              accounting: {tolerance: 0}

            """
        do {
            _ = try ScenarioLoader.parse(clash, file: "p.yaml")
            Issue.record("accepted a served name that is a built-in service's")
        } catch {
            #expect("\(error)".contains("process 'one' serves 'tasks', the name of another service: give it its own"), "\(error)")
        }
        let unknown = Self.scenario("    - name: one\n      command: [/bin/sh, -c, \"serve ${PORT:tasks}\"]", service: "taks")
        do {
            _ = try ScenarioLoader.parse(unknown, file: "p.yaml")
            Issue.record("accepted an unknown service")
        } catch {
            #expect("\(error)".contains("unknown service 'taks' (did you mean 'tasks'?); the scenario has one, tasks"), "\(error)")
        }
    }
}
