package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
)

// batchCase is a model and a way to draw requests for it.
type batchCase struct {
	name string
	sess *trnn.Session
	// request draws a request body and the inputs Session.Run takes for it.
	request func(rng *rand.Rand) (string, map[string]*trnn.Tensor)
}

// seqCase draws requests of 1 to 3 rows of 0 to maxLen steps for a
// sequence model: its float input of rank 3 (x) and its integer input of
// rank 1 (lengths) hold random rows, and any other float input (a stateful
// model's state) random values of its fixed dimensions. With fixedT, x has
// maxLen/3 or maxLen steps, so that requests to a model that is not padded
// along time merge; otherwise it has its longest row's.
func seqCase(name string, sess *trnn.Session, maxLen int, fixedT bool) batchCase {
	return batchCase{name, sess, func(rng *rand.Rand) (string, map[string]*trnn.Tensor) {
		rows := 1 + rng.IntN(3)
		tensors := map[string]*trnn.Tensor{}
		var lens []int
		for _, v := range sess.Inputs() {
			switch {
			case len(v.Shape) == 3:
				F := v.Shape[2].Size
				var x []float32
				var T int
				if fixedT {
					T = []int{maxLen / 3, maxLen}[rng.IntN(2)]
					lens = make([]int, rows)
					for i := range lens {
						lens[i] = rng.IntN(T + 1)
					}
					x = paddedRows(rng, lens, T, F)
				} else {
					x, lens, T = randomRows(rng, rows, maxLen, F)
				}
				tensors[v.Name] = &trnn.Tensor{DType: trnn.Float32, Shape: []int{rows, T, F}, F32: x}
			case v.DType == trnn.Float32:
				shape := []int{rows}
				for _, d := range v.Shape[1:] {
					shape = append(shape, d.Size)
				}
				t := &trnn.Tensor{DType: trnn.Float32, Shape: shape, F32: make([]float32, elements(shape))}
				for i := range t.F32 {
					t.F32[i] = float32(rng.NormFloat64())
				}
				tensors[v.Name] = t
			}
		}
		var inputs []tensorJSON
		for _, v := range sess.Inputs() {
			if v.DType == trnn.Int32 || v.DType == trnn.Int64 {
				t := newTensor(v.DType, []int{rows})
				for i, n := range lens {
					setInt(t, i, n)
				}
				tensors[v.Name] = t
			}
			inputs = append(inputs, toJSON(v.Name, tensors[v.Name]))
		}
		b, _ := json.Marshal(map[string]any{"inputs": inputs})
		return string(b), tensors
	}}
}

func setInt(t *trnn.Tensor, i, n int) {
	if t.DType == trnn.Int32 {
		t.I32[i] = int32(n)
	} else {
		t.I64[i] = int64(n)
	}
}

// toJSON is a float32 or integer tensor as a request input.
func toJSON(name string, t *trnn.Tensor) tensorJSON {
	j := tensorJSON{Name: name, Shape: t.Shape, Datatype: datatype(t.DType), Data: []float64{}}
	for _, v := range t.F32 {
		j.Data = append(j.Data, float64(v))
	}
	for _, v := range t.I32 {
		j.Data = append(j.Data, float64(v))
	}
	for _, v := range t.I64 {
		j.Data = append(j.Data, float64(v))
	}
	return j
}

// noLengthsCase is lstm_classifier without its lengths input: requests
// merge only with requests of as many steps.
func noLengthsCase(t *testing.T) batchCase {
	sess := onnxModel(t, "lstm_classifier", func(m *onnxpb.ModelProto) {
		g := m.Graph
		g.Input = slices.DeleteFunc(g.Input, func(vi *onnxpb.ValueInfoProto) bool { return vi.GetName() == "seq_lens" })
		for _, n := range g.Node {
			if n.GetOpType() == "LSTM" {
				n.Input = n.Input[:4]
			}
		}
	})
	return batchCase{"no lengths", sess, func(rng *rand.Rand) (string, map[string]*trnn.Tensor) {
		rows, T := 1+rng.IntN(3), []int{1, 3, 8, 20}[rng.IntN(4)]
		x := make([]float32, rows*T*5)
		xs := make([]float64, len(x))
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			xs[i] = float64(x[i])
		}
		b, _ := json.Marshal(map[string]any{"inputs": []tensorJSON{{Name: "input", Shape: []int{rows, T, 5}, Datatype: "FP32", Data: xs}}})
		return string(b), map[string]*trnn.Tensor{"input": {DType: trnn.Float32, Shape: []int{rows, T, 5}, F32: x}}
	}}
}

