import Fathom

/// `exp` and `relu` on 4M float32 (read + write).
///
/// TODO(lead): `Tensor.exp()` / `Tensor.relu()` come from another branch. After merging
/// it, delete the `#if`/`#else` lines below (keep the first branch) so these figures run;
/// until then they are reported as null. Build with `-Xswiftc -DFATHOM_HAS_EXP_RELU` to
/// enable them on a tree that already has the ops.
func unaryWorkloads(_ p: Tensor, bytes: Double) -> [Workload] {
    #if FATHOM_HAS_EXP_RELU
    return [
        Workload(key: "exp_4m_gbps", unit: "GB/s", value: { 2 * bytes / $0 / 1e9 }) { blackHole(p.exp()) },
        Workload(key: "relu_4m_gbps", unit: "GB/s", value: { 2 * bytes / $0 / 1e9 }) { blackHole(p.relu()) },
    ]
    #else
    return [
        Workload(key: "exp_4m_gbps", unit: "GB/s", value: { _ in .nan }) {},
        Workload(key: "relu_4m_gbps", unit: "GB/s", value: { _ in .nan }) {},
    ]
    #endif
}
