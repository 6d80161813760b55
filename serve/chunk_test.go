package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export/onnxpb"
)

// TestPlanChunks checks the chunk shape on random rows: at most chunkRows
// rows, extras included; every steps count held by an even number of rows;
// at least minSteps (row, step) pairs whenever a row can run more than one
// step; each row in exactly one chunk, and extras copies of the chunk's own
// rows, within maxCopy steps.
func TestPlanChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := range 2000 {
		maxCopy := []int{0, 1, 2, 5, 40}[trial%5]
		n := 1 + rng.IntN(100)
		calls := map[*call]bool{}
		rows := make([]rowRef, n)
		for i := range rows {
			c := &call{}
			calls[c] = true
			steps := rng.IntN(6)
			if rng.IntN(2) == 0 {
				steps = rng.IntN(60)
			}
			if maxCopy > 0 {
				steps = min(steps, maxCopy)
			}
			rows[i] = rowRef{c, 0, steps}
		}
		seen := map[*call]int{}
		for _, ch := range planChunks(rows, maxCopy) {
			all := append(append([]rowRef{}, ch.rows...), ch.extra...)
			if len(all) > chunkRows {
				t.Fatalf("trial %d: a chunk of %d rows", trial, len(all))
			}
			count, total := map[int]int{}, 0
			in := map[*call]bool{}
			for _, r := range ch.rows {
				seen[r.c]++
				in[r.c] = true
			}
			for _, r := range all {
				count[r.steps]++
				total += r.steps
			}
			for steps, k := range count {
				if k%2 != 0 {
					t.Fatalf("trial %d: %d rows of %d steps", trial, k, steps)
				}
			}
			if total < minSteps && maxCopy != 1 {
				t.Fatalf("trial %d (maxCopy %d): %d steps in a chunk", trial, maxCopy, total)
			}
			for _, r := range ch.extra {
				if !in[r.c] || maxCopy > 0 && r.steps > maxCopy {
					t.Fatalf("trial %d: extra row %+v", trial, r)
				}
			}
		}
		for c := range calls {
			if seen[c] != 1 {
				t.Fatalf("trial %d: a row in %d chunks", trial, seen[c])
			}
		}
	}
}

