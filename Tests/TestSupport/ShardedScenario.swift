package import Foundation

/// A scenario for runs spread over shards, written into `folder`: the built-in services, open-loop phases only
/// (so that request counts are exact whatever the machine's speed), every kind of request the propagation rule
/// judges, and the usual rules. Returns its path.
///
/// - Parameter faults: built-in service faults (e.g. `drop_traceparent`), so that some rules fail.
package func writeShardedScenario(in folder: URL, faults: [String] = [], otlpGRPC: String = "127.0.0.1:0", otlpHTTP: String = "127.0.0.1:0") throws -> String {
    let scenarios = repositoryRoot.appendingPathComponent("Scenarios").path
    let text = """
        name: sharded
        description: open-loop phases over the built-in services, for shard tests
        services:
          builtin:
            time_scale: 0.001
            otlp_protocol: grpc
            export_interval: 500ms
            config: \(scenarios)/services/cf-core-smoke.yaml
            faults: [\(faults.joined(separator: ", "))]
        intake:
          otlp_grpc: \(otlpGRPC)
          otlp_http: \(otlpHTTP)
        workload:
          connections: 8
          timeout: 10s
          phases:
            - {name: warm-up, duration: 1s, arrival: constant, rate: 20}
            - {name: steady, duration: 3s, arrival: poisson, rate: 40}
          requests:
            - {name: create-task, weight: 4, service: tasks, method: POST, path: /tasks, body: '{"title": "task {{counter}}"}',
               trace: {tracestate: "congo=t61rcWkgMzE"}}
            - {name: list-tasks, weight: 2, service: tasks, path: /tasks}
            - {name: create-project-with-tasks, weight: 2, service: projects, method: POST, path: /projects/create_with_tasks,
               body: '{"name": "project {{counter}}", "task_titles": ["design {{counter}}"]}'}
            - {name: live, weight: 4, service: tasks, path: /health/live}
            - {name: unsampled, weight: 1, service: tasks, path: /tasks, trace: {sampled: false}}
            - {name: invalid-traceparent, weight: 1, service: tasks, path: /health/live, trace: {invalid: version-ff}}
            - {name: migrate, weight: 1, service: migrations, method: POST, path: '/migrations/phases/phase{{random:3}}/run', body: '{"dry_run": false}'}
            - {name: migrate-dry-run, weight: 1, service: migrations, method: POST, path: '/migrations/phases/phase{{random:3}}/run', body: '{"dry_run": true}'}
            - {name: rollback, weight: 1, service: migrations, method: POST, path: '/migrations/phases/phase{{random:3}}/rollback'}
            - {name: snapshot, weight: 1, service: migrations, method: POST, path: '/migrations/phases/phase{{random:3}}/snapshot'}
        rules:
          slos:
            - {name: liveness p99.9 seen by the client, client: live, objective: "p99.9 < 5s"}
          propagation: true
          cardinality: {limit: 1000}
          taxonomy: \(scenarios)/taxonomy/cf-core.yaml
          accounting: {tolerance: 0}
        settle: {timeout: 15s, quiet: 1s}

        """
    let path = folder.appendingPathComponent("sharded.yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
