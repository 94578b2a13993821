// The component table of the OpenTelemetry Collector, as data: which component types exist in otelcol-contrib,
// which signals each handles, and which were deprecated, removed or renamed, with their settings that changed.
//
// Describes: otelcol-contrib v0.80.0 to v0.136.0 (the lint's default target is the newest, v0.136.0).
// It lists the components most configurations use, not all of contrib's ~250; a type it lacks is reported as
// unknown, so add a row here (with its source) when a real component is missing.
//
// Sources (each row that changes with the version names its own):
// - Component list: open-telemetry/opentelemetry-collector-releases, distributions/otelcol-contrib/manifest.yaml
//   (component modules at v0.136.0).
// - Signals: each component's README status table ("Supported pipeline types" / "Stability"), e.g.
//   opentelemetry-collector-contrib exporter/elasticsearchexporter/README.md (traces, logs beta; metrics development).
// - jaeger and jaeger_thrift exporters removed in v0.85.0: opentelemetry-collector-contrib PR #26546 ("Removing
//   deprecated jaeger and jaegerthrifthttp exporters"); opentelemetry.io PR #3262 ("As of v0.85.0, the OTel
//   Collector no longer ships the deprecated Jaeger exporter"); collector issue #8441 (v0.85.0: unknown type "jaeger").
// - logging exporter: replaced by debug in v0.86.0 (collector v0.86.0 release; README "being deprecated in favour
//   of the debug exporter"), removed in v0.111.0 (collector CHANGELOG v1.17.0/v0.111.0, #11037).
// - spanmetrics processor: deprecated in favour of the spanmetrics connector in v0.74.0 (contrib PR #19751, CHANGELOG
//   v0.74.0), removed by contrib PR #31508 (merged 2024-02-29, first released in v0.96.0).
// - memory_limiter: check_interval > 0 and limit_mib or limit_percentage > 0 are required (collector
//   internal/memorylimiter config.go: errCheckIntervalOutOfRange, errLimitOutOfRange); ballast_size_mib deprecated
//   by collector PR #3532 (July 2021, before this table's oldest release) in favour of the memory_ballast extension,
//   itself deprecated in favour of GOMEMLIMIT (collector issue #8343).
// - otlp exporter: top-level `insecure` moved under `tls:` (Splunk OpenTelemetry Collector upgrade guide,
//   "Move exporters -> otlp -> insecure to exporters -> otlp -> tls -> insecure"), long before v0.80.0.
// - elasticsearch exporter: `index` DEPRECATED in favour of logs_index / metrics_index / traces_index (its README).
// - Processor order: collector processor/README.md "Recommended Processors": memory_limiter first, then any
//   sampling processors, then batch, then any other processors.

