package trnn_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/runtime"
)

// streamTol is the largest difference accepted between a stream's
// probabilities and Predict's on the whole prefix.
const streamTol = 1e-6

// statefulModel writes trnnModel's network as the stateful model.
func statefulModel(t testing.TB) string {
	t.Helper()
	prog := stepsProgram(t)
	path := filepath.Join(t.TempDir(), "step.onnx")
	if err := runtime.WriteModelFile(path, prog, export.Options{Stateful: true}); err != nil {
		t.Fatal(err)
	}
	return path
}

// pushInChunks pushes seq into a new stream in random chunks of 1..maxChunk
// steps and returns the stream's probabilities at every chunk end.
func pushInChunks(t *testing.T, s *trnn.Session, seq [][]float32, maxChunk int, rng *rand.Rand) (ends []int, probs [][]float32) {
	t.Helper()
	st, err := s.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	for pos := 0; pos < len(seq); {
		next := min(len(seq), pos+1+rng.IntN(maxChunk))
		p, err := st.Push(seq[pos:next])
		if err != nil {
			t.Fatal(err)
		}
		pos = next
		ends, probs = append(ends, pos), append(probs, p)
	}
	if st.Steps() != int64(len(seq)) {
		t.Errorf("Steps() = %d after %d steps", st.Steps(), len(seq))
	}
	return ends, probs
}

// TestStreamMatchesPredict: a stream gives at every chunk end what Predict
// gives for the whole prefix, for a model trnn exported (rebuilt with its
// state), one with step_probs, and the stateful model itself.
func TestStreamMatchesPredict(t *testing.T) {
	for _, c := range []struct{ name, path string }{
		{"plain", trnnModel(t, false)},
		{"step_probs", trnnModel(t, true)},
		{"stateful", statefulModel(t)},
	} {
		s, err := trnn.Load(c.path)
		if err != nil {
			t.Fatal(err)
		}
		// Predict cannot run the stateful model: the reference is the same
		// network without state.
		ref := s
		if c.name == "stateful" {
			ref = mustLoadStateless(t, c.path)
		}
		rng := rand.New(rand.NewPCG(8, 9))
		worst := 0.0
		for i, seq := range randomSeqs(rng, 12, 60, 4) {
			if len(seq) == 0 {
				continue
			}
			ends, got := pushInChunks(t, s, seq, []int{1, 2, 7, 60}[i%4], rng)
			prefixes := make([][][]float32, len(ends))
			for j, e := range ends {
				prefixes[j] = seq[:e]
			}
			want, err := ref.Predict(prefixes)
			if err != nil {
				t.Fatal(err)
			}
			for j := range ends {
				for k, v := range got[j] {
					d := math.Abs(float64(v - want[j][k]))
					if !(d <= streamTol) {
						t.Fatalf("%s: sequence %d after %d steps, label %d: stream %v, Predict %v", c.name, i, ends[j], k, v, want[j][k])
					}
					worst = max(worst, d)
				}
			}
		}
		t.Logf("%s: max |stream − Predict| = %.2g", c.name, worst)
	}
}

// mustLoadStateless loads the network a stateful model was written from,
// exported without state (statefulModel's spec and initialisation).
func mustLoadStateless(t *testing.T, stateful string) *trnn.Session {
	t.Helper()
	prog := stepsProgram(t)
	path := filepath.Join(filepath.Dir(stateful), "plain.onnx")
	if err := runtime.WriteModelFile(path, prog, export.Options{}); err != nil {
		t.Fatal(err)
	}
	s, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStreamStateRoundTrip: a state saved by MarshalBinary and restored
// into a new stream, even of another Session of the same weights (the
// stateful file and the model it was exported beside), continues the
// sequence bit for bit.
func TestStreamStateRoundTrip(t *testing.T) {
	stateful := statefulModel(t)
	a, err := trnn.Load(stateful)
	if err != nil {
		t.Fatal(err)
	}
	b := mustLoadStateless(t, stateful)
	seq := randomSeqs(rand.New(rand.NewPCG(1, 1)), 1, 0, 4)[0]
	for range 30 {
		seq = append(seq, []float32{0.3, -1, 0.5, 2})
		seq = append(seq, randomSeqs(rand.New(rand.NewPCG(uint64(len(seq)), 2)), 1, 3, 4)[0]...)
	}
	first, err := a.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Push(nil); err == nil {
		t.Error("Push(nil) at the beginning of a sequence: no error")
	}
	fresh, err := first.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	half, err := first.Push(seq[:20])
	if err != nil {
		t.Fatal(err)
	}
	if again, err := first.Push(nil); err != nil || !slices.Equal(again, half) {
		t.Errorf("Push(nil) = %v, %v; want the last probabilities %v", again, err, half)
	}
	saved, err := first.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want, err := first.Push(seq[20:])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*trnn.Session{a, b} {
		second, err := s.NewStream()
		if err != nil {
			t.Fatal(err)
		}
		if err := second.UnmarshalBinary(saved); err != nil {
			t.Fatal(err)
		}
		if second.Steps() != 20 {
			t.Errorf("restored Steps() = %d, want 20", second.Steps())
		}
		if got, err := second.Push(nil); err != nil || !slices.Equal(got, half) {
			t.Errorf("restored Push(nil) = %v, %v; want %v", got, err, half)
		}
		got, err := second.Push(seq[20:])
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("restored stream: %v, %v; want %v bit for bit", got, err, want)
		}
		// The state of a new stream takes it back to the beginning.
		if err := second.UnmarshalBinary(fresh); err != nil || second.Steps() != 0 {
			t.Errorf("restoring a new stream's state: %v, Steps() %d", err, second.Steps())
		}
		second.Reset()
		if got, err := second.Push(seq); err != nil || !slices.Equal(got, want) {
			t.Errorf("after Reset, the whole sequence: %v, %v; want %v", got, err, want)
		}
	}
}

