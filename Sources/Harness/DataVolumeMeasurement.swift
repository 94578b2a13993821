import Checks
import PromQL
package import Reporting
package import Scenario
package import Telemetry
package import Workload

extension DataVolumeEstimate.Measured {
    /// What `store` accepted while `driver`'s workload ran: the rates' figures, over the phases' elapsed time.
    ///
    /// Samples are counted as Prometheus would ingest them after the OTLP translation: every data point of a series
    /// is one sample per series it becomes (a histogram: each bucket, `+Inf`, `_sum` and `_count`).
    package init(store: TelemetryStore, driver: DriverReport) {
        var samples = 0
        for (series, points) in store.latestSeries {
            samples += points * PrometheusView.labelSets(of: series).count
        }
        let totals = store.totals
        let wire = store.counts.flatMap { channel, bySignal in
            bySignal.compactMap { signal, counts -> DataVolumeEstimate.Wire? in
                counts.requestsAccepted == 0
                    ? nil
                    : DataVolumeEstimate.Wire(
                        channel: channel.name,
                        signal: signal.rawValue,
                        requests: counts.requestsAccepted,
                        bytes: counts.wireBytesAccepted
                    )
            }
        }.sorted { ($0.signal, $0.channel) < ($1.signal, $1.channel) }
        self.init(
            durationSeconds: driver.phases.reduce(0) { $0 + $1.elapsed.inSeconds },
            activeSeries: CardinalityCheck.table(store: store).total,
            samples: samples,
            spans: totals.spans,
            logRecords: totals.logRecords,
            wire: wire
        )
    }
}

extension DataVolumeEstimate {
    /// The estimate of a run of `scenario`: its `estimate:` assumptions (or the defaults) over what `store` accepted
    /// while `driver`'s workload ran.
    package init(scenario: Scenario, store: TelemetryStore, driver: DriverReport) {
        self.init(
            measured: Measured(store: store, driver: driver),
            assumptions: scenario.estimate ?? .default,
            fromScenario: scenario.estimate != nil
        )
    }
}
