package trnn_test

import (
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/graph"
)

// runInputs pads seqs into Run's inputs x [B, T, F] and lengths [B] under
// the given names.
func runInputs(seqs [][][]float32, F int, xName, lName string) map[string]*trnn.Tensor {
	T := 1
	for _, s := range seqs {
		T = max(T, len(s))
	}
	x := graph.NewTensor(graph.Float32, len(seqs), T, F)
	l := graph.NewTensor(graph.Int32, len(seqs))
	for b, s := range seqs {
		l.I32[b] = int32(len(s))
		for t, step := range s {
			copy(x.F32[(b*T+t)*F:], step)
		}
	}
	return map[string]*trnn.Tensor{xName: x, lName: l}
}

// TestRunSteadyStateAllocations: once warmed up, Session.Run allocates
// nothing per row, per step or per node: a call of one row of 3 steps, one
// of 48 steps and 256 rows of up to 48 steps make only their result, the
// map (2 allocations) and the output tensor (3: the tensor, its shape and
// its data), which the caller keeps.
func TestRunSteadyStateAllocations(t *testing.T) {
	if raceOn {
		t.Skip("the race detector makes sync.Pool drop the interpreter's states")
	}
	for _, c := range []struct {
		name, model  string
		F            int
		xName, lName string
		most         float64
	}{
		{"trnn model", trnnModel(t, false), 4, "x", "lengths", 5},
		{"external LSTM", externalPath("lstm_classifier", ".onnx"), 5, "input", "seq_lens", 5},
	} {
		s, err := trnn.Load(c.model)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(8, 8))
		for _, shape := range [][2]int{{1, 3}, {1, 48}, {256, 48}} {
			B, T := shape[0], shape[1]
			seqs := randomSeqs(rng, B, T, c.F)
			seqs[0] = randomSeqs(rand.New(rand.NewPCG(1, uint64(T))), 1, T, c.F)[0][:0]
			for len(seqs[0]) < T {
				seqs[0] = append(seqs[0], make([]float32, c.F))
			}
			in := runInputs(seqs, c.F, c.xName, c.lName)
			run := func() {
				if _, err := s.Run(in); err != nil {
					t.Fatal(err)
				}
			}
			run()
			run()
			if n := testing.AllocsPerRun(50, run); n > c.most {
				t.Errorf("%s, %d rows of up to %d steps: Run allocates %v times, at most %v expected", c.name, B, T, n, c.most)
			}
		}
	}
}

// TestStreamPushSteadyStateAllocations: once warmed up, a Push of one step
// allocates the probabilities it returns and the slice of the next
// state's rows, nothing per node: most is today's count, so that a new
// allocation shows up here.
func TestStreamPushSteadyStateAllocations(t *testing.T) {
	if raceOn {
		t.Skip("the race detector makes sync.Pool drop the interpreter's states")
	}
	for _, c := range []struct {
		model string
		most  float64
	}{
		{trnnModel(t, false), 2},
		{statefulModel(t), 2},
	} {
		s, err := trnn.Load(c.model)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.NewStream()
		if err != nil {
			t.Fatal(err)
		}
		step := [][]float32{{0.5, -1, 2, 0.25}}
		push := func() {
			if _, err := st.Push(step); err != nil {
				t.Fatal(err)
			}
		}
		push()
		push()
		if n := testing.AllocsPerRun(50, push); n > c.most {
			t.Errorf("%s: a Push of one step allocates %v times, at most %v expected", filepath.Base(c.model), n, c.most)
		}
	}
}

// TestPredictSteadyStateAllocations: once warmed up, Predict of one
// sequence allocates its result only (the slice of rows and the row), and
// of 256 sequences one row each and a few for the batch plan: its inputs,
// the interpreter's output and the plan of one sequence are reused.
func TestPredictSteadyStateAllocations(t *testing.T) {
	if raceOn {
		t.Skip("the race detector makes sync.Pool drop the buffers")
	}
	s, err := trnn.Load(trnnModel(t, false))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	for _, c := range []struct {
		B    int
		most float64
	}{{1, 2}, {256, 256 + 1 + 8}} {
		seqs := randomSeqs(rng, c.B, 48, 4)
		predict := func() {
			if _, err := s.Predict(seqs); err != nil {
				t.Fatal(err)
			}
		}
		predict()
		predict()
		if n := testing.AllocsPerRun(20, predict); n > c.most {
			t.Errorf("%d rows: Predict allocates %v times, at most %v expected", c.B, n, c.most)
		}
	}
}

// TestPredictReusedBuffersKeepResults: Predict and PredictSteps calls of
// other batch sizes and lengths in between, which reuse each other's input
// and output buffers, change no result: each call gives what it gives on
// a fresh session.
func TestPredictReusedBuffersKeepResults(t *testing.T) {
	path := trnnModel(t, false)
	s, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i, seqs := range [][][][]float32{randomSeqs(rng, 3, 48, 4), randomSeqs(rng, 1, 5, 4), randomSeqs(rng, 2, 30, 4), randomSeqs(rng, 1, 48, 4)} {
		fresh, err := trnn.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.Predict(seqs)
		if err != nil {
			t.Fatal(err)
		}
		wantSteps, err := fresh.PredictSteps(seqs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Predict(seqs)
		if err != nil {
			t.Fatal(err)
		}
		gotSteps, err := s.PredictSteps(seqs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotSteps, wantSteps) {
			t.Errorf("call %d: Predict %v, PredictSteps %v; on a fresh session %v, %v", i, got, gotSteps, want, wantSteps)
		}
	}
}