// TestBatchingIsExact sends the same requests from 64 concurrent clients
// to a batching server and to one that runs each request alone (MaxBatch
// 1): every answer must be the same, byte for byte (floats are written in
// the shortest form that reads back to the same float32, so bit for bit),
// and agree with Session.Run on the request to rounding. It checks that
// requests were merged, so that it tests what it claims to.
func TestBatchingIsExact(t *testing.T) {
	cases := []batchCase{
		seqCase("trnn", trnnModel(t, 3, export.Options{StepProbs: true}), 40, false),
		seqCase("stateful", trnnModel(t, 3, export.Options{Stateful: true}), 40, false),
		seqCase("lstm_classifier", onnxModel(t, "lstm_classifier", nil), 30, true),
		seqCase("gru_classifier", onnxModel(t, "gru_classifier", nil), 30, true),
		noLengthsCase(t),
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			_, batched := newServer(t, map[string]*trnn.Session{"m": c.sess}, Options{MaxBatch: 32, MaxDelay: 20 * time.Millisecond, Registry: reg})
			_, alone := newServer(t, map[string]*trnn.Session{"m": c.sess}, Options{MaxBatch: 1})
			rng := rand.New(rand.NewPCG(7, 7))
			const clients, each = 64, 4
			bodies := make([]string, clients*each)
			inputs := make([]map[string]*trnn.Tensor, len(bodies))
			for i := range bodies {
				bodies[i], inputs[i] = c.request(rng)
			}
			got := postAll(t, batched+"/v2/models/m/infer", bodies, clients)
			want := postAll(t, alone+"/v2/models/m/infer", bodies, clients)
			for i := range bodies {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("request %d: batched answer\n%s\ndiffers from the one alone\n%s", i, got[i], want[i])
				}
				checkAgainstRun(t, c.sess, inputs[i], got[i])
			}
			count, sum := histogram(t, reg, "trnn_serve_batch_rows")
			if count == 0 || sum/float64(count) < 2 {
				t.Fatalf("%d batches of %.1f rows on average: requests were not merged", count, sum/float64(count))
			}
			t.Logf("%d requests in %d batches of %.1f rows on average", len(bodies), count, sum/float64(count))
		})
	}
}

// postAll posts bodies to url from clients concurrent clients, each
// sending its share in turn, and returns the answers (which must be 200).
func postAll(t *testing.T, url string, bodies []string, clients int) [][]byte {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: time.Minute}
	defer client.CloseIdleConnections()
	out := make([][]byte, len(bodies))
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for k := range clients {
		wg.Go(func() {
			for i := k; i < len(bodies); i += clients {
				resp, err := client.Post(url, "application/json", bytes.NewReader([]byte(bodies[i])))
				if err != nil {
					errs[k] = err
					return
				}
				out[i], err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("request %d: %d %s", i, resp.StatusCode, out[i])
				}
				if err != nil {
					errs[k] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checkAgainstRun checks an answer against Session.Run on its inputs.
func checkAgainstRun(t *testing.T, sess *trnn.Session, inputs map[string]*trnn.Tensor, answer []byte) {
	t.Helper()
	want, err := sess.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	var resp responseJSON
	if err := json.Unmarshal(answer, &resp); err != nil {
		t.Fatal(err)
	}
	for _, o := range resp.Outputs {
		w := want[o.Name]
		if !slices.Equal(o.Shape, w.Shape) || len(o.Data) != len(w.F32) {
			t.Fatalf("output %s: shape %v, Run gives %v", o.Name, o.Shape, w.Shape)
		}
		for i, v := range o.Data {
			if math.Abs(v-float64(w.F32[i])) > 1e-5 {
				t.Fatalf("output %s[%d] = %v, Run gives %v", o.Name, i, v, w.F32[i])
			}
		}
	}
}

// histogram returns the count and sum of a histogram in reg, over its
// labels.
func histogram(t *testing.T, reg *prometheus.Registry, name string) (count uint64, sum float64) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			count += m.GetHistogram().GetSampleCount()
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return count, sum
}
