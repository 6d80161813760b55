//go:build !amd64 || purego

package ops

// haveBCEAsm: no vector BCE kernel in this build.
const haveBCEAsm = false

func bceRowAsm(n int, z, y, pw *float32, loss *float64, dz *float32) uint64 {
	panic("ops: bceRowAsm: no assembly in this build")
}
