package serve

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/runtime"
)

// TestServeGaps: a model whose spec imputes missing values (forward fill,
// a categorical feature, indicators) takes null for a gap, with and
// without state, and answers what Session.Run gives for NaN.
func TestServeGaps(t *testing.T) {
	spec := compiler.DefaultSpec()
	spec.Name = "gaps"
	spec.Inputs.Features = 3
	spec.Inputs.Missing, spec.Inputs.Indicators = compiler.MissingForwardFill, true
	spec.Inputs.Categories = [][]string{nil, {"a", "b"}, nil}
	spec.Layers = []compiler.Layer{{Kind: compiler.LayerGRU, Units: 6}}
	spec.Outputs.Labels = 1
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	models := map[string]*trnn.Session{}
	for name, opts := range map[string]export.Options{"plain": {}, "step": {Stateful: true}} {
		var buf bytes.Buffer
		if err := runtime.WriteModel(&buf, prog, opts); err != nil {
			t.Fatal(err)
		}
		if models[name], err = trnn.LoadBytes(name, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	_, url := newServer(t, models, Options{})
	nan := float32(math.NaN())
	f32 := func(d []float32, shape ...int) *trnn.Tensor {
		return &trnn.Tensor{DType: trnn.Float32, Shape: shape, F32: d}
	}
	x := []float32{1, 0, nan, nan, nan, 2, nan, 1, 3}
	for _, name := range []string{"plain", "step"} {
		in := map[string]*trnn.Tensor{"x": f32(x, 1, 3, 3), "lengths": {DType: trnn.Int32, Shape: []int{1}, I32: []int32{3}}}
		body := `{"inputs": [{"name": "x", "shape": [1, 3, 3], "datatype": "FP32", "data": [1, 0, null, null, null, 2, null, 1, 3]},
			{"name": "lengths", "shape": [1], "datatype": "INT32", "data": [3]}`
		if name == "step" {
			body += `, {"name": "h_in_0", "shape": [1, 6], "datatype": "FP32", "data": [0, 0, 0, 0, 0, 0]},
			{"name": "fill_in", "shape": [1, 3], "datatype": "FP32", "data": [null, null, null]}`
			in["h_in_0"] = f32(make([]float32, 6), 1, 6)
			in["fill_in"] = f32([]float32{nan, nan, nan}, 1, 3)
		}
		status, b := do(t, "POST", url+"/v2/models/"+name+"/infer", body+`]}`)
		if status != 200 {
			t.Fatalf("%s: %d %s", name, status, b)
		}
		want, err := models[name].Run(in)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Outputs []struct {
				Name string
				Data []float32
			}
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatal(err)
		}
		for _, o := range resp.Outputs {
			if o.Name == "probs" && o.Data[0] != want["probs"].F32[0] {
				t.Fatalf("%s: probs %v, Run gives %v", name, o.Data, want["probs"].F32)
			}
			if o.Name == "fill_out" && (o.Data[0] != 1 || o.Data[1] != 1 || o.Data[2] != 3) {
				t.Fatalf("%s: fill_out %v, want the last observed values [1 1 3]", name, o.Data)
			}
		}
		if name == "step" && !strings.Contains(string(b), `"fill_out"`) {
			t.Fatalf("the stateful model's answer has no fill_out: %s", b)
		}
	}
}
