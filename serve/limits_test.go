package serve

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export"
)

func TestLimits(t *testing.T) {
	sess := trnnModel(t, 3, export.Options{StepProbs: true})
	reg := prometheus.NewRegistry()
	_, url := newServer(t, map[string]*trnn.Session{"m": sess}, Options{
		MaxBodyBytes: 4096, MaxRows: 4, MaxInFlight: 1, MaxDelay: time.Second, Registry: reg,
	})
	rng := rand.New(rand.NewPCG(3, 3))
	infer := url + "/v2/models/m/infer"
	check := func(what, body string, status int, msg string) {
		t.Helper()
		got, b := do(t, "POST", infer, body)
		if got != status || !regexp.MustCompile(msg).Match(b) {
			t.Errorf("%s: %d %s, expected %d matching %s", what, got, b, status, msg)
		}
	}
	x, lens, T := randomRows(rng, 5, 3, 3)
	check("5 rows", seqRequest("x", "lengths", x, lens, T, 3), 413, `^\{"error":"input \\"x\\": 5 rows, over the limit of 4 rows per request"\}$`)
	check("a large body", `{"inputs": [`+strings.Repeat(" ", 5000)+`]}`, 413, `^\{"error":"request body over the limit of 4096 bytes"\}$`)

	// One request in flight, waiting for its batch to fill (it never will
	// within MaxDelay): the next is turned away at once.
	x, lens, T = randomRows(rng, 1, 3, 3)
	body := seqRequest("x", "lengths", x, lens, T, 3)
	first := make(chan int)
	go func() {
		status, _ := do(t, "POST", infer, body)
		first <- status
	}()
	waitFor(t, func() bool { return gauge(t, reg, "trnn_serve_in_flight_requests") == 1 })
	start := time.Now()
	check("a second request in flight", body, 429, `^\{"error":"too many requests in flight \(the limit is 1\)"\}$`)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("429 after %v: it should not wait", d)
	}
	if status := <-first; status != 200 {
		t.Errorf("the request in flight: %d", status)
	}
	check("the next request", body, 200, `"outputs"`)
	if c, _ := histogram(t, reg, "trnn_serve_request_duration_seconds"); c != 5 {
		t.Errorf("%d requests in the latency histogram, expected 5", c)
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gauge returns a gauge's value in reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}
