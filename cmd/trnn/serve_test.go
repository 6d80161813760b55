package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// servedModel copies testdata's LSTM classifier (inputs input [N, T, 5]
// and seq_lens [N], output output [N, 3]) to a temporary folder as
// NAME.onnx and returns its path.
func servedModel(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveRequest is a one-row request for the served model, of steps steps.
func serveRequest(steps int) string {
	x := make([]string, steps*5)
	for i := range x {
		x[i] = fmt.Sprint(float32(i%7) / 7)
	}
	return fmt.Sprintf(`{"inputs": [{"name": "input", "shape": [1, %d, 5], "datatype": "FP32", "data": [%s]},
		{"name": "seq_lens", "shape": [1], "datatype": "INT32", "data": [%d]}]}`, steps, strings.Join(x, ","), steps)
}

// startServe runs trnn serve in a child process (on 127.0.0.1:0 unless
// args set --addr) and returns it with its address, read from its
// "listening" log line, and the log lines to come, each as a map of its
// fields (logs in JSON or text).
func startServe(t *testing.T, args ...string) (*exec.Cmd, string, <-chan map[string]any) {
	t.Helper()
	if !slices.Contains(args, "--addr") {
		args = append([]string{"--addr", "127.0.0.1:0"}, args...)
	}
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "TRNN_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	logs := make(chan map[string]any, 1000)
	go func() {
		defer close(logs)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- logFields(sc.Text())
		}
	}()
	for {
		select {
		case rec, ok := <-logs:
			if !ok {
				t.Fatal("trnn serve exited before listening")
			}
			if rec["msg"] == "listening" {
				return cmd, "http://" + fmt.Sprint(rec["addr"]), logs
			}
		case <-time.After(time.Minute):
			t.Fatal("trnn serve did not start listening")
		}
	}
}