func TestPlanLayout(t *testing.T) {
	v := func(name string, dt trnn.DType, dims ...any) trnn.Value {
		var s trnn.Shape
		for _, d := range dims {
			switch d := d.(type) {
			case int:
				s = append(s, trnn.Dim{Size: d})
			case string:
				s = append(s, trnn.Dim{Sym: d})
			}
		}
		return trnn.Value{Name: name, DType: dt, Shape: s}
	}
	f, i := trnn.Float32, trnn.Int32
	i64 := trnn.Int64
	for _, c := range []struct {
		name            string
		inputs, outputs []trnn.Value
		written         bool // by trnn
		want            string
	}{
		{"trnn", []trnn.Value{v("x", f, "batch", "time", 3), v("lengths", i, "batch")},
			[]trnn.Value{v("probs", f, "batch", 2), v("step_probs", f, "batch", "time", 2)}, true, "batchable x=0 lengths=1 pad=true time=[false true]"},
		{"trnn's interface, another writer", []trnn.Value{v("x", f, "batch", "time", 3), v("lengths", i, "batch")},
			[]trnn.Value{v("probs", f, "batch", 2), v("step_probs", f, "batch", "time", 2)}, false, "batchable x=0 lengths=1 pad=false time=[false false]"},
		{"stateful", []trnn.Value{v("x", f, "batch", "time", 3), v("lengths", i, "batch"), v("h_in_0", f, "batch", 8), v("c_in_0", f, "batch", 8)},
			[]trnn.Value{v("probs", f, "batch", 2), v("h_out_0", f, "batch", 8), v("c_out_0", f, "batch", 8)}, true, "batchable x=0 lengths=1 pad=true time=[false false false]"},
		{"exported by PyTorch", []trnn.Value{v("x", f, "batch", "time", 6), v("lengths", i64, "batch")},
			[]trnn.Value{v("probs", f, "Softmaxprobs_dim_0", 5), v("class", i64, "ArgMaxclass_dim_0")}, false, "batchable x=0 lengths=1 pad=false time=[false false]"},
		{"an output over another symbol", []trnn.Value{v("x", f, "batch", "time", 3), v("lengths", i, "batch")},
			[]trnn.Value{v("y", f, "batch", "Transposey_dim_1", 2)}, true, "batchable x=0 lengths=1 pad=false time=[false]"},
		{"no lengths", []trnn.Value{v("x", f, "N", "T", 5)}, []trnn.Value{v("y", f, "N", 3)}, true, "batchable x=0 lengths=-1 pad=false time=[false]"},
		{"time shared", []trnn.Value{v("x", f, "N", "T", 5), v("mask", f, "N", "T"), v("l", i, "N")},
			[]trnn.Value{v("y", f, "N", "T")}, true, "batchable x=0 lengths=2 pad=false time=[false]"},
		{"rows", []trnn.Value{v("a", f, "n", 4)}, []trnn.Value{v("b", f, "n", 1)}, false, "batchable x=-1 lengths=-1 pad=false time=[false]"},
		{"unknown output dimensions", []trnn.Value{v("x", f, "N", "T", 5)}, []trnn.Value{v("y", f, "?", "?")}, false, "batchable x=0 lengths=-1 pad=false time=[false]"},
		{"time major", []trnn.Value{v("x", f, "T", "N", 5), v("l", i, "N")}, []trnn.Value{v("y", f, "N", 3)}, false, "not batchable"},
		{"state first", []trnn.Value{v("x", f, "N", "T", 5), v("h0", f, 2, "N", 8)}, []trnn.Value{v("y", f, "N", 3)}, false, "not batchable"},
		{"fixed batch", []trnn.Value{v("x", f, 1, "T", 5)}, []trnn.Value{v("y", f, 1, 3)}, false, "not batchable"},
		{"fixed output rows", []trnn.Value{v("x", f, "N", "T", 5)}, []trnn.Value{v("y", f, 8, 3)}, false, "not batchable"},
		{"batch twice", []trnn.Value{v("x", f, "N", "N")}, []trnn.Value{v("y", f, "N")}, false, "not batchable"},
		{"unknown rank", []trnn.Value{{Name: "x", DType: f}}, []trnn.Value{v("y", f, "N")}, false, "not batchable"},
		{"unknown output rank", []trnn.Value{v("x", f, "N", 3)}, []trnn.Value{{Name: "y", DType: f}}, false, "not batchable"},
	} {
		l := planLayout(c.inputs, c.outputs, c.written)
		got := "not batchable"
		if l.batchable {
			got = fmt.Sprintf("batchable x=%d lengths=%d pad=%v time=%v", l.x, l.lengths, l.pad, l.timeOut)
		}
		if got != c.want {
			t.Errorf("%s: %s, expected %s", c.name, got, c.want)
		}
	}
}

// TestUnbatchedModel: a model with a fixed batch of 1 is not batchable and
// runs each request as it comes.
func TestUnbatchedModel(t *testing.T) {
	sess := onnxModel(t, "lstm_classifier", func(m *onnxpb.ModelProto) {
		setDims(m.Graph.Input[0], 1, "T", 5)
		setDims(m.Graph.Input[1], 1)
		setDims(m.Graph.Output[0], 1, 3)
	})
	srv, url := newServer(t, map[string]*trnn.Session{"m": sess}, Options{})
	if m := srv.models["m"]; m.layout.batchable || m.batch != nil {
		t.Fatal("a model with a fixed batch is batched")
	}
	x, lens, T := randomRows(rand.New(rand.NewPCG(1, 2)), 1, 6, 5)
	lens[0] = T
	status, b := do(t, "POST", url+"/v2/models/m/infer", seqRequest("input", "seq_lens", x, lens, T, 5))
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	checkAgainstRun(t, sess, map[string]*trnn.Tensor{
		"input":    {DType: trnn.Float32, Shape: []int{1, T, 5}, F32: x},
		"seq_lens": {DType: trnn.Int32, Shape: []int{1}, I32: []int32{int32(T)}},
	}, b)
	status, b = do(t, "POST", url+"/v2/models/m/infer", seqRequest("input", "seq_lens", append(x, x...), []int{T, T}, T, 5))
	if status != 400 || !strings.Contains(string(b), `dimension 0 is 2, the model takes 1`) {
		t.Fatalf("two rows: %d %s", status, b)
	}
}

