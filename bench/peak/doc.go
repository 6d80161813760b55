// Package peak measures this machine's float32 multiply-add peak (go test
// ./bench/peak -bench .): every core runs independent chains of fused
// multiply-adds that touch no memory, so the rate is what the floating-point
// units can do, the ceiling for any GEMM. bench/compare.sh divides a
// workload's multiply-add count by it to get the least time that workload
// can take here, whoever computes it.
package peak
