package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/runtime"
)

// trnnModel compiles and initialises a two-layer trnn model (F features, 2
// labels), exports it with opts and loads it, without training: the server
// does not care what the weights are.
func trnnModel(t *testing.T, F int, opts export.Options) *trnn.Session {
	t.Helper()
	spec := compiler.DefaultSpec()
	spec.Name = "served"
	spec.Inputs.Features = F
	spec.Layers = []compiler.Layer{{Kind: compiler.LayerLSTM, Units: 24}, {Kind: compiler.LayerGRU, Units: 12}}
	spec.Outputs.Labels = 2
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, p := range prog.Graph.Params {
		switch p.Name {
		case compiler.ParamMean:
			for i := range p.Tensor.F32 {
				p.Tensor.F32[i] = float32(rng.NormFloat64())
			}
		case compiler.ParamStd:
			for i := range p.Tensor.F32 {
				p.Tensor.F32[i] = float32(0.5 + rng.Float64())
			}
		}
	}
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, prog, opts); err != nil {
		t.Fatal(err)
	}
	s, err := trnn.LoadBytes("served", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// onnxModel loads testdata/onnx/NAME.onnx after edit (which may be nil).
func onnxModel(t *testing.T, name string, edit func(m *onnxpb.ModelProto)) *trnn.Session {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "onnx", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var m onnxpb.ModelProto
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		edit(&m)
		if b, err = proto.Marshal(&m); err != nil {
			t.Fatal(err)
		}
	}
	s, err := trnn.LoadBytes(name, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// setDims sets the shape of a graph input or output.
func setDims(vi *onnxpb.ValueInfoProto, ds ...any) {
	var out []*onnxpb.TensorShapeProto_Dimension
	for _, d := range ds {
		switch d := d.(type) {
		case int:
			out = append(out, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			out = append(out, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	vi.Type.GetTensorType().Shape.Dim = out
}

// newServer serves models on a loopback test server, closed when the test
// ends.
func newServer(t *testing.T, models map[string]*trnn.Session, opts Options) (*Server, string) {
	t.Helper()
	srv, err := New(models, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return srv, ts.URL
}

// do sends a request and returns the status and body.
func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// tensorJSON is a tensor of a request or a response.
type tensorJSON struct {
	Name     string    `json:"name"`
	Shape    []int     `json:"shape"`
	Datatype string    `json:"datatype"`
	Data     []float64 `json:"data"`
}

type responseJSON struct {
	ModelName string       `json:"model_name"`
	ID        string       `json:"id"`
	Outputs   []tensorJSON `json:"outputs"`
}

// seqRequest is a request for a sequence model with inputs x and lengths
// named xName and lName: rows of F features, row i valid for lens[i] of T
// steps.
func seqRequest(xName, lName string, x []float32, lens []int, T, F int) string {
	xs := make([]float64, len(x))
	for i, v := range x {
		xs[i] = float64(v)
	}
	ls := make([]float64, len(lens))
	for i, l := range lens {
		ls[i] = float64(l)
	}
	b, _ := json.Marshal(map[string]any{"inputs": []tensorJSON{
		{Name: xName, Shape: []int{len(lens), T, F}, Datatype: "FP32", Data: xs},
		{Name: lName, Shape: []int{len(lens)}, Datatype: "INT32", Data: ls},
	}})
	return string(b)
}

// randomRows draws rows sequences of lengths 0..maxLen padded to their
// longest, T.
func randomRows(rng *rand.Rand, rows, maxLen, F int) (x []float32, lens []int, T int) {
	lens = make([]int, rows)
	for i := range lens {
		lens[i] = rng.IntN(maxLen + 1)
		T = max(T, lens[i])
	}
	return paddedRows(rng, lens, T, F), lens, T
}

// paddedRows draws sequences of the given lengths, padded with zeros to T
// steps.
func paddedRows(rng *rand.Rand, lens []int, T, F int) []float32 {
	x := make([]float32, len(lens)*T*F)
	for i, L := range lens {
		for j := range L * F {
			x[i*T*F+j] = float32(rng.NormFloat64())
		}
	}
	return x
}

func TestHealthAndMetadata(t *testing.T) {
	_, url := newServer(t, map[string]*trnn.Session{"qs": trnnModel(t, 3, export.Options{StepProbs: true})}, Options{Version: "9.9"})
	for _, c := range []struct {
		method, path string
		status       int
		body         string // a regexp
	}{
		{"GET", "/v2/health/live", 200, `^\{"live":true\}$`},
		{"GET", "/v2/health/ready", 200, `^\{"ready":true\}$`},
		{"GET", "/v2", 200, `"name":"trnn".*"version":"9.9"`},
		{"GET", "/v2/models/qs/ready", 200, `^\{"name":"qs","ready":true\}$`},
		{"GET", "/v2/models/qs", 200, `^\{"name":"qs","platform":"trnn_onnx","inputs":\[\{"name":"x","datatype":"FP32","shape":\[-1,-1,3\]\},\{"name":"lengths","datatype":"INT32","shape":\[-1\]\}\],"outputs":\[.*\{"name":"probs","datatype":"FP32","shape":\[-1,2\]\}`},
		{"GET", "/v2/models/nope", 404, `^\{"error":"unknown model \\"nope\\" \(the models are \\"qs\\"\)"\}$`},
		{"GET", "/v2/models/nope/ready", 404, `unknown model`},
		{"POST", "/v2/models/nope/infer", 404, `unknown model`},
		{"GET", "/v2/models/qs/infer", 405, `^\{"error":"method not allowed: use POST"\}$`},
		{"POST", "/v2/health/live", 405, `use GET, HEAD`},
		{"GET", "/v1/models", 404, `^\{"error":"no endpoint /v1/models"\}$`},
	} {
		status, body := do(t, c.method, url+c.path, "")
		if status != c.status || !regexp.MustCompile(c.body).Match(body) {
			t.Errorf("%s %s: %d %s, expected %d matching %s", c.method, c.path, status, body, c.status, c.body)
		}
	}
}

// TestInfer checks infer against Session.Run on the same rows: the values
// agree to rounding (the server runs rows in chunks of its own shape), the
// per-step output is cut back to the request's steps, the id comes back,
// and outputs can be chosen.
func TestInfer(t *testing.T) {
	sess := trnnModel(t, 3, export.Options{StepProbs: true})
	_, url := newServer(t, map[string]*trnn.Session{"qs": sess}, Options{})
	x, lens, T := randomRows(rand.New(rand.NewPCG(1, 1)), 3, 9, 3)
	lens[0] = T
	want, err := sess.Run(map[string]*trnn.Tensor{
		"x":       {DType: trnn.Float32, Shape: []int{3, T, 3}, F32: x},
		"lengths": {DType: trnn.Int32, Shape: []int{3}, I32: []int32{int32(lens[0]), int32(lens[1]), int32(lens[2])}},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := seqRequest("x", "lengths", x, lens, T, 3)
	body = `{"id": "r-1", ` + body[1:]
	status, b := do(t, "POST", url+"/v2/models/qs/infer", body)
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	var resp responseJSON
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.ModelName != "qs" || resp.ID != "r-1" || len(resp.Outputs) != 2 {
		t.Fatalf("response %s", b)
	}
	for _, o := range resp.Outputs {
		w := want[o.Name]
		if o.Datatype != "FP32" || fmt.Sprint(o.Shape) != fmt.Sprint(w.Shape) {
			t.Fatalf("output %s: %s %v, expected FP32 %v", o.Name, o.Datatype, o.Shape, w.Shape)
		}
		for i, v := range o.Data {
			if math.Abs(v-float64(w.F32[i])) > 1e-6 {
				t.Fatalf("output %s[%d] = %v, Run gives %v", o.Name, i, v, w.F32[i])
			}
		}
	}
	body = `{"outputs": [{"name": "probs"}], ` + seqRequest("x", "lengths", x, lens, T, 3)[1:]
	if status, b = do(t, "POST", url+"/v2/models/qs/infer", body); status != 200 || strings.Contains(string(b), "step_probs") {
		t.Fatalf("asking for probs alone: %d %s", status, b)
	}
}
