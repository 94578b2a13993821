import Testing

/// Every sink suite, run one test at a time: they start real peers (Python exporters and clients,
/// Prometheus, promtool) and fuzz loops, which would otherwise compete on small CI machines with the
/// package's timing-sensitive tests (the workload driver's rate checks) for the same cores.
@Suite(.serialized) enum SinkSuites {}
