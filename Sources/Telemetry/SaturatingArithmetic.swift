extension UInt64 {
    /// `self + other`, or `UInt64.max` where that overflows: bucket counts added across points or series, which
    /// each passed intake but together may not fit (Prometheus keeps counts as floats and never wraps).
    package func saturatingAdding(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