// TestStreamStateRefusesBadBytes: bytes that are not a state of this model
// are an error, never a panic, and leave the stream as it was.
func TestStreamStateRefusesBadBytes(t *testing.T) {
	s, err := trnn.Load(trnnModel(t, false))
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	seq := randomSeqs(rand.New(rand.NewPCG(4, 4)), 1, 0, 4)[0]
	seq = append(seq, []float32{1, 2, 3, 4}, []float32{-1, 0, 1, 0})
	probs, err := st.Push(seq)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := st.MarshalBinary()
	check := func(what string, b []byte, want string) {
		t.Helper()
		err := st.UnmarshalBinary(b)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", what, err, want)
		}
		if got, err := st.Push(nil); err != nil || !slices.Equal(got, probs) || st.Steps() != int64(len(seq)) {
			t.Fatalf("%s: the refused state changed the stream: %v, %v, %d steps", what, got, err, st.Steps())
		}
	}
	for i := range good {
		b := slices.Clone(good)
		b[i] ^= 0x10
		check(fmt.Sprintf("byte %d flipped", i), b, "stream state")
	}
	for n := range len(good) {
		check(fmt.Sprintf("cut to %d bytes", n), good[:n], "stream state")
	}
	check("a byte more", append(slices.Clone(good), 0), "checksum")
	// Well-formed bytes with the checksum fixed up: the checks behind it.
	resum := func(b []byte) []byte {
		body := b[:len(b)-4]
		return binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.ChecksumIEEE(body))
	}
	v2 := slices.Clone(good)
	v2[8] = 2
	check("version 2", resum(v2), "format version 2, expected 1")
	nan := slices.Clone(good)
	binary.LittleEndian.PutUint32(nan[len(nan)-8:], math.Float32bits(float32(math.NaN())))
	check("a NaN state", resum(nan), "expected finite values")
	fp := slices.Clone(good)
	fp[10] ^= 1
	check("another model's state", resum(fp), "another model")

	other, err := trnn.Load(statefulModel(t))
	if err != nil {
		t.Fatal(err)
	}
	ost, err := other.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ost.Push(seq); err != nil {
		t.Fatal(err)
	}
	ob, _ := ost.MarshalBinary()
	check("a stream of other weights", ob, "another model")
}

