import Foundation
import Scrape
import TestSupport
import Testing

/// The OpenMetrics 1.0 parser corpus as our own table: the cases of the OpenMetrics repository's
/// `tests/testdata/parsers` and of `prometheus_client`'s parser tests, each with the verdict the
/// specification gives it. Our parser must reach that verdict, and so must `prometheus_client`'s strict
/// OpenMetrics parser (a case mis-transcribed here would show up as a disagreement with it).
@Suite(.serialized) struct OpenMetricsCorpusTests {
    /// One exposition and whether the specification says it parses.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var valid: Bool
        var text: String
        var testDescription: String { "\(name) (\(valid ? "valid" : "invalid")): \(text.debugDescription.prefix(120))" }

        init(_ name: String, valid: Bool, _ text: String) {
            self.name = name
            self.valid = valid
            self.text = text
        }
    }

    static let cases: [Case] = [
        .init("simple_counter", valid: true, "# TYPE a counter\n# HELP a help\na_total 1\n# EOF\n"),
        .init("uint64_counter", valid: true, "# TYPE a counter\n# HELP a help\na_total 9223372036854775808\n# EOF\n"),
        .init("simple_gauge", valid: true, "# TYPE a gauge\n# HELP a help\na 1\n# EOF\n"),
        .init("float_gauge", valid: true, "# TYPE a gauge\n# HELP a help\na 1.2\n# EOF\n"),
        .init("leading_zeros_simple_gauge", valid: true, "# TYPE a gauge\n# HELP a help\na 0000000000000000000000000000000000000000001\n# EOF\n"),
        .init("leading_zeros_float_gauge", valid: true, "# TYPE a gauge\n# HELP a help\na 0000000000000000000000000000000000000000001.2e-1\n# EOF\n"),
        .init("nan_gauge", valid: true, "# TYPE a gauge\n# HELP a help\na NaN\n# EOF\n"),
        .init("unit_gauge", valid: true, "# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# HELP a_seconds help\na_seconds 1\n# EOF\n"),
        .init("simple_summary", valid: true, "# TYPE a summary\n# HELP a help\na_count 1\na_sum 2\n# EOF\n"),
        .init("summary_quantiles", valid: true, "# TYPE a summary\n# HELP a help\na_count 1\na_sum 2\na{quantile=\"0.5\"} 0.7\na{quantile=\"1\"} 0.8\n# EOF\n"),
        .init(
            "simple_histogram",
            valid: true,
            "# TYPE a histogram\n# HELP a help\na_bucket{le=\"1.0\"} 0\na_bucket{le=\"+Inf\"} 3\na_count 3\na_sum 2\n# EOF\n"
        ),
        .init(
            "simple_histogram_float_values",
            valid: true,
            "# TYPE a histogram\n# HELP a help\na_bucket{le=\"1.0\"} 0.0\na_bucket{le=\"+Inf\"} 3.0\na_count 3.0\na_sum 2.0\n# EOF\n"
        ),
        .init(
            "histogram_noncanonical",
            valid: true,
            "# TYPE a histogram\n# HELP a help\na_bucket{le=\"0\"} 0\na_bucket{le=\"0.00000000001\"} 0\na_bucket{le=\"0.0000000001\"} 0\na_bucket{le=\"1e-04\"} 0\na_bucket{le=\"1.1e-4\"} 0\na_bucket{le=\"1.1e-3\"} 0\na_bucket{le=\"1.1e-2\"} 0\na_bucket{le=\"1\"} 0\na_bucket{le=\"1e+05\"} 0\na_bucket{le=\"10000000000\"} 0\na_bucket{le=\"100000000000.0\"} 0\na_bucket{le=\"+Inf\"} 3\na_count 3\na_sum 2\n# EOF\n"
        ),
        .init(
            "negative_bucket_histogram",
            valid: true,
            "# TYPE a histogram\n# HELP a help\na_bucket{le=\"-1.0\"} 0\na_bucket{le=\"1.0\"} 1\na_bucket{le=\"+Inf\"} 3\n# EOF\n"
        ),
        .init(
            "histogram_exemplars",
            valid: true,
            "# TYPE a histogram\n# HELP a help\na_bucket{le=\"1.0\"} 0 # {a=\"b\"} 0.5\na_bucket{le=\"2.0\"} 2 # {a=\"c\"} 0.5\na_bucket{le=\"+Inf\"} 3 # {a=\"2345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678\"} 4 123\n# EOF\n"
        ),
        .init(
            "simple_gaugehistogram",
            valid: true,
            "# TYPE a gaugehistogram\n# HELP a help\na_bucket{le=\"1.0\"} 0\na_bucket{le=\"+Inf\"} 3\na_gcount 3\na_gsum 2\n# EOF\n"
        ),
        .init(
            "negative_bucket_gaugehistogram",
            valid: true,
            "# TYPE a gaugehistogram\n# HELP a help\na_bucket{le=\"-1.0\"} 1\na_bucket{le=\"1.0\"} 2\na_bucket{le=\"+Inf\"} 3\na_gcount 3\na_gsum -5\n# EOF\n"
        ),
        .init(
            "gaugehistogram_exemplars",
            valid: true,
            "# TYPE a gaugehistogram\n# HELP a help\na_bucket{le=\"1.0\"} 0 123 # {a=\"b\"} 0.5\na_bucket{le=\"2.0\"} 2 123 # {a=\"c\"} 0.5\na_bucket{le=\"+Inf\"} 3 123 # {a=\"d\"} 4 123\n# EOF\n"
        ),
        .init("counter_exemplars", valid: true, "# TYPE a counter\n# HELP a help\na_total 0 123 # {a=\"b\"} 0.5\n# EOF\n"),
        .init("counter_exemplars_empty_brackets", valid: true, "# TYPE a counter\n# HELP a help\na_total{} 0 123 # {a=\"b\"} 0.5\n# EOF\n"),
        .init("simple_info", valid: true, "# TYPE a info\n# HELP a help\na_info{foo=\"bar\"} 1\n# EOF\n"),
        .init("info_timestamps", valid: true, "# TYPE a info\n# HELP a help\na_info{a=\"1\",foo=\"bar\"} 1 1\na_info{a=\"2\",foo=\"bar\"} 1 0\n# EOF\n"),
        .init("simple_stateset", valid: true, "# TYPE a stateset\n# HELP a help\na{a=\"bar\"} 0\na{a=\"foo\"} 1.0\n# EOF\n"),
        .init(
            "duplicate_timestamps",
            valid: true,
            "# TYPE a gauge\n# HELP a help\na{a=\"1\",foo=\"bar\"} 1 0.0000000000\na{a=\"1\",foo=\"bar\"} 2 0.0000000001\na{a=\"1\",foo=\"bar\"} 3 0.0000000010\na{a=\"2\",foo=\"bar\"} 4 0.0000000000\na{a=\"2\",foo=\"bar\"} 5 0.0000000001\n# EOF\n"
        ),
        .init("no_metadata", valid: true, "a 1\n# EOF\n"),
        .init("empty_metadata", valid: true, "# HELP a \n# UNIT a \n# EOF\n"),
        .init(
            "untyped",
            valid: true,
            "# HELP redis_connected_clients Redis connected clients\n# TYPE redis_connected_clients unknown\nredis_connected_clients{instance=\"rough-snowflake-web\",port=\"6380\"} 10.0\nredis_connected_clients{instance=\"rough-snowflake-web\",port=\"6381\"} 12.0\n# EOF\n"
        ),
        .init("type_help_switched", valid: true, "# HELP a help\n# TYPE a counter\na_total 1\n# EOF\n"),
        .init("labels_with_curly_braces", valid: true, "# TYPE a counter\n# HELP a help\na_total{foo=\"bar\",bar=\"b{a}z\"} 1\n# EOF\n"),
        .init("empty_help", valid: true, "# TYPE a counter\n# HELP a \na_total 1\n# EOF\n"),
        .init("labels_and_infinite", valid: true, "# TYPE a gauge\n# HELP a help\na{foo=\"bar\"} +Inf\na{foo=\"baz\"} -Inf\n# EOF\n"),
        .init("empty_brackets", valid: true, "# TYPE a counter\n# HELP a help\na_total{} 1\n# EOF\n"),
        .init("nan", valid: true, "a NaN\n# EOF\n"),
        .init("no_newline_after_eof", valid: true, "# TYPE a gauge\n# HELP a help\na 1\n# EOF"),
        .init("empty_label", valid: true, "# TYPE a counter\n# HELP a help\na_total{foo=\"bar\"} 1\na_total{foo=\"\"} 2\n# EOF\n"),
        .init("label_escaping_unknown_kept", valid: true, "# TYPE a counter\n# HELP a help\na_total{foo=\"\\foo\",bar=\"baz\"} 1\n# EOF\n"),
        .init("label_escaping_all", valid: true, "# TYPE a counter\n# HELP a help\na_total{foo=\"\\\\\\n\\\"\",bar=\"\\t\\f\"} 1\n# EOF\n"),
        .init("help_escaping_trailing_escaped_backslash", valid: true, "# TYPE a counter\n# HELP a foo\\\\\na_total{foo=\"bar\"} 1\n# EOF\n"),
        .init(
            "escaping",
            valid: true,
            "# TYPE a counter\n# HELP a he\\n\\\\l\\tp\na_total{foo=\"b\\\"a\\nr\"} 1\na_total{foo=\"b\\\\a\\z\"} 2\na_total{foo=\"b\\\"a\\nr # \"} 3\na_total{foo=\"b\\\\a\\z # \"} 4\n# EOF\n"
        ),
        .init("null_byte", valid: true, "# TYPE a counter\n# HELP a he\0lp\n# EOF\n"),
        .init(
            "timestamps",
            valid: true,
            "# TYPE a counter\n# HELP a help\na_total{foo=\"1\"} 1 000\na_total{foo=\"2\"} 1 0.0\na_total{foo=\"3\"} 1 1.1\na_total{foo=\"4\"} 1 12345678901234567890.1234567890\na_total{foo=\"5\"} 1 1.5e3\n# TYPE b counter\n# HELP b help\nb_total 2 1234567890\n# EOF\n"
        ),
        .init("hash_in_label_value", valid: true, "# TYPE a counter\n# HELP a help\na_total{foo=\"foo # bar\"} 1\na_total{foo=\"} foo # bar # \"} 1\n# EOF\n"),
        .init(
            "exemplars_with_hash_in_label_values",
            valid: true,
            "# TYPE a histogram\n# HELP a help\na_bucket{le=\"1.0\",foo=\"bar # \"} 0 # {a=\"b\",foo=\"bar # bar\"} 0.5\na_bucket{le=\"2.0\",foo=\"bar # \"} 2 # {a=\"c\",foo=\"bar # bar\"} 0.5\na_bucket{le=\"+Inf\",foo=\"bar # \"} 3 # {a=\"d\",foo=\"bar # bar\"} 4\n# EOF\n"
        ),
        .init(
            "exemplars_wide_chars",
            valid: true,
            "# TYPE a counter\na_total 1 # {a=\"\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\"} 1\n# EOF\n"
        ),
        .init(
            "roundtrip",
            valid: true,
            "# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n# TYPE go_gc_duration_seconds summary\ngo_gc_duration_seconds{quantile=\"0.0\"} 0.013300656000000001\ngo_gc_duration_seconds{quantile=\"0.25\"} 0.013638736\ngo_gc_duration_seconds{quantile=\"0.5\"} 0.013759906\ngo_gc_duration_seconds{quantile=\"0.75\"} 0.013962066\ngo_gc_duration_seconds{quantile=\"1.0\"} 0.021383540000000003\ngo_gc_duration_seconds_sum 56.12904785\ngo_gc_duration_seconds_count 7476.0\n# HELP go_goroutines Number of goroutines that currently exist.\n# TYPE go_goroutines gauge\ngo_goroutines 166.0\n# HELP prometheus_local_storage_indexing_batch_duration_milliseconds Quantiles for batch indexing duration in milliseconds.\n# TYPE prometheus_local_storage_indexing_batch_duration_milliseconds summary\nprometheus_local_storage_indexing_batch_duration_milliseconds{quantile=\"0.5\"} NaN\nprometheus_local_storage_indexing_batch_duration_milliseconds{quantile=\"0.9\"} NaN\nprometheus_local_storage_indexing_batch_duration_milliseconds{quantile=\"0.99\"} NaN\nprometheus_local_storage_indexing_batch_duration_milliseconds_sum 871.5665949999999\nprometheus_local_storage_indexing_batch_duration_milliseconds_count 229.0\n# HELP process_cpu_seconds Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total 29323.4\n# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes 2.478268416e+09\n# HELP prometheus_build_info A metric with a constant '1' value labeled by version, revision, and branch from which Prometheus was built.\n# TYPE prometheus_build_info gauge\nprometheus_build_info{branch=\"HEAD\",revision=\"ef176e5\",version=\"0.16.0rc1\"} 1.0\n# HELP prometheus_local_storage_chunk_ops The total number of chunk operations by their type.\n# TYPE prometheus_local_storage_chunk_ops counter\nprometheus_local_storage_chunk_ops_total{type=\"clone\"} 28.0\nprometheus_local_storage_chunk_ops_total{type=\"create\"} 997844.0\nprometheus_local_storage_chunk_ops_total{type=\"drop\"} 1.345758e+06\nprometheus_local_storage_chunk_ops_total{type=\"load\"} 1641.0\nprometheus_local_storage_chunk_ops_total{type=\"persist\"} 981408.0\nprometheus_local_storage_chunk_ops_total{type=\"pin\"} 32662.0\nprometheus_local_storage_chunk_ops_total{type=\"transcode\"} 980180.0\nprometheus_local_storage_chunk_ops_total{type=\"unpin\"} 32662.0\n# HELP foo histogram Testing histogram buckets\n# TYPE foo histogram\nfoo_bucket{le=\"0.0\"} 0.0\nfoo_bucket{le=\"1e-05\"} 0.0\nfoo_bucket{le=\"0.0001\"} 0.0\nfoo_bucket{le=\"0.1\"} 8.0\nfoo_bucket{le=\"1.0\"} 10.0\nfoo_bucket{le=\"10.0\"} 17.0\nfoo_bucket{le=\"100000.0\"} 17.0\nfoo_bucket{le=\"1e+06\"} 17.0\nfoo_bucket{le=\"1.55555555555552e+06\"} 17.0\nfoo_bucket{le=\"1e+23\"} 17.0\nfoo_bucket{le=\"+Inf\"} 17.0\nfoo_count 17.0\nfoo_sum 324789.3\nfoo_created 1.520430000123e+09\n# HELP bar histogram Testing with labels\n# TYPE bar histogram\nbar_bucket{a=\"b\",le=\"+Inf\"} 0.0\nbar_bucket{a=\"c\",le=\"+Inf\"} 0.0\n# EOF\n"
        ),
        .init("bad_0", valid: false, ""),
        .init("bad_1", valid: false, "a 1\n\n# EOF\n"),
        .init("bad_2", valid: false, "a 1\n# EOF\nblah"),
        .init("bad_3", valid: false, "a 1\n# EOFblah"),
        .init("bad_4", valid: false, "a{a=1} 1\n# EOF\n"),
        .init("bad_5", valid: false, "a{a=\"1} 1\n# EOF\n"),
        .init("bad_6", valid: false, "a{a='1'} 1\n# EOF\n"),
        .init("bad_7", valid: false, "a{a} 1\n# EOF\n"),
        .init("bad_8", valid: false, "a{a\"value\"} 1\n# EOF\n"),
        .init("bad_9", valid: false, "a{a\"\"} 1\n# EOF\n"),
        .init("bad_10", valid: false, "a{a=} 1\n# EOF\n"),
        .init("bad_11", valid: false, "a{a=\"} 1\n# EOF\n"),
        .init("bad_12", valid: false, "a{a=\"1\"b=\"2\"} 1\n# EOF\n"),
        .init("bad_13", valid: false, "a{a=\"1\",,b=\"2\"} 1\n# EOF\n"),
        .init("bad_14", valid: false, "a{a=\"1\",b=\"2\",} 1\n# EOF\n"),
        .init("bad_15", valid: false, "a{1=\"1\"} 1\n# EOF\n"),
        .init("bad_16", valid: false, "a{1=\"1\"}1\n# EOF\n"),
        .init("bad_17", valid: false, "a{a=\"1\",a=\"1\"} 1\n# EOF\n"),
        .init("bad_18", valid: false, "a{a=\"1\"b} 1\n# EOF\n"),
        .init("bad_19", valid: false, "a{1=\" # \"} 1\n# EOF\n"),
        .init("bad_20", valid: false, "a{a=\" # \",a=\" # \"} 1\n# EOF\n"),
        .init("bad_21", valid: false, "a{a=\" # \"}1\n# EOF\n"),
        .init("bad_22", valid: false, "a{a=\" # \",b=}1\n# EOF\n"),
        .init("bad_23", valid: false, "a{a=\" # \"b}1\n# EOF\n"),
        .init("bad_24", valid: false, "a\n# EOF\n"),
        .init("bad_25", valid: false, "a \n# EOF\n"),
        .init("bad_26", valid: false, "# HELP\n# EOF\n"),
        .init("bad_27", valid: false, "# HELP \n# EOF\n"),
        .init("bad_28", valid: false, "# HELP a\n# EOF\n"),
        .init("bad_29", valid: false, "# HELP a\t\n# EOF\n"),
        .init("bad_30", valid: false, " # HELP a meh\n# EOF\n"),
        .init("bad_31", valid: false, "# TYPE\n# EOF\n"),
        .init("bad_32", valid: false, "# TYPE \n# EOF\n"),
        .init("bad_33", valid: false, "# TYPE a\n# EOF\n"),
        .init("bad_34", valid: false, "# TYPE a\t\n# EOF\n"),
        .init("bad_35", valid: false, "# TYPE a meh\n# EOF\n"),
        .init("bad_36", valid: false, "# TYPE a meh \n# EOF\n"),
        .init("bad_37", valid: false, "# TYPE a gauge \n# EOF\n"),
        .init("bad_38", valid: false, "# TYPE a untyped\n# EOF\n"),
        .init("bad_39", valid: false, "# UNIT\n# EOF\n"),
        .init("bad_40", valid: false, "# UNIT \n# EOF\n"),
        .init("bad_41", valid: false, "# UNIT a\n# EOF\n"),
        .init("bad_42", valid: false, "# UNIT a\t\n# EOF\n"),
        .init("bad_43", valid: false, "# UNIT a seconds\n# EOF\n"),
        .init("bad_44", valid: false, "# UNIT a_seconds seconds \n# EOF\n"),
        .init("bad_45", valid: false, "# TYPE x_u info\n# UNIT x_u u\n# EOF\n"),
        .init("bad_46", valid: false, "# TYPE x_u stateset\n# UNIT x_u u\n# EOF\n"),
        .init("bad_47", valid: false, "# HELP a x\na 1\n# TYPE a gauge\n# EOF\n"),
        .init("bad_48", valid: false, "# TYPE a gauge\na 1\n# HELP a gauge\n# EOF\n"),
        .init("bad_49", valid: false, "# TYPE a_s gauge\na_s 1\n# UNIT a_s s\n# EOF\n"),
        .init("bad_50", valid: false, "# HELP a \n# HELP a \n# EOF\n"),
        .init("bad_51", valid: false, "# HELP a x\n# HELP a x\n# EOF\n"),
        .init("bad_52", valid: false, "# TYPE a untyped\n# TYPE a untyped\n# EOF\n"),
        .init("bad_53", valid: false, "# UNIT a_s s\n# UNIT a_s s\n# EOF\n"),
        .init("bad_54", valid: false, "# FOO a x\n# EOF\n"),
        .init("bad_55", valid: false, "0a 1\n# EOF\n"),
        .init("bad_56", valid: false, "a.b 1\n# EOF\n"),
        .init("bad_57", valid: false, "a-b 1\n# EOF\n"),
        .init("bad_58", valid: false, "a a\n# EOF\n"),
        .init("bad_59", valid: false, "a  1\n# EOF\n"),
        .init("bad_60", valid: false, "a 1\t\n# EOF\n"),
        .init("bad_61", valid: false, "a 1 \n# EOF\n"),
        .init("bad_62", valid: false, "a 1_2\n# EOF\n"),
        .init("bad_63", valid: false, "a 0x1p-3\n# EOF\n"),
        .init("bad_64", valid: false, "a 0x1P-3\n# EOF\n"),
        .init("bad_65", valid: false, "a 0b1\n# EOF\n"),
        .init("bad_66", valid: false, "a 0B1\n# EOF\n"),
        .init("bad_67", valid: false, "a 0x1\n# EOF\n"),
        .init("bad_68", valid: false, "a 0X1\n# EOF\n"),
        .init("bad_69", valid: false, "a 0o1\n# EOF\n"),
        .init("bad_70", valid: false, "a 0O1\n# EOF\n"),
        .init("bad_71", valid: false, "a 1 z\n# EOF\n"),
        .init("bad_72", valid: false, "a 1 1z\n# EOF\n"),
        .init("bad_73", valid: false, "a 1 1_2\n# EOF\n"),
        .init("bad_74", valid: false, "a 1 1.1.1\n# EOF\n"),
        .init("bad_75", valid: false, "a 1 NaN\n# EOF\n"),
        .init("bad_76", valid: false, "a 1 Inf\n# EOF\n"),
        .init("bad_77", valid: false, "a 1 +Inf\n# EOF\n"),
        .init("bad_78", valid: false, "a 1 -Inf\n# EOF\n"),
        .init("bad_79", valid: false, "a 1 0x1p-3\n# EOF\n"),
        .init("bad_80", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 #\n# EOF\n"),
        .init("bad_81", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1# {} 1\n# EOF\n"),
        .init("bad_82", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 #{} 1\n# EOF\n"),
        .init("bad_83", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {}1\n# EOF\n"),
        .init("bad_84", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 \n# EOF\n"),
        .init("bad_85", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 1 \n# EOF\n"),
        .init(
            "bad_86",
            valid: false,
            "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {a=\"23456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\"} 1 1\n# EOF\n"
        ),
        .init("bad_87", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 0x1p-3\n# EOF\n"),
        .init("bad_88", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 0x1p-3\n# EOF\n"),
        .init("bad_89", valid: false, "# TYPE a counter\na_total 1 1 # {id=\"a\"}  \n# EOF\n"),
        .init("bad_90", valid: false, "# TYPE a counter\na_total 1 1 # id=\"a\"} 1\n# EOF\n"),
        .init("bad_91", valid: false, "# TYPE a counter\na_total 1 1 #id=\" # \"} 1\n# EOF\n"),
        .init("bad_92", valid: false, "# TYPE a counter\na_total 1 1 id=\" # \"} 1\n# EOF\n"),
        .init("bad_93", valid: false, "# TYPE a histogram\na_sum 1 # {a=\"b\"} 0.5\n# EOF\n"),
        .init("bad_94", valid: false, "# TYPE a gaugehistogram\na_sum 1 # {a=\"b\"} 0.5\n# EOF\n"),
        .init("bad_95", valid: false, "# TYPE a_bucket gauge\na_bucket 1 # {a=\"b\"} 0.5\n# EOF\n"),
        .init("bad_96", valid: false, "# TYPE a counter\na_created 1 # {a=\"b\"} 0.5\n# EOF\n"),
        .init("bad_97", valid: false, "# TYPE a gauge\na 1 # {a=\"b\"} 1\n# EOF\n"),
        .init("bad_98", valid: false, "# TYPE a info\na_info 1 # {a=\"b\"} 1\n# EOF\n"),
        .init("bad_99", valid: false, "# TYPE a stateset\na{a=\"b\"} 1 # {c=\"d\"} 1\n# EOF\n"),
        .init("bad_100", valid: false, "# TYPE a stateset\na 2\n# EOF\n"),
        .init("bad_101", valid: false, "# TYPE a info\na 2\n# EOF\n"),
        .init("bad_102", valid: false, "# TYPE a stateset\na 2.0\n# EOF\n"),
        .init("bad_103", valid: false, "# TYPE a info\na 2.0\n# EOF\n"),
        .init("bad_104", valid: false, "# TYPE a summary\na 0\n# EOF\n"),
        .init("bad_105", valid: false, "# TYPE a summary\na{quantile=\"-1\"} 0\n# EOF\n"),
        .init("bad_106", valid: false, "# TYPE a summary\na{quantile=\"foo\"} 0\n# EOF\n"),
        .init("bad_107", valid: false, "# TYPE a summary\na{quantile=\"1.01\"} 0\n# EOF\n"),
        .init("bad_108", valid: false, "# TYPE a summary\na{quantile=\"NaN\"} 0\n# EOF\n"),
        .init("bad_109", valid: false, "# TYPE a histogram\na_bucket 0\n# EOF\n"),
        .init("bad_110", valid: false, "# TYPE a gaugehistogram\na_bucket 0\n# EOF\n"),
        .init("bad_111", valid: false, "# TYPE a stateset\na 0\n# EOF\n"),
        .init("bad_112", valid: false, "# TYPE a counter\na_total NaN\n# EOF\n"),
        .init("bad_113", valid: false, "# TYPE a counter\na_total -1\n# EOF\n"),
        .init("bad_114", valid: false, "# TYPE a histogram\na_sum NaN\n# EOF\n"),
        .init("bad_115", valid: false, "# TYPE a histogram\na_count NaN\n# EOF\n"),
        .init("bad_116", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} NaN\n# EOF\n"),
        .init("bad_117", valid: false, "# TYPE a histogram\na_sum -1\n# EOF\n"),
        .init("bad_118", valid: false, "# TYPE a histogram\na_count -1\n# EOF\n"),
        .init("bad_119", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} -1\n# EOF\n"),
        .init("bad_120", valid: false, "# TYPE a histogram\na_bucket{le=\"-1.0\"} 1\na_bucket{le=\"+Inf\"} 2\na_sum -1\n# EOF\n"),
        .init("bad_121", valid: false, "# TYPE a histogram\na_bucket{le=\"-1.0\"} 1\na_bucket{le=\"+Inf\"} 2\na_sum 1\n# EOF\n"),
        .init("bad_122", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0.5\n# EOF\n"),
        .init("bad_123", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0.5\na_count 0.5\na_sum 0\n# EOF\n"),
        .init("bad_124", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} NaN\n# EOF\n"),
        .init("bad_125", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} -1\na_gcount -1\n# EOF\n"),
        .init("bad_126", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} -1\n# EOF\n"),
        .init("bad_127", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gsum -1\n# EOF\n"),
        .init("bad_128", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gsum NaN\n# EOF\n"),
        .init("bad_129", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0.5\n# EOF\n"),
        .init("bad_130", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0.5\na_gsum 0.5\na_gcount 0\n# EOF\n"),
        .init("bad_131", valid: false, "# TYPE a summary\na_sum NaN\n# EOF\n"),
        .init("bad_132", valid: false, "# TYPE a summary\na_count NaN\n# EOF\n"),
        .init("bad_133", valid: false, "# TYPE a summary\na_sum -1\n# EOF\n"),
        .init("bad_134", valid: false, "# TYPE a summary\na_count -1\n# EOF\n"),
        .init("bad_135", valid: false, "# TYPE a summary\na_count 0.5\n# EOF\n"),
        .init("bad_136", valid: false, "# TYPE a summary\na{quantile=\"0.5\"} -1\n# EOF\n"),
        .init("bad_137", valid: false, "# TYPE a info\na_info{foo=\"bar\"} 2\n# EOF\n"),
        .init("bad_138", valid: false, "# TYPE a stateset\na{a=\"bar\"} 2\n# EOF\n"),
        .init("bad_139", valid: false, "# TYPE a histogram\na_sum 1\n# EOF\n"),
        .init("bad_140", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_sum 0\n# EOF\n"),
        .init("bad_141", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 0\n# EOF\n"),
        .init("bad_142", valid: false, "# TYPE a histogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 0\na_sum 0\na_count 0\n# EOF\n"),
        .init("bad_143", valid: false, "# TYPE a gaugehistogram\na_gsum 1\n# EOF\n"),
        .init("bad_144", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0\na_gsum 0\n# EOF\n"),
        .init("bad_145", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0\na_gcount 0\n# EOF\n"),
        .init("bad_146", valid: false, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gsum -1\na_gcount 1\n# EOF\n"),
        .init("bad_147", valid: false, "# TYPE a histogram\na_count 1\na_bucket{le=\"+Inf\"} 0\n# EOF\n"),
        .init("bad_148", valid: false, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 1\n# EOF\n"),
        .init("bad_149", valid: false, "# TYPE a histogram\na_bucket{le=\"+INF\"} 0\n# EOF\n"),
        .init("bad_150", valid: false, "# TYPE a histogram\na_bucket{le=\"2\"} 0\na_bucket{le=\"1\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n"),
        .init("bad_151", valid: false, "# TYPE a histogram\na_bucket{le=\"1\"} 1\na_bucket{le=\"2\"} 1\na_bucket{le=\"+Inf\"} 0\n# EOF\n"),
        .init("bad_152", valid: false, "# TYPE a histogram\na_sum{a=\"1\"} 0\na_sum{a=\"2\"} 0\na_count{a=\"1\"} 0\n# EOF\n"),
        .init(
            "bad_153",
            valid: false,
            "# TYPE a histogram\na_bucket{a=\"1\",le=\"1\"} 0\na_bucket{a=\"2\",le=\"+Inf\"\"} 0\na_bucket{a=\"1\",le=\"+Inf\"} 0\n# EOF\n"
        ),
        .init("bad_154", valid: false, "# TYPE a gaugehistogram\na_gsum{a=\"1\"} 0\na_gsum{a=\"2\"} 0\na_gcount{a=\"1\"} 0\n# EOF\n"),
        .init("bad_155", valid: false, "# TYPE a summary\nquantile{quantile=\"0\"} 0\na_sum{a=\"1\"} 0\nquantile{quantile=\"1\"} 0\n# EOF\n"),
        .init("bad_156", valid: false, "# TYPE a gauge\na 0 -1\na 0 -2\n# EOF\n"),
        .init("bad_157", valid: false, "# TYPE a gauge\na 0 -1\na 0 -1.1\n# EOF\n"),
        .init("bad_158", valid: false, "# TYPE a gauge\na 0 1\na 0 -1\n# EOF\n"),
        .init("bad_159", valid: false, "# TYPE a gauge\na 0 1.1\na 0 1\n# EOF\n"),
        .init("bad_160", valid: false, "# TYPE a gauge\na 0 1\na 0 0\n# EOF\n"),
        .init("bad_161", valid: false, "# TYPE a gauge\na 0\na 0 0\n# EOF\n"),
        .init("bad_162", valid: false, "# TYPE a gauge\na 0 0\na 0\n# EOF\n"),
        .init("bad_163", valid: false, "# TYPE a counter\n# TYPE a counter\n# EOF\n"),
        .init("bad_164", valid: false, "# TYPE a info\n# TYPE a counter\n# EOF\n"),
        .init("bad_165", valid: false, "# TYPE a_created gauge\n# TYPE a counter\n# EOF\n"),
        .init(
            "bad_166",
            valid: false,
            "# TYPE a counter\na_total 1 # {a=\"\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\u{E4}\"} 1\n# EOF\n"
        ),
        .init(
            "bad_167",
            valid: false,
            "# TYPE a counter\na_total 1 # {a=\"e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}\"} 1\n# EOF\n"
        ),
    ]

    @Test(arguments: cases)
    func ourVerdictFollowsTheSpecification(_ testCase: Case) {
        do {
            _ = try ExpositionParser.parse(testCase.text, format: .openMetrics)
            #expect(testCase.valid, "parsed, but the specification refuses it")
        } catch {
            #expect(!testCase.valid, "refused: \(error)")
            // A parse error names the line that breaks a rule (0 only for an empty text).
            #expect(error.line >= 1 || testCase.text.isEmpty, "\(error)")
        }
    }

    @Test(arguments: cases)
    func prometheusClientReachesTheSameVerdict(_ testCase: Case) async throws {
        let python = try requirePeer(".venv-remote-write/bin/python")
        let checker = repositoryRoot.appendingPathComponent("Tests/Interop/openmetrics_check.py").path
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("metrics")
            try Data(testCase.text.utf8).write(to: file)
            let outcome = try await runToCompletion(python, [checker, file.path], timeout: .seconds(30))
            #expect(!outcome.timedOut)
            #expect((outcome.status == 0) == testCase.valid, "prometheus_client says: \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    @Test func theTableHoldsBothVerdictsAndNoCaseTwice() {
        #expect(Self.cases.count >= 200)
        #expect(Self.cases.filter(\.valid).count >= 40)
        #expect(Set(Self.cases.map(\.text)).count == Self.cases.count)
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count)
    }

    /// Values the specification keeps that milliseconds would lose: a timestamp past `Int64`
    /// milliseconds, timestamps a tenth of a nanosecond apart, unknown escapes kept as written.
    @Test func valuesAreKeptAsTheSpecificationSays() throws {
        let parsed = try ExpositionParser.parse(
            "# HELP a x\\ty\n# TYPE a gauge\na{l=\"\\f\"} 1 12345678901234567890.5\nb 1 0.0000000000\nb 2 0.0000000001\n# EOF\n",
            format: .openMetrics
        )
        #expect(parsed.families[0].help == "x\\ty")
        #expect(parsed.samples[0].label("l") == "\\f")
        #expect(parsed.samples[0].timestampSeconds == 12_345_678_901_234_567_890.5)
        #expect(parsed.samples[0].timestampMilliseconds == .max)
        // Two points, not a duplicate series.
        #expect(!ExpositionLint.findings(parsed).contains { $0.message.contains("duplicate series") })
    }
}
