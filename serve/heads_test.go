package serve

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/runtime"
)

// headModel exports a model with the given outputs section and loads it.
func headModel(t *testing.T, outputs string) *trnn.Session {
	t.Helper()
	spec, err := compiler.Parse("h.yaml", []byte("inputs: {features: 3}\nlayers: [{lstm: {units: 6}}]\noutputs: "+outputs+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, prog, export.Options{}); err != nil {
		t.Fatal(err)
	}
	s, err := trnn.LoadBytes("h", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestInferHeads serves a model of classes and a per-step regression model:
// the server answers with their own outputs (probs; values and
// step_values), equal to Run's.
func TestInferHeads(t *testing.T) {
	for _, c := range []struct {
		outputs string
		names   []string
	}{
		{"{classes: [a, b, c]}", []string{"probs"}},
		{"{targets: [hours], per_step: true, normalize_targets: true}", []string{"step_values", "values"}},
	} {
		sess := headModel(t, c.outputs)
		_, url := newServer(t, map[string]*trnn.Session{"m": sess}, Options{})
		x, lens, T := randomRows(rand.New(rand.NewPCG(2, 2)), 4, 7, 3)
		l32 := make([]int32, len(lens))
		for i, l := range lens {
			l32[i] = int32(l)
		}
		want, err := sess.Run(map[string]*trnn.Tensor{
			"x":       {DType: trnn.Float32, Shape: []int{4, T, 3}, F32: x},
			"lengths": {DType: trnn.Int32, Shape: []int{4}, I32: l32},
		})
		if err != nil {
			t.Fatal(err)
		}
		status, b := do(t, "POST", url+"/v2/models/m/infer", seqRequest("x", "lengths", x, lens, T, 3))
		if status != 200 {
			t.Fatalf("%s: %d %s", c.outputs, status, b)
		}
		var resp responseJSON
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range resp.Outputs {
			got = append(got, o.Name)
			w := want[o.Name]
			for i, v := range o.Data {
				if math.Abs(v-float64(w.F32[i])) > 1e-6 {
					t.Fatalf("%s: output %s[%d] = %v, Run gives %v", c.outputs, o.Name, i, v, w.F32[i])
				}
			}
		}
		sort.Strings(got)
		if len(got) != len(c.names) || got[0] != c.names[0] || got[len(got)-1] != c.names[len(c.names)-1] {
			t.Errorf("%s: outputs %v, want %v", c.outputs, got, c.names)
		}
	}
}