let componentTableYAML = """
    distribution: otelcol-contrib
    oldest: 0.80.0
    newest: 0.136.0
    components:
      # Receivers
      - {kind: receiver, type: otlp, signals: [traces, metrics, logs]}
      - {kind: receiver, type: nop, signals: [traces, metrics, logs]}
      - {kind: receiver, type: jaeger, signals: [traces]}
      - {kind: receiver, type: zipkin, signals: [traces]}
      - {kind: receiver, type: kafka, signals: [traces, metrics, logs]}
      - {kind: receiver, type: prometheus, signals: [metrics]}
      - {kind: receiver, type: prometheus_simple, signals: [metrics]}
      - {kind: receiver, type: hostmetrics, signals: [metrics]}
      - {kind: receiver, type: kubeletstats, signals: [metrics]}
      - {kind: receiver, type: k8s_cluster, signals: [metrics, logs]}
      - {kind: receiver, type: k8s_events, signals: [logs]}
      - {kind: receiver, type: k8sobjects, signals: [logs]}
      - {kind: receiver, type: docker_stats, signals: [metrics]}
      - {kind: receiver, type: statsd, signals: [metrics]}
      - {kind: receiver, type: httpcheck, signals: [metrics]}
      - {kind: receiver, type: filelog, signals: [logs]}
      - {kind: receiver, type: journald, signals: [logs]}
      - {kind: receiver, type: syslog, signals: [logs]}
      - {kind: receiver, type: tcplog, signals: [logs]}
      - {kind: receiver, type: udplog, signals: [logs]}
      - {kind: receiver, type: fluentforward, signals: [logs]}
      - {kind: receiver, type: windowseventlog, signals: [logs]}
      - {kind: receiver, type: awsxray, signals: [traces]}
      - {kind: receiver, type: redis, signals: [metrics]}
      - {kind: receiver, type: postgresql, signals: [metrics]}
      - {kind: receiver, type: mysql, signals: [metrics]}
      - {kind: receiver, type: nginx, signals: [metrics]}
      # Processors
      - {kind: processor, type: batch, signals: [traces, metrics, logs]}
      - {kind: processor, type: memory_limiter, signals: [traces, metrics, logs],
         settings: [{name: ballast_size_mib,
                     fix: "remove it: the ballast is gone; set the GOMEMLIMIT environment variable to about 80% of the container's memory instead",
                     source: "since collector PR #3532, July 2021; its memory_ballast is deprecated in favour of GOMEMLIMIT, collector issue #8343"}]}
      - {kind: processor, type: attributes, signals: [traces, metrics, logs]}
      - {kind: processor, type: resource, signals: [traces, metrics, logs]}
      - {kind: processor, type: resourcedetection, signals: [traces, metrics, logs]}
      - {kind: processor, type: k8sattributes, signals: [traces, metrics, logs]}
      - {kind: processor, type: filter, signals: [traces, metrics, logs]}
      - {kind: processor, type: transform, signals: [traces, metrics, logs]}
      - {kind: processor, type: groupbyattrs, signals: [traces, metrics, logs]}
      - {kind: processor, type: redaction, signals: [traces, metrics, logs]}
      - {kind: processor, type: tail_sampling, signals: [traces]}
      - {kind: processor, type: probabilistic_sampler, signals: [traces, logs]}
      - {kind: processor, type: span, signals: [traces]}
      - {kind: processor, type: groupbytrace, signals: [traces]}
      - {kind: processor, type: cumulativetodelta, signals: [metrics]}
      - {kind: processor, type: deltatorate, signals: [metrics]}
      - {kind: processor, type: metricstransform, signals: [metrics]}
      - {kind: processor, type: spanmetrics, signals: [traces], deprecated: 0.80.0, removed: 0.96.0,
         fix: "use the spanmetrics connector: define it under connectors:, list it as an exporter of the traces pipeline and as a receiver of a metrics pipeline",
         source: "deprecated in v0.74.0 (contrib PR #19751), removed by contrib PR #31508"}
      # Exporters
      - {kind: exporter, type: otlp, signals: [traces, metrics, logs], queue_settings: [sending_queue, retry_on_failure],
         settings: [{name: insecure, removed: 0.80.0, fix: "write it under tls: (tls: {insecure: true})",
                     source: "moved to tls.insecure before v0.80.0, per the Splunk OpenTelemetry Collector upgrade guide"}]}
      - {kind: exporter, type: otlphttp, signals: [traces, metrics, logs], queue_settings: [sending_queue, retry_on_failure]}
      - {kind: exporter, type: debug, signals: [traces, metrics, logs], since: 0.86.0}
      - {kind: exporter, type: logging, signals: [traces, metrics, logs], deprecated: 0.86.0, removed: 0.111.0,
         fix: "use the debug exporter (its loglevel setting is now verbosity: basic, normal or detailed)",
         source: "collector v0.86.0 added debug as its replacement; removed in v0.111.0 (collector #11037)"}
      - {kind: exporter, type: nop, signals: [traces, metrics, logs]}
      - {kind: exporter, type: file, signals: [traces, metrics, logs]}
      - {kind: exporter, type: kafka, signals: [traces, metrics, logs], queue_settings: [sending_queue, retry_on_failure]}
      - {kind: exporter, type: zipkin, signals: [traces], queue_settings: [sending_queue, retry_on_failure]}
      - {kind: exporter, type: prometheus, signals: [metrics]}
      - {kind: exporter, type: prometheusremotewrite, signals: [metrics], queue_settings: [remote_write_queue, retry_on_failure]}
      - {kind: exporter, type: elasticsearch, signals: [traces, metrics, logs],
         settings: [{name: index, fix: "use logs_index (or traces_index / metrics_index for those signals)",
                     source: "elasticsearch exporter README: DEPRECATED, please use logs_index"}]}
      - {kind: exporter, type: opensearch, signals: [traces, logs]}
      - {kind: exporter, type: loki, signals: [logs]}
      - {kind: exporter, type: loadbalancing, signals: [traces, metrics, logs]}
      - {kind: exporter, type: clickhouse, signals: [traces, metrics, logs]}
      - {kind: exporter, type: awsxray, signals: [traces]}
      - {kind: exporter, type: awsemf, signals: [metrics]}
      - {kind: exporter, type: awscloudwatchlogs, signals: [logs]}
      - {kind: exporter, type: googlecloud, signals: [traces, metrics, logs]}
      - {kind: exporter, type: datadog, signals: [traces, metrics, logs]}
      - {kind: exporter, type: splunk_hec, signals: [traces, metrics, logs]}
      - {kind: exporter, type: jaeger, signals: [traces], removed: 0.85.0,
         fix: "Jaeger takes OTLP natively: replace it with an otlp exporter to the Jaeger collector's OTLP gRPC port, e.g. otlp/jaeger: {endpoint: jaeger-collector:4317}",
         source: "contrib PR #26546; opentelemetry.io PR #3262"}
      - {kind: exporter, type: jaeger_thrift, signals: [traces], removed: 0.85.0,
         fix: "Jaeger takes OTLP natively: replace it with an otlphttp exporter to the Jaeger collector's OTLP HTTP port, e.g. otlphttp/jaeger: {endpoint: http://jaeger-collector:4318}",
         source: "contrib PR #26546"}
      # Connectors
      - {kind: connector, type: forward, from: [traces, metrics, logs], to: [traces, metrics, logs], same_signal: true}
      - {kind: connector, type: routing, from: [traces, metrics, logs], to: [traces, metrics, logs], same_signal: true}
      - {kind: connector, type: spanmetrics, from: [traces], to: [metrics]}
      - {kind: connector, type: servicegraph, from: [traces], to: [metrics]}
      - {kind: connector, type: count, from: [traces, metrics, logs], to: [metrics]}
      # Extensions
      - {kind: extension, type: health_check}
      - {kind: extension, type: pprof}
      - {kind: extension, type: zpages}
      - {kind: extension, type: basicauth}
      - {kind: extension, type: bearertokenauth}
      - {kind: extension, type: oauth2client}
      - {kind: extension, type: oidc}
      - {kind: extension, type: headers_setter}
      - {kind: extension, type: sigv4auth}
      - {kind: extension, type: file_storage}
      - {kind: extension, type: db_storage}
      - {kind: extension, type: memory_ballast}
      - {kind: extension, type: memory_limiter}
      - {kind: extension, type: k8s_observer}
      - {kind: extension, type: host_observer}
      - {kind: extension, type: docker_observer}
      - {kind: extension, type: jaegerremotesampling}
      - {kind: extension, type: opamp}
    """