// TestProbeRefusesRowMixing: a model whose output mixes rows (a softmax
// over the batch) is not batched: the probe finds that a row's answer
// changes with its batch. It answers each request with Session.Run as it
// is, and says so in the log.
func TestProbeRefusesRowMixing(t *testing.T) {
	sess := onnxModel(t, "lstm_classifier", func(m *onnxpb.ModelProto) {
		g := m.Graph
		last := g.Node[len(g.Node)-1]
		last.Output = []string{"sigmoid"}
		g.Node = append(g.Node, &onnxpb.NodeProto{
			OpType: proto.String("Softmax"), Input: []string{"sigmoid"}, Output: []string{"output"},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("axis"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(0)}},
		})
	})
	var log bytes.Buffer
	srv, url := newServer(t, map[string]*trnn.Session{"m": sess}, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if m := srv.models["m"]; m.batch != nil || !m.unbatched.Load() {
		t.Fatal("a model mixing rows is batched")
	}
	if !strings.Contains(log.String(), `msg="model not batched" model=m reason="output \"output\" of a row differs in a batch from the row alone"`) {
		t.Errorf("log:\n%s", log.String())
	}
	x, lens, T := randomRows(rand.New(rand.NewPCG(4, 4)), 3, 6, 5)
	status, b := do(t, "POST", url+"/v2/models/m/infer", seqRequest("input", "seq_lens", x, lens, T, 5))
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	l := make([]int32, len(lens))
	for i, n := range lens {
		l[i] = int32(n)
	}
	want, err := sess.Run(map[string]*trnn.Tensor{
		"input":    {DType: trnn.Float32, Shape: []int{3, T, 5}, F32: x},
		"seq_lens": {DType: trnn.Int32, Shape: []int{3}, I32: l},
	})
	if err != nil {
		t.Fatal(err)
	}
	var resp responseJSON
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	for i, v := range resp.Outputs[0].Data {
		if float32(v) != want["output"].F32[i] {
			t.Fatalf("output[%d] = %v, Run gives %v", i, v, want["output"].F32[i])
		}
	}
}

// TestBatchPadding: a padded batch takes a call only while padding keeps
// it within twice its steps (above padFloor); a call that does not fit
// waits for the next batch, which it starts.
func TestBatchPadding(t *testing.T) {
	b := &batcher{m: &model{layout: layout{pad: true}}, maxBatch: 64}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	mk := func(rows, T int) *call { return &call{rows: rows, T: T, arrived: time.Now()} }
	var f forming
	b.start(&f, mk(1, 2000), timer)
	b.add(&f, mk(4, 1500))  // 5 rows × 2000 = 10000 padded steps: under the floor
	b.add(&f, mk(8, 100))   // 13 × 2000 = 26000 > 2 × (8000 + 800)
	b.add(&f, mk(2, 1900))  // 7 × 2000 = 14000
	b.add(&f, mk(50, 1000)) // 57 × 2000 = 114000 ≤ 2 × 61800
	if len(f.batch) != 4 || f.rows != 57 || len(f.held) != 1 || f.held[0].T != 100 {
		t.Fatalf("batch of %d calls, %d rows; %d held", len(f.batch), f.rows, len(f.held))
	}
	b.add(&f, mk(8, 2000)) // past maxBatch: full
	if !f.full || len(f.held) != 2 {
		t.Fatalf("full %v, %d held", f.full, len(f.held))
	}
}
