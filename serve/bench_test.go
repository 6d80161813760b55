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

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/runtime"
)

// The server's paths, per request, for the quickstart's network (3
// features, an LSTM of 32 units, one label) and one sequence of 60 to 150
// steps per request, as bench/serve.sh sends: decoding a request, running
// it alone and merged, as Session.Run does and as the server does (in
// chunks with copies, chunk.go). With GOMAXPROCS=1 they compare work;
// docs/serving.md quotes them. BenchmarkWide does the same on the networks
// of bench/r1.yaml and bench/r2.yaml.
//
//	GOMAXPROCS=1 go test ./serve -run '^$' -bench .

// benchNet is a network and the sequences its requests hold.
type benchNet struct {
	name             string
	features, labels int
	units            []int // one LSTM layer each
	minLen, maxLen   int   // drawn steps per sequence
	sameLen          int   // the steps of every sequence with sameLength
}

// quickstartNet is the quickstart's network, as bench/serve.sh sends by
// default; r1Net and r2Net are the benchmark workloads of bench/r1.yaml and
// bench/r2.yaml, whose wider recurrent products batch better; phenoNet
// (bench/pheno.yaml) is the size of mimic3-benchmarks' phenotyping LSTM,
// whose weights (1.3 MB) do not fit a core's L2 cache.
var (
	quickstartNet = benchNet{"quickstart", 3, 1, []int{32}, 60, 150, 105}
	r1Net         = benchNet{"r1", 13, 1, []int{64, 64}, 12, 48, 48}
	r2Net         = benchNet{"r2", 13, 128, []int{128, 128}, 12, 48, 48}
	phenoNet      = benchNet{"pheno", 76, 25, []int{256}, 12, 48, 48}
	wideNet       = benchNet{"wide", 76, 25, []int{1024}, 12, 48, 48}
)

// benchModel is the quickstart's network, untrained, and 32 calls of one
// sequence each (all of 105 steps with sameLength).
func benchModel(b *testing.B, sameLength bool) (*model, []*call, []string) {
	return benchModelOf(b, quickstartNet, sameLength)
}

// benchModelOf is benchModel for network n.
func benchModelOf(b *testing.B, n benchNet, sameLength bool) (*model, []*call, []string) {
	b.Helper()
	spec := compiler.DefaultSpec()
	spec.Inputs.Features = n.features
	spec.Layers = nil
	for _, u := range n.units {
		spec.Layers = append(spec.Layers, compiler.Layer{Kind: compiler.LayerLSTM, Units: u})
	}
	spec.Outputs.Labels = n.labels
	prog, err := compiler.Compile(spec)
	if err != nil {
		b.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, prog, export.Options{}); err != nil {
		b.Fatal(err)
	}
	sess, err := trnn.LoadBytes(n.name, buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	m := newModel(n.name, sess, slog.New(slog.DiscardHandler))
	rng := rand.New(rand.NewPCG(1, 1))
	calls := make([]*call, 32)
	bodies := make([]string, 32)
	for i := range calls {
		L := n.minLen + rng.IntN(n.maxLen-n.minLen+1)
		if sameLength {
			L = n.sameLen
		}
		data := make([]string, L*n.features)
		for j := range data {
			data[j] = fmt.Sprintf("%.4f", rng.NormFloat64())
		}
		bodies[i] = fmt.Sprintf(`{"inputs":[{"name":"x","shape":[1,%d,%d],"datatype":"FP32","data":[%s]},`+
			`{"name":"lengths","shape":[1],"datatype":"INT32","data":[%d]}]}`, L, n.features, strings.Join(data, ","), L)
		var req inferRequest
		if err := json.Unmarshal([]byte(bodies[i]), &req); err != nil {
			b.Fatal(err)
		}
		if calls[i], err = m.newCall(&req, 32); err != nil {
			b.Fatal(err)
		}
	}
	return m, calls, bodies
}

// start starts the timers of a benchmark and returns the CPU time so far.
func start(b *testing.B) time.Duration {
	b.ReportAllocs()
	b.ResetTimer()
	return cpuTime()
}

// perRequest reports microseconds per request, n requests an iteration, in
// wall time and in CPU time since cpu0 (which waiting for a core on a
// shared machine does not count).
func perRequest(b *testing.B, n int, cpu0 time.Duration) {
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1e3, "us/request")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n)/1e3, "cpu-us/request")
}