// FuzzStreamUnmarshalBinary: no input makes UnmarshalBinary panic.
func FuzzStreamUnmarshalBinary(f *testing.F) {
	s, err := trnn.Load(statefulModel(f))
	if err != nil {
		f.Fatal(err)
	}
	st, err := s.NewStream()
	if err != nil {
		f.Fatal(err)
	}
	empty, _ := st.MarshalBinary()
	st.Push([][]float32{{1, 2, 3, 4}})
	pushed, _ := st.MarshalBinary()
	f.Add(empty)
	f.Add(pushed)
	f.Add([]byte("trnnstrm"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, _ := s.NewStream()
		if err := st.UnmarshalBinary(b); err == nil {
			if _, err := st.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestStreamErrors: what a stream refuses, and how it says so.
func TestStreamErrors(t *testing.T) {
	path := externalPath("lstm_classifier", ".onnx")
	other, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.NewStream(); err == nil || !strings.Contains(err.Error(), "NewStream needs a stateful model") {
		t.Errorf("a model that is not trnn's: %v", err)
	}
	s, err := trnn.Load(trnnModel(t, false))
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Push([][]float32{{1, 2, 3, 4}, {1, 2, 3, 4}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Push([][]float32{{1, 2, 3}}); err == nil || !strings.Contains(err.Error(), "step 2 has 3 features, the model expects 4") {
		t.Errorf("3 features: %v", err)
	}
	var in *trnn.NonFiniteInputError
	if _, err := st.Push([][]float32{{1, 2, 3, 4}, {1, float32(math.Inf(1)), 3, 4}}); !errors.As(err, &in) || in.Step != 3 || in.Feature != 1 {
		t.Errorf("+Inf at step 3: %v", err)
	}
	if st.Steps() != 2 {
		t.Errorf("refused pushes changed the stream: %d steps, want 2", st.Steps())
	}
	if _, err := s.Predict([][][]float32{{{1, 2, 3, 4}}}); err != nil {
		t.Errorf("Predict after NewStream: %v", err)
	}
	sf, err := trnn.Load(statefulModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sf.Predict([][][]float32{{{1, 2, 3, 4}}}); err == nil {
		t.Error("Predict on the stateful model: no error, want one pointing to Run")
	}
}

// ExampleSession_NewStream scores a sequence as its steps arrive, saving
// the stream's state between arrivals as a service would.
func ExampleSession_NewStream() {
	s, err := trnn.Load("model.onnx") // a model trnn exported, or its --stateful form
	if err != nil {
		log.Fatal(err)
	}
	st, err := s.NewStream()
	if err != nil {
		log.Fatal(err)
	}
	probs, err := st.Push([][]float32{{72, 120, 4}, {75, 118, 4}}) // two steps of 3 features
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after 2 steps:", probs)
	saved, _ := st.MarshalBinary() // keep it in any store

	later, _ := s.NewStream()
	if err := later.UnmarshalBinary(saved); err != nil {
		log.Fatal(err)
	}
	probs, err = later.Push([][]float32{{80, 110, 3}}) // the third step: one step's work
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after 3 steps:", probs)
}

// TestStreamStateAcrossForms: the same weights exported with and without
// step_probs share their streams' state.
func TestStreamStateAcrossForms(t *testing.T) {
	var streams []*trnn.Stream
	for _, steps := range []bool{true, false} {
		s, err := trnn.Load(trnnModel(t, steps))
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.NewStream()
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, st)
	}
	seq := randomSeqs(rand.New(rand.NewPCG(6, 6)), 1, 0, 4)[0]
	seq = append(seq, []float32{1, 0, -1, 2}, []float32{0.5, 0.5, 0.5, 0.5}, []float32{-2, 1, 0, 1})
	if _, err := streams[0].Push(seq[:2]); err != nil {
		t.Fatal(err)
	}
	saved, _ := streams[0].MarshalBinary()
	if err := streams[1].UnmarshalBinary(saved); err != nil {
		t.Fatalf("the state of the model with step_probs: %v", err)
	}
	a, errA := streams[0].Push(seq[2:])
	b, errB := streams[1].Push(seq[2:])
	if errA != nil || errB != nil || !slices.Equal(a, b) {
		t.Errorf("after the restore: %v, %v and %v, %v; want equal", a, errA, b, errB)
	}
}

// TestStreamFillState: a forward-fill state (fill_in, fill_out) starts as
// NaN, nothing observed yet, and a saved NaN fill state is accepted. The
// model is a stand-in: probs is 1 where fill_in holds a value, and
// fill_out is fill_in.
func TestStreamFillState(t *testing.T) {
	value := func(name string, elem onnxpb.TensorProto_DataType, ds ...any) *onnxpb.ValueInfoProto {
		vi := &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: &onnxpb.TensorShapeProto{}}}}}
		dims(vi, ds...)
		return vi
	}
	node := func(op string, in []string, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{Name: proto.String(out), OpType: proto.String(op), Input: in, Output: []string{out}, Attribute: attrs}
	}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("fill"),
			Input: []*onnxpb.ValueInfoProto{value("x", onnxpb.TensorProto_FLOAT, "batch", "time", 2),
				value("lengths", onnxpb.TensorProto_INT32, "batch"), value("fill_in", onnxpb.TensorProto_FLOAT, "batch", 2)},
			Output: []*onnxpb.ValueInfoProto{value("probs", onnxpb.TensorProto_FLOAT, "batch", 2), value("fill_out", onnxpb.TensorProto_FLOAT, "batch", 2)},
			Node: []*onnxpb.NodeProto{
				node("Equal", []string{"fill_in", "fill_in"}, "observed"),
				node("Cast", []string{"observed"}, "probs", &onnxpb.AttributeProto{Name: proto.String("to"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1)}),
				node("Identity", []string{"fill_in"}, "fill_out"),
			},
		},
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := trnn.LoadBytes("fill.onnx", b)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	probs, err := st.Push([][]float32{{1, 2}})
	if err != nil || !slices.Equal(probs, []float32{0, 0}) {
		t.Fatalf("Push: %v, %v; want [0 0], fill_in all NaN", probs, err)
	}
	saved, _ := st.MarshalBinary()
	if err := st.UnmarshalBinary(saved); err != nil {
		t.Errorf("a NaN fill state: %v", err)
	}
}
