import Fathom

/// `exp` and `relu` on 4M float32 (read + write).
func unaryWorkloads(_ p: Tensor, bytes: Double) -> [Workload] {
    [
        Workload(key: "exp_4m_gbps", unit: "GB/s", value: { 2 * bytes / $0 / 1e9 }) { blackHole(p.exp()) },
        Workload(key: "relu_4m_gbps", unit: "GB/s", value: { 2 * bytes / $0 / 1e9 }) { blackHole(p.relu()) },
    ]
}
