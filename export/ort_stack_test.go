package export_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/internal/ortcheck"
)

// TestORTParityStack: exported models of two recurrent layers wide enough
// for the Go runtime to run their layers at once on a few rows (the sizes
// runtime/interp's TestFusedStackSameBits checks take that path), and on
// 64 rows to pack them once per part, give ONNX Runtime's outputs and the
// float64 reference's within parityTol, on 48-step batches of mixed
// lengths, with the padding filled with garbage.
func TestORTParityStack(t *testing.T) {
	ortcheck.Require(t)
	const F, T = 13, 48
	for i, c := range []progConfig{
		{name: "lstm64-lstm64", layers: []compiler.Layer{lstm(64), lstm(64)}, F: F, K: 1},
		{name: "gru64-lstm48", layers: []compiler.Layer{gru(64), lstm(48)}, F: F, K: 3, normalize: true},
	} {
		c.seed = uint64(300 + i)
		prog := testProgram(t, c)
		model := exportBytes(t, prog, export.Options{Version: testVersion})
		s, err := ortcheck.Open(model, []string{"x", "lengths"}, []string{"probs"})
		if err != nil {
			t.Fatal(err)
		}
		ip := goRuntime(t, c.name+".onnx", model)
		worst := 0.0
		for _, B := range []int{1, 2, 5, 64} {
			rng := rand.New(rand.NewPCG(uint64(B), 9))
			lengths := make([]int32, B)
			for b := range lengths {
				lengths[b] = int32(12 + rng.IntN(T-11))
			}
			lengths[0] = T
			b := makeBatch(fmt.Sprintf("%s B=%d", c.name, B), F, T, lengths, uint64(B))
			refP, _ := refForward(prog, b.x, b.B, b.T, b.lengths)
			ortOut, goOut := runBoth(t, s, ip, b)
			checkOutputs(t, "onnx runtime", b, c.K, false, ortOut, refP, nil)
			checkOutputs(t, "go runtime", b, c.K, false, goOut, refP, nil)
			for j, v := range goOut["probs"].F32 {
				d := math.Abs(float64(v) - float64(ortOut["probs"].F32[j]))
				if d > parityTol {
					t.Fatalf("%s: probs[%d] = %v, onnx runtime %v", b.name, j, v, ortOut["probs"].F32[j])
				}
				worst = math.Max(worst, d)
			}
		}
		s.Close()
		t.Logf("%s: max |go runtime − onnx runtime| %.2e over 1, 2, 5 and 64 rows", c.name, worst)
	}
}