// logFields reads a log line of slog's JSON or text handler; "line" holds
// the line as it is.
func logFields(line string) map[string]any {
	var rec map[string]any
	if json.Unmarshal([]byte(line), &rec) == nil {
		rec["line"] = line
		return rec
	}
	rec = map[string]any{"format": "text", "line": line}
	for _, m := range regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`).FindAllStringSubmatch(line, -1) {
		v := m[2]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		rec[m[1]] = v
	}
	return rec
}

// postAsync posts body to url in the background and sends the status,
// with the time it took, on the returned channel.
func postAsync(url, body string) <-chan [2]int64 {
	out := make(chan [2]int64, 1)
	go func() {
		start := time.Now()
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		status := int64(-1)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status = int64(resp.StatusCode)
		}
		out <- [2]int64{status, int64(time.Since(start))}
	}()
	return out
}

// waitInFlight waits until the server has n infer requests in flight.
func waitInFlight(t *testing.T, url string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(metricsText(t, url), fmt.Sprintf("trnn_serve_in_flight_requests %d\n", n)) {
		if time.Now().After(deadline) {
			t.Fatalf("never %d requests in flight", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeDrainsOnSIGTERM sends requests that wait in a batch (which will
// not fill within --max-delay), then SIGTERM: the server stops taking
// connections, answers every request in flight, logs that it stopped, and
// exits 0.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	cmd, url, logs := startServe(t, servedModel(t, "clf"), "--max-delay", "2s", "--max-batch", "64")
	const n = 4
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := http.Post(url+"/v2/models/clf/infer", "application/json", strings.NewReader(serveRequest(3+i)))
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if statuses[i] = resp.StatusCode; resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"output"`) {
				t.Errorf("request %d: %d %s", i, resp.StatusCode, b)
			}
		})
	}
	waitInFlight(t, url, n)
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The listener closes at once; the requests are still waiting.
	for {
		if _, err := http.Get(url + "/v2/health/live"); err != nil {
			break
		}
		if time.Since(signalled) > time.Second {
			t.Fatal("still taking connections a second after SIGTERM")
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	// Read the log to its end before Wait, which closes the pipe and
	// would lose lines the reader has not reached yet.
	var msgs []string
	for rec := range logs {
		msgs = append(msgs, fmt.Sprint(rec["msg"]))
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("trnn serve after SIGTERM: %v", err)
	}
	if got := strings.Join(msgs, ", "); got != "draining, stopped" {
		t.Errorf("log after listening: %s, expected draining, stopped", got)
	}
	t.Logf("statuses %v, exit 0 %v after SIGTERM", statuses, time.Since(signalled).Round(time.Millisecond))
}

// metricsText returns GET /metrics.
func metricsText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestServeRefuses: bad command lines are usage errors (status 2), models
// that cannot be loaded errors (status 1), before anything listens.
func TestServeRefuses(t *testing.T) {
	model := servedModel(t, "clf")
	other := filepath.Join(t.TempDir(), "clf.onnx")
	if err := os.WriteFile(other, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		status int
		err    string
	}{
		{[]string{"serve"}, 2, "trnn serve: expected one or more model files"},
		{[]string{"serve", model, "--max-batch", "0"}, 2, "trnn serve: --max-batch: expected a positive integer, found 0"},
		{[]string{"serve", model, "--max-delay", "-1ms"}, 2, "trnn serve: --max-delay: expected a duration of 0 or more, found -1ms"},
		{[]string{"serve", model, "--max-in-flight", "-3"}, 2, "--max-in-flight: expected a positive integer, found -3"},
		{[]string{"serve", model, "--log-level", "loud"}, 2, "--log-level: expected debug, info, warn or error, found loud"},
		{[]string{"serve", model, other}, 2, `would both be served as model "clf"`},
		{[]string{"serve", other}, 1, other + ": "},
		{[]string{"serve", filepath.Join(t.TempDir(), "missing.onnx")}, 1, "missing.onnx"},
		{[]string{"serve", model, "--addr", "256.0.0.1:99999"}, 1, "trnn serve: listen tcp"},
	} {
		status, _, errs := trnnCmd(t, c.args...)
		if status != c.status || !strings.Contains(errs, c.err) {
			t.Errorf("%q: status %d, %q; expected %d with %q", c.args, status, errs, c.status, c.err)
		}
	}
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestServeBatchFlags: the server listens on --addr; --max-batch 2 runs
// three concurrent one-row requests (of as many steps: this model is not
// padded) as a batch of 2 and a batch of 1, whose request waits
// --max-delay for company; --log-format text and --log-level
// debug log every request in text.
func TestServeBatchFlags(t *testing.T) {
	port := freePort(t)
	_, url, logs := startServe(t, servedModel(t, "clf"), "--addr", "127.0.0.1:"+port,
		"--max-batch", "2", "--max-delay", "400ms", "--log-format", "text", "--log-level", "debug")
	if url != "http://127.0.0.1:"+port {
		t.Fatalf("listening on %s, expected port %s", url, port)
	}
	var answers []<-chan [2]int64
	for range 3 {
		answers = append(answers, postAsync(url+"/v2/models/clf/infer", serveRequest(3)))
	}
	var slowest time.Duration
	for _, a := range answers {
		r := <-a
		if r[0] != 200 {
			t.Fatalf("status %d", r[0])
		}
		slowest = max(slowest, time.Duration(r[1]))
	}
	if slowest < 400*time.Millisecond {
		t.Errorf("the request batched alone took %v, less than --max-delay 400ms", slowest)
	}
	m := metricsText(t, url)
	if !strings.Contains(m, `trnn_serve_batch_rows_count{model="clf"} 2`) || !strings.Contains(m, `trnn_serve_batch_rows_sum{model="clf"} 3`) {
		t.Errorf("expected 3 rows in 2 batches:\n%s", grepLines(m, "trnn_serve_batch_rows_"))
	}
	infers := 0
	for infers < 3 {
		select {
		case rec := <-logs:
			if rec["msg"] == "infer" && rec["format"] == "text" && rec["status"] == "200" && rec["model"] == "clf" {
				infers++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d infer lines in the text log, expected 3", infers)
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeLimitFlags: --max-body, --max-rows and --max-in-flight turn
// requests away with 413, 413 and 429.
func TestServeLimitFlags(t *testing.T) {
	_, url, _ := startServe(t, servedModel(t, "clf"), "--max-body", "3000", "--max-rows", "2", "--max-in-flight", "1", "--max-delay", "2s")
	infer := url + "/v2/models/clf/infer"
	check := func(what, body string, status int, msg string) {
		t.Helper()
		resp, err := http.Post(infer, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status || !strings.Contains(string(b), msg) {
			t.Errorf("%s: %d %s, expected %d with %s", what, resp.StatusCode, b, status, msg)
		}
	}
	check("a body of 3001 bytes", strings.Repeat(" ", 3001), 413, "over the limit of 3000 bytes")
	three := `{"inputs": [{"name": "input", "shape": [3, 1, 5], "datatype": "FP32", "data": [` + strings.Repeat("0,", 14) + `0]},
		{"name": "seq_lens", "shape": [3], "datatype": "INT32", "data": [1, 1, 1]}]}`
	check("3 rows", three, 413, `3 rows, over the limit of 2 rows per request`)
	first := postAsync(infer, serveRequest(2))
	waitInFlight(t, url, 1)
	check("a second request in flight", serveRequest(2), 429, "too many requests in flight (the limit is 1)")
	if r := <-first; r[0] != 200 {
		t.Errorf("the first request: %d", r[0])
	}
}

// TestServeDrainTimeout: requests still in flight --drain-timeout after
// SIGTERM make the exit status 1, with a message saying so.
func TestServeDrainTimeout(t *testing.T) {
	cmd, url, logs := startServe(t, servedModel(t, "clf"), "--max-delay", "20s", "--drain-timeout", "300ms")
	postAsync(url+"/v2/models/clf/infer", serveRequest(2))
	waitInFlight(t, url, 1)
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rec := range logs {
		lines = append(lines, fmt.Sprint(rec["line"]))
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit after the drain timeout: %v, expected status 1", err)
	}
	if d := time.Since(signalled); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("exited %v after SIGTERM, expected just over --drain-timeout 300ms", d)
	}
	if !slices.ContainsFunc(lines, func(l string) bool {
		return strings.Contains(l, "requests still in flight after --drain-timeout 300ms")
	}) {
		t.Errorf("no message about the drain timeout in %q", lines)
	}
}