// BenchmarkDecode reads and checks requests as the server does.
func BenchmarkDecode(b *testing.B) {
	m, _, bodies := benchModel(b, false)
	raw := make([][]byte, len(bodies))
	for i, s := range bodies {
		raw[i] = []byte(s)
	}
	cpu0 := start(b)
	for i := range b.N {
		var req inferRequest
		if err := decodeRequest(raw[i%32], &req); err != nil {
			b.Fatal(err)
		}
		if _, err := m.newCall(&req, 32); err != nil {
			b.Fatal(err)
		}
	}
	perRequest(b, 1, cpu0)
}

// BenchmarkDecodeStd is BenchmarkDecode with encoding/json alone.
func BenchmarkDecodeStd(b *testing.B) {
	m, _, bodies := benchModel(b, false)
	raw := make([][]byte, len(bodies))
	for i, s := range bodies {
		raw[i] = []byte(s)
	}
	cpu0 := start(b)
	for i := range b.N {
		var req inferRequest
		if err := json.Unmarshal(raw[i%32], &req); err != nil {
			b.Fatal(err)
		}
		if _, err := m.newCall(&req, 32); err != nil {
			b.Fatal(err)
		}
	}
	perRequest(b, 1, cpu0)
}

func BenchmarkRunAlone(b *testing.B) {
	m, calls, _ := benchModel(b, false)
	cpu0 := start(b)
	for i := range b.N {
		if err := m.runAlone(calls[i%32]); err != nil {
			b.Fatal(err)
		}
	}
	perRequest(b, 1, cpu0)
}

func BenchmarkRunMerged(b *testing.B) {
	m, calls, _ := benchModel(b, false)
	T := 0
	for _, c := range calls {
		T = max(T, c.T)
	}
	x, l := newTensor(trnn.Float32, []int{32, T, 3}), newTensor(trnn.Int32, []int{32})
	for i, c := range calls {
		copy(x.F32[i*T*3:], c.inputs[0].F32)
		l.I32[i] = c.inputs[1].I32[0]
	}
	cpu0 := start(b)
	for range b.N {
		if _, err := m.sess.Run(map[string]*trnn.Tensor{"x": x, "lengths": l}); err != nil {
			b.Fatal(err)
		}
	}
	perRequest(b, 32, cpu0)
}

func BenchmarkServerAlone(b *testing.B) {
	m, calls, _ := benchModel(b, false)
	cpu0 := start(b)
	for i := range b.N {
		if err := m.runMerged(calls[i%32 : i%32+1]); err != nil {
			b.Fatal(err)
		}
	}
	perRequest(b, 1, cpu0)
}

func BenchmarkServerMerged(b *testing.B) {
	for _, same := range []bool{false, true} {
		name := "distinct lengths"
		if same {
			name = "equal lengths"
		}
		b.Run(name, func(b *testing.B) {
			m, calls, _ := benchModel(b, same)
			cpu0 := start(b)
			for range b.N {
				if err := m.runMerged(calls); err != nil {
					b.Fatal(err)
				}
			}
			perRequest(b, 32, cpu0)
		})
	}
}

// BenchmarkWide is BenchmarkServerAlone and BenchmarkServerMerged on the
// wider networks of bench/r1.yaml, bench/r2.yaml and bench/pheno.yaml (12
// to 48 steps, or 48), where a batch's recurrent products have more
// columns per row.
func BenchmarkWide(b *testing.B) {
	for _, n := range []benchNet{r1Net, r2Net, phenoNet, wideNet} {
		for _, same := range []bool{false, true} {
			lengths := "/distinct lengths"
			if same {
				lengths = "/equal lengths"
			}
			b.Run(n.name+lengths+"/alone", func(b *testing.B) {
				m, calls, _ := benchModelOf(b, n, same)
				cpu0 := start(b)
				for i := range b.N {
					if err := m.runMerged(calls[i%32 : i%32+1]); err != nil {
						b.Fatal(err)
					}
				}
				perRequest(b, 1, cpu0)
			})
			b.Run(n.name+lengths+"/merged", func(b *testing.B) {
				m, calls, _ := benchModelOf(b, n, same)
				cpu0 := start(b)
				for range b.N {
					if err := m.runMerged(calls); err != nil {
						b.Fatal(err)
					}
				}
				perRequest(b, 32, cpu0)
			})
		}
	}
}
