package trnn_test

// Speed of the corpus against ONNX Runtime: each model on a batch of 64
// rows, through Session.Run and through ONNX Runtime (on one thread; -cpu 1
// holds trnn to one too), in one sitting:
//
//	TRNN_ORT_LIB=... go test -run '^$' -bench Corpus -benchtime 2s -cpu 1 .
//
// A model whose batch is fixed runs on its own batch size as many times as
// 64 rows take. Before timing, both runtimes' answers on the batch must
// agree.

import (
	"fmt"
	"os"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
)

// benchRows is the batch size the corpus is timed on.
const benchRows = 64

func BenchmarkCorpus(b *testing.B) {
	ortcheck.Require(b)
	for _, m := range loadCorpus(b) {
		s, err := trnn.Load(m.path)
		if err != nil {
			b.Fatal(err)
		}
		feed, calls := benchBatch(s, m.inputs)
		ort := openORT(b, s, m.path)
		checkAgainstORT(b, m.name, s, ort, feed)
		b.Run(m.name+"/trnn", func(b *testing.B) {
			for b.Loop() {
				for range calls {
					if _, err := s.Run(feed); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(m.name+"/onnxruntime", func(b *testing.B) {
			for b.Loop() {
				for range calls {
					if _, err := ort.Run(feed); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		ort.Close()
	}
}

// openORT loads the model in ONNX Runtime with the session's input and
// output names.
func openORT(b *testing.B, s *trnn.Session, path string) *ortcheck.Session {
	model, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var in, out []string
	for _, v := range s.Inputs() {
		in = append(in, v.Name)
	}
	for _, v := range s.Outputs() {
		out = append(out, v.Name)
	}
	ort, err := ortcheck.Open(model, in, out)
	if err != nil {
		b.Fatal(err)
	}
	return ort
}

// checkAgainstORT fails when trnn and ONNX Runtime disagree on the batch.
func checkAgainstORT(b *testing.B, name string, s *trnn.Session, ort *ortcheck.Session, feed map[string]*graph.Tensor) {
	got, err := s.Run(feed)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	want, err := ort.Run(feed)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	var ref []namedTensor
	for _, v := range s.Outputs() {
		ref = append(ref, namedTensor{v.Name, want[v.Name]})
	}
	diff, err := corpusDiff(got, ref)
	if err == nil && diff > 1e-4 {
		err = fmt.Errorf("max |Δ| = %.3g", diff)
	}
	if err != nil {
		b.Fatalf("%s: trnn and ONNX Runtime %s disagree on a batch of %d: %v", name, ortcheck.Version(), benchRows, err)
	}
}

// benchBatch makes the inputs of a batch of benchRows rows from the
// committed ones, repeating their rows along each input's dimension named
// batch; a model with no such dimension keeps its inputs and is run
// calls times to cover benchRows rows.
func benchBatch(s *trnn.Session, inputs map[string]*graph.Tensor) (feed map[string]*graph.Tensor, calls int) {
	feed = map[string]*graph.Tensor{}
	calls = 1
	for _, v := range s.Inputs() {
		x := inputs[v.Name]
		axis := -1
		for d, dim := range v.Shape {
			if dim.Sym == graph.DimBatch {
				axis = d
			}
		}
		if axis < 0 {
			feed[v.Name] = x
			calls = max(calls, (benchRows+x.Shape[0]-1)/x.Shape[0])
			continue
		}
		feed[v.Name] = repeatRows(x, axis, benchRows)
	}
	return feed, calls
}

// repeatRows returns x with n rows along axis, row r being x's row r mod
// the rows x has.
func repeatRows(x *graph.Tensor, axis, n int) *graph.Tensor {
	shape := append([]int(nil), x.Shape...)
	rows := shape[axis]
	shape[axis] = n
	out := graph.NewTensor(x.DType, shape...)
	outer, inner := graph.Size(x.Shape[:axis]), graph.Size(x.Shape[axis+1:])
	for o := range outer {
		for r := range n {
			src, dst := (o*rows+r%rows)*inner, (o*n+r)*inner
			switch x.DType {
			case graph.Float32:
				copy(out.F32[dst:dst+inner], x.F32[src:src+inner])
			case graph.Int64:
				copy(out.I64[dst:dst+inner], x.I64[src:src+inner])
			case graph.Int32:
				copy(out.I32[dst:dst+inner], x.I32[src:src+inner])
			}
		}
	}
	return out
}
