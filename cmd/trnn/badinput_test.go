package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
)

// The bad-input suite runs the trnn command on hostile files and command
// lines, each in a child process, and checks what a user and the machine
// see: the exit status (1 for bad input, 2 for a bad command line), one
// message that names the offending file or flag, no stack trace, and a peak
// resident set (the child's rusage max RSS) under the case's bound. The
// child is this test binary running the command (see TestMain), or the
// trnn binary TRNN_BADINPUT_BIN names, so that the same cases measure
// another build. Two more variables serve such measurements:
// TRNN_BADINPUT_AS runs every child under `prlimit --as=BYTES`, and
// TRNN_BADINPUT_TIMEOUT (a Go duration) replaces the per-case timeout.
const (
	// badDefaultMiB bounds a case's peak RSS unless it says otherwise:
	// every input here is at most a few megabytes on disk, and the command
	// itself (with the Go runtime) needs a few tens.
	badDefaultMiB = 300
	// badTimeout kills a case that hangs or thrashes: the slowest case
	// takes a few seconds.
	badTimeout = 60 * time.Second
	// badParallel children run at a time: the suite runs on two-core
	// machines beside other packages' tests, and a crowded machine would
	// push slow cases towards their timeout.
	badParallel = 2
	// badCeilingMiB: a child whose RSS passes this (or four times its
	// bound, if more) is killed at once, so that a regression fails the
	// case instead of taking the machine's memory.
	badCeilingMiB = 2048
)

// badCase is one hostile input. args, and the paths in want, use the
// placeholders of badEnv.expand.
type badCase struct {
	name   string
	args   []string
	setup  func(t *testing.T, e *badEnv) // writes the case's files into e.dir
	status int                           // the exit status expected
	orOK   bool                          // exit status 0 is right too (then after decides, and want is not checked)
	want   string                        // a regexp the stderr must match; it names the file or the flag
	maxMiB int                           // peak RSS bound; 0 means badDefaultMiB
	after  func(t *testing.T, e *badEnv, r *badResult)
}

// badResult is what one child did.
type badResult struct {
	status    int // -1 when killed by a signal
	stdout    string
	stderr    string
	peakKiB   int64 // rusage max RSS
	killedKiB int64 // the RSS at which the ceiling killed the child, or 0
	elapsed   time.Duration
	timedOut  bool
}

// badFixture is shared by every case: a tiny data set in both formats, a
// spec, a run directory trained on them (model.onnx, checkpoint.trnn), and
// inputs for `trnn run`. Cases must not write into it: those that might
// (an output equal to an input) work on copies.
type badFixture struct {
	root  string // the fixture's folder
	bad   string // testdata/badinput, absolute
	spec  string
	npz   string
	csv   string
	model string
	ckpt  string
	xpb   string // x float32 [2, 5, 3]
	lenpb string // lengths int32 [2]
}

// badEnv is a case's view: the fixture and the case's own folder.
type badEnv struct {
	*badFixture
	dir string
}

const badSpec = `name: tiny
inputs: {features: 3, normalize: standard}
layers:
  - lstm: {units: 4}
outputs: {labels: 1}
training:
  optimizer: adam
  learning_rate: 0.01
  batch_size: 8
  epochs: 1
  seed: 7
  validation: {split: 0.25, monitor: auroc}
data: {train: train.npz}
`

// TestBadInput runs the bad-input suite; -v prints each case's exit status,
// peak RSS and time.
func TestBadInput(t *testing.T) {
	cases := badCases()
	if len(cases) < 60 {
		t.Fatalf("the suite has %d cases, want at least 60", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases are named %s", c.name)
		}
		seen[c.name] = true
	}
	fx := newBadFixture(t)
	results := make([]*badResult, len(cases))
	sem := make(chan struct{}, badParallel)
	t.Cleanup(func() { logBadTable(t, cases, results) })
	for i := range cases {
		c := &cases[i]
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := &badEnv{badFixture: fx, dir: t.TempDir()}
			if c.setup != nil {
				c.setup(t, e)
			}
			args := make([]string, len(c.args))
			for j, a := range c.args {
				args[j] = e.expand(a, false)
			}
			sem <- struct{}{}
			r := runBadChild(e.dir, args, badCeiling(c))
			<-sem
			results[i] = r
			checkBadResult(t, c, e, r)
		})
	}
}

// badCases lists the suite, by what the hostile input is.
func badCases() []badCase {
	var all []badCase
	for _, group := range [][]badCase{
		specCases(), specSizeCases(), npzCases(), npzBombCases(), csvCases(),
		modelCases(), onnxCases(), checkpointCases(), flagCases(), outputCases(),
	} {
		all = append(all, group...)
	}
	return all
}

func badCeiling(c *badCase) int64 {
	if as := os.Getenv("TRNN_BADINPUT_AS"); as != "" {
		return 0 // prlimit bounds the child instead, at the figure being measured
	}
	return int64(max(badCeilingMiB, 4*c.bound())) << 10
}

func (c *badCase) bound() int {
	if c.maxMiB > 0 {
		return c.maxMiB
	}
	return badDefaultMiB
}

// expand replaces the placeholders in s: {dir} (the case's folder), {fix}
// (the fixture's), {bad} (testdata/badinput), and the fixture's files
// {spec}, {npz}, {csv}, {model}, {ckpt}, {xpb}, {lenpb}. With quote, the
// paths are quoted for a regexp.
func (e *badEnv) expand(s string, quote bool) string {
	q := func(p string) string {
		if quote {
			return regexp.QuoteMeta(p)
		}
		return p
	}
	return strings.NewReplacer(
		"{dir}", q(e.dir), "{fix}", q(e.root), "{bad}", q(e.bad),
		"{spec}", q(e.spec), "{npz}", q(e.npz), "{csv}", q(e.csv), "{model}", q(e.model),
		"{ckpt}", q(e.ckpt), "{xpb}", q(e.xpb), "{lenpb}", q(e.lenpb),
	).Replace(s)
}

// newBadFixture trains the shared run in a child, with the binary under
// test, so that a TRNN_BADINPUT_BIN build reads files it wrote itself.
func newBadFixture(t *testing.T) *badFixture {
	t.Helper()
	dir := t.TempDir()
	bad, err := filepath.Abs(filepath.Join("..", "..", "testdata", "badinput"))
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	fx := &badFixture{
		root: dir, bad: bad,
		spec: filepath.Join(dir, "spec.yaml"), npz: filepath.Join(dir, "train.npz"), csv: filepath.Join(dir, "train.csv"),
		model: filepath.Join(run, "model.onnx"), ckpt: filepath.Join(run, "checkpoint.trnn"),
		xpb: filepath.Join(dir, "x.pb"), lenpb: filepath.Join(dir, "lengths.pb"),
	}
	d := data.Synth(data.SynthOptions{N: 24, MinLen: 2, MaxLen: 8, F: 3, K: 1, Seed: 5, PosRate: 0.5})
	if err := data.WriteNPZ(fx.npz, d); err != nil {
		t.Fatal(err)
	}
	if err := data.WriteCSV(fx.csv, d, data.SynthColumns(3, 1)); err != nil {
		t.Fatal(err)
	}
	writeBad(t, fx.spec, []byte(badSpec))
	x := graph.NewTensor(graph.Float32, 2, 5, 3)
	for i := range x.F32 {
		x.F32[i] = float32(math.Sin(float64(i)))
	}
	if err := export.WriteTensorFile(fx.xpb, "x", x); err != nil {
		t.Fatal(err)
	}
	lengths := &graph.Tensor{DType: graph.Int32, Shape: []int{2}, I32: []int32{5, 3}}
	if err := export.WriteTensorFile(fx.lenpb, "lengths", lengths); err != nil {
		t.Fatal(err)
	}
	r := runBadChild(dir, []string{"train", fx.spec, "-o", run, "-q"}, badCeilingMiB<<10)
	if r.status != 0 {
		t.Fatalf("training the fixture: status %d\n%s", r.status, r.stderr)
	}
	return fx
}

// runBadChild runs the trnn command with args in dir, in a child process,
// and measures it.
func runBadChild(dir string, args []string, ceilingKiB int64) *badResult {
	bin := os.Args[0]
	if b := os.Getenv("TRNN_BADINPUT_BIN"); b != "" {
		bin = b
	}
	argv := append([]string{bin}, args...)
	if as := os.Getenv("TRNN_BADINPUT_AS"); as != "" {
		argv = append([]string{"prlimit", "--as=" + as, "--"}, argv...)
	}
	timeout := badTimeout
	if d, err := time.ParseDuration(os.Getenv("TRNN_BADINPUT_TIMEOUT")); err == nil && d > 0 {
		timeout = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir // a command that writes somewhere unasked writes here, not into the repository
	cmd.Env = badChildEnv()
	var stdout, stderr cappedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	r := &badResult{}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.status, r.stderr = -1, err.Error()
		return r
	}
	var killed atomic.Int64
	stop := watchRSS(cmd.Process, ceilingKiB, &killed)
	cmd.Wait()
	stop()
	r.elapsed = time.Since(start)
	r.timedOut = ctx.Err() == context.DeadlineExceeded
	r.killedKiB = killed.Load()
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if ps := cmd.ProcessState; ps != nil {
		r.status = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.peakKiB = ru.Maxrss // kilobytes on Linux
		}
	}
	return r
}

// badChildEnv is this environment without trnn's own variables (a limit
// raised in the shell would hide a defect), plus the switch that makes the
// test binary the trnn command.
func badChildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRNN_") {
			env = append(env, kv)
		}
	}
	return append(env, "TRNN_RUN_MAIN=1")
}

// watchRSS kills p as soon as its resident set passes ceilingKiB (0: never)
// and records the size it had then. rusage reports the peak only once the
// child has exited, which would be too late to protect the machine.
func watchRSS(p *os.Process, ceilingKiB int64, killed *atomic.Int64) (stop func()) {
	if ceilingKiB <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if rss := residentKiB(p.Pid); rss > ceilingKiB {
				killed.Store(rss)
				p.Kill()
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// residentKiB reads VmRSS from /proc; 0 when it cannot.
func residentKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cappedBuffer keeps the first MiB written to it: a defect that dumps a
// whole input into a message must not cost the suite that input's memory.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 1<<20 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	// stackTrace matches what a panic or a runtime failure prints.
	stackTrace = regexp.MustCompile(`(?m)^goroutine \d+|panic:|\.go:\d+|^fatal error:`)
	// badLineMax bounds one line of a message: a path or two and a
	// sentence, never a dump of the input.
	badLineMax = 512
)

// checkBadResult checks r against c.
func checkBadResult(t *testing.T, c *badCase, e *badEnv, r *badResult) {
	t.Helper()
	t.Logf("exit %d, peak RSS %.1f MiB, %.2f s; stderr: %q", r.status, float64(r.peakKiB)/1024, r.elapsed.Seconds(), trimForLog(r.stderr))
	shown := r.stderr
	if len(shown) > 800 {
		shown = shown[:800] + "…"
	}
	switch {
	case r.timedOut:
		t.Errorf("timed out after %v (peak RSS %d MiB); stderr %q", r.elapsed.Round(time.Second), r.peakKiB>>10, shown)
	case r.killedKiB > 0:
		t.Errorf("killed at %d MiB, past the ceiling of %d MiB (bound %d MiB)", r.killedKiB>>10, badCeiling(c)>>10, c.bound())
	}
	ok0 := c.orOK && r.status == 0
	if r.status != c.status && !ok0 {
		t.Errorf("exit status %d, want %d; stderr %q", r.status, c.status, shown)
	}
	if !ok0 && c.want != "" {
		if re := regexp.MustCompile(e.expand(c.want, true)); !re.MatchString(r.stderr) {
			t.Errorf("stderr %q does not match %q", shown, e.expand(c.want, false))
		}
	}
	if stackTrace.MatchString(r.stderr) {
		t.Errorf("stderr shows a stack trace: %q", shown)
	}
	checkBadLines(t, r)
	if r.peakKiB > int64(c.bound())<<10 {
		t.Errorf("peak RSS %d MiB, over the bound of %d MiB", r.peakKiB>>10, c.bound())
	}
	if c.after != nil {
		c.after(t, e, r)
	}
}

// checkBadLines: a failure says so in one line, or in one positioned line
// per problem (a spec's errors, file:line:col: message), and no line is a
// dump.
func checkBadLines(t *testing.T, r *badResult) {
	t.Helper()
	msg := strings.TrimRight(r.stderr, "\n")
	if r.status != 0 && msg == "" {
		t.Errorf("exit status %d with nothing on stderr", r.status)
	}
	if msg == "" {
		return
	}
	lines := strings.Split(msg, "\n")
	for _, line := range lines {
		if len(lines) > 1 && !positioned.MatchString(line) {
			t.Errorf("stderr has %d lines and %q is not a positioned error", len(lines), trimForLog(line))
		}
		if len(line) > badLineMax {
			t.Errorf("a stderr line is %d bytes long (at most %d): %q", len(line), badLineMax, trimForLog(line))
		}
	}
}

func trimForLog(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// logBadTable prints each case's figures, for `go test -v -run TestBadInput`.
func logBadTable(t *testing.T, cases []badCase, results []*badResult) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\texit\tpeak RSS (MiB)\tbound (MiB)\tseconds\t")
	n := 0
	for i, r := range results {
		if r == nil {
			continue
		}
		n++
		exit := strconv.Itoa(r.status)
		switch {
		case r.timedOut:
			exit = "timeout"
		case r.killedKiB > 0:
			exit = "killed"
		case os.Getenv("TRNN_BADINPUT_AS") != "" && strings.Contains(r.stderr, "out of memory"):
			exit = "over the --as cap"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%d\t%.2f\t\n", cases[i].name, exit, float64(r.peakKiB)/1024, cases[i].bound(), r.elapsed.Seconds())
	}
	tw.Flush()
	t.Logf("bad-input suite: %d cases run\n%s", n, b.String())
}

// Fixture helpers.

func writeBad(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// randomBytes is n bytes of deterministic noise.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x6261640a))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func symlinkBad(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func fifoBad(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// unchanged checks, after the command, that file still holds the bytes it
// held before: a refused output must not have touched its input.
func unchanged(file string) (setup func(t *testing.T, e *badEnv), after func(t *testing.T, e *badEnv, r *badResult)) {
	var before []byte
	setup = func(t *testing.T, e *badEnv) {
		b, err := os.ReadFile(e.expand(file, false))
		if err != nil {
			t.Fatal(err)
		}
		before = b
	}
	after = func(t *testing.T, e *badEnv, r *badResult) {
		b, err := os.ReadFile(e.expand(file, false))
		if err != nil || !bytes.Equal(b, before) {
			t.Errorf("%s changed: %d bytes before, %d after (%v)", e.expand(file, false), len(before), len(b), err)
		}
	}
	return setup, after
}

// lineCount checks that a command that should succeed wrote want lines to
// file.
func lineCount(file string, want int) func(t *testing.T, e *badEnv, r *badResult) {
	return func(t *testing.T, e *badEnv, r *badResult) {
		b, err := os.ReadFile(e.expand(file, false))
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("\n")); n != want {
			t.Errorf("%s has %d lines, want %d", file, n, want)
		}
	}
}

// stdoutLines checks that a command that should succeed printed want
// lines.
func stdoutLines(want int) func(t *testing.T, e *badEnv, r *badResult) {
	return func(t *testing.T, e *badEnv, r *badResult) {
		if n := strings.Count(r.stdout, "\n"); n != want {
			t.Errorf("printed %d lines, want %d", n, want)
		}
	}
}

// NPY and NPZ writers, to say exactly what a hostile archive holds.

// npyBytes is an .npy file (NEP 1, version 1.0): the header for descr and
// shape, then body as given.
func npyBytes(descr string, shape []int, body []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	pad := (64 - (10+len(dict)+1)%64) % 64 // the data starts 64-byte aligned
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	b := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(len(hdr)))
	return append(append(b, hdr...), body...)
}

func f32Bytes(v ...float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func i32Bytes(v ...int32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// zipEntry is a stored entry, or with raw a Deflate stream written as is
// with the given checksum and uncompressed size (true or not).
type zipEntry struct {
	name string
	data []byte
	raw  bool
	crc  uint32
	size uint64
}

func writeZip(t *testing.T, path string, entries ...zipEntry) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		var h *zip.FileHeader
		if e.raw {
			h = &zip.FileHeader{Name: e.name, Method: zip.Deflate, CRC32: e.crc, CompressedSize64: uint64(len(e.data)), UncompressedSize64: e.size}
		} else {
			h = &zip.FileHeader{Name: e.name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(e.data), CompressedSize64: uint64(len(e.data)), UncompressedSize64: uint64(len(e.data))}
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeBad(t, path, buf.Bytes())
}

// smallNPZ is a valid archive's entries for 2 sequences of 3 steps and F
// features, with x as given (nil: zeros); cases replace entries to break it.
func smallNPZ(F int, x []byte) []zipEntry {
	if x == nil {
		x = make([]byte, 4*2*3*F)
	}
	return []zipEntry{
		{name: "x.npy", data: npyBytes("<f4", []int{2, 3, F}, x)},
		{name: "lengths.npy", data: npyBytes("<i4", []int{2}, i32Bytes(3, 2))},
		{name: "y.npy", data: npyBytes("<f4", []int{2}, f32Bytes(0, 1))},
	}
}

// deflateZeros returns a raw Deflate stream of head followed by mib MiB of
// zeros, with the CRC-32 and the length of those bytes. It compresses two
// MiB only: once the window holds nothing but zeros, the compressor emits
// the same bytes for every flushed MiB of zeros, so that block is repeated.
func deflateZeros(t *testing.T, head []byte, mib int) (stream []byte, crc uint32, size uint64) {
	t.Helper()
	zero := make([]byte, 1<<20)
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(head)
	w.Write(zero)
	w.Flush()
	first := buf.Len()
	w.Write(zero)
	w.Flush()
	second := buf.Len()
	w.Write(zero)
	w.Flush()
	out := buf.Bytes()
	block := out[first:second]
	if !bytes.Equal(block, out[second:]) {
		t.Fatal("the compressor's output for a MiB of zeros is not periodic: build the bomb another way")
	}
	w.Close() // the final block
	out = buf.Bytes()
	tail := out[second+len(block):]
	stream = append(stream, out[:first]...)
	for range mib - 1 {
		stream = append(stream, block...)
	}
	stream = append(stream, tail...)
	crc = crc32.ChecksumIEEE(head)
	for range mib {
		crc = crc32.Update(crc, crc32.IEEETable, zero)
	}
	return stream, crc, uint64(len(head)) + uint64(mib)<<20
}

// TestDeflateZeros: the bombs are valid Deflate streams of what they
// claim, so that a reader refusing them refuses for the right reason.
func TestDeflateZeros(t *testing.T) {
	head := npyBytes("<f4", []int{1, 2, 3}, nil)
	stream, crc, size := deflateZeros(t, head, 5)
	h := crc32.NewIEEE()
	n, err := io.Copy(h, flate.NewReader(bytes.NewReader(stream)))
	if err != nil || uint64(n) != size || h.Sum32() != crc {
		t.Fatalf("inflated %d bytes (%v) with checksum %08x; want %d bytes with %08x", n, err, h.Sum32(), size, crc)
	}
}

// bombNPZ writes an archive whose x.npy is a header (for descr "<f4" and
// shape) and then mib MiB of zeros, Deflate-compressed; with lieSize the
// archive's directory claims only the bytes the header needs.
func bombNPZ(t *testing.T, path string, shape []int, mib int, lieSize bool) {
	t.Helper()
	head := npyBytes("<f4", shape, nil)
	stream, crc, size := deflateZeros(t, head, mib)
	if lieSize {
		size = uint64(len(head) + 4*shape[0]*shape[1]*shape[2])
	}
	N := shape[0]
	lengths := make([]int32, N)
	for i := range lengths {
		lengths[i] = int32(shape[1])
	}
	writeZip(t, path,
		zipEntry{name: "x.npy", data: stream, raw: true, crc: crc, size: size},
		zipEntry{name: "lengths.npy", data: npyBytes("<i4", []int{N}, i32Bytes(lengths...))},
		zipEntry{name: "y.npy", data: npyBytes("<f4", []int{N}, make([]byte, 4*N))},
	)
}

// ONNX builders, from the repository's protobuf types.

func onnxValue(name string, dims ...any) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}},
	}}
}

func onnxNode(name, op string, in []string, out ...string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: in, Output: out}
}

func onnxFloats(name string, dims []int64, v ...float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: v}
}

// writeONNX writes a model of graph g at opset 17 (IR version 8).
func writeONNX(t *testing.T, path string, g *onnxpb.GraphProto) {
	t.Helper()
	g.Name = proto.String("bad")
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph:       g,
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	writeBad(t, path, b)
}

// oneFloatInput writes x.pb, float32 [1], for the models whose only input
// is x [1].
func oneFloatInput(t *testing.T, path string, v ...float32) {
	t.Helper()
	if err := export.WriteTensorFile(path, "x", graph.FromF32(v, len(v))); err != nil {
		t.Fatal(err)
	}
}

// concatBomb is a 40-node model a few kilobytes long: each Concat doubles
// a constant, so folding the constants would build 2^40 floats.
func concatBomb(t *testing.T, e *badEnv) {
	g := &onnxpb.GraphProto{
		Input:       []*onnxpb.ValueInfoProto{onnxValue("x", 1)},
		Output:      []*onnxpb.ValueInfoProto{onnxValue("y", "n")},
		Initializer: []*onnxpb.TensorProto{onnxFloats("c0", []int64{1}, 1)},
	}
	axis := &onnxpb.AttributeProto{Name: proto.String("axis"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(0)}
	for i := 1; i <= 40; i++ {
		prev, cur := fmt.Sprintf("c%d", i-1), fmt.Sprintf("c%d", i)
		n := onnxNode(fmt.Sprintf("double_%d", i), "Concat", []string{prev, prev}, cur)
		n.Attribute = []*onnxpb.AttributeProto{axis}
		g.Node = append(g.Node, n)
	}
	g.Node = append(g.Node, onnxNode("add", "Add", []string{"x", "c40"}, "y"))
	writeONNX(t, filepath.Join(e.dir, "bomb.onnx"), g)
	oneFloatInput(t, filepath.Join(e.dir, "x.pb"), 1)
}

// twoOutputs writes a model of input x [2] whose outputs a and b are
// Identity(x) and Relu(x), under the given names.
func twoOutputs(t *testing.T, path, a, b string) {
	t.Helper()
	writeONNX(t, path, &onnxpb.GraphProto{
		Input:  []*onnxpb.ValueInfoProto{onnxValue("x", 2)},
		Output: []*onnxpb.ValueInfoProto{onnxValue(a, 2), onnxValue(b, 2)},
		Node: []*onnxpb.NodeProto{
			onnxNode("id", "Identity", []string{"x"}, a),
			onnxNode("relu", "Relu", []string{"x"}, b),
		},
	})
}

// Checkpoints.

// rewriteCheckpoint writes the fixture's checkpoint to dst with its JSON
// header changed by edit and the checksum recomputed, so that the edited
// fields are the only thing wrong.
func rewriteCheckpoint(t *testing.T, src, dst string, edit func(h map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint32(b[12:])
	dec := json.NewDecoder(bytes.NewReader(b[16 : 16+n]))
	dec.UseNumber()
	var h map[string]any
	if err := dec.Decode(&h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hdr, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), b[:12]...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(hdr)))
	out = append(append(out, hdr...), b[16+n:len(b)-4]...)
	writeBad(t, dst, binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(out)))
}

// withChecksum writes b to path with a correct trailing CRC-32, so that a
// reader gets past the checksum to the fields.
func withChecksum(t *testing.T, path string, b []byte) {
	t.Helper()
	writeBad(t, path, binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)))
}

// The cases.

// cmdline splits a command line template on spaces; placeholders are
// expanded per argument afterwards, so paths may hold spaces.
func cmdline(s string) []string { return strings.Fields(s) }

// steps runs setups in order.
func steps(fs ...func(t *testing.T, e *badEnv)) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) {
		for _, f := range fs {
			f(t, e)
		}
	}
}

// file writes b to name in the case's folder.
func file(name string, b []byte) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) { writeBad(t, filepath.Join(e.dir, name), b) }
}

// generated writes what gen returns to name in the case's folder.
func generated(name string, gen func() []byte) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) { writeBad(t, filepath.Join(e.dir, name), gen()) }
}

func toDevZero(name string) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) { symlinkBad(t, "/dev/zero", filepath.Join(e.dir, name)) }
}

func fifo(name string) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) { fifoBad(t, filepath.Join(e.dir, name)) }
}

func folder(name string) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) {
		if err := os.MkdirAll(filepath.Join(e.dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// copied copies src (with placeholders) to name in the case's folder.
func copied(src, name string) func(t *testing.T, e *badEnv) { return prefix(src, name, 1) }

// cut writes the first half of src (with placeholders) to name.
func cut(src, name string) func(t *testing.T, e *badEnv) { return prefix(src, name, 0.5) }

// prefix writes the first frac of src's bytes to name.
func prefix(src, name string, frac float64) func(t *testing.T, e *badEnv) {
	return func(t *testing.T, e *badEnv) {
		b, err := os.ReadFile(e.expand(src, false))
		if err != nil {
			t.Fatal(err)
		}
		writeBad(t, filepath.Join(e.dir, name), b[:int(frac*float64(len(b)))])
	}
}

func specCases() []badCase {
	return []badCase{
		{name: "spec_syntax", args: cmdline("check {bad}/specs/syntax.yaml"), status: 1,
			want: `^{bad}/specs/syntax\.yaml:\d+:\d+: `},
		{name: "spec_unknown_fields", args: cmdline("check {bad}/specs/unknown_fields.yaml"), status: 1,
			want: `^{bad}/specs/unknown_fields\.yaml:\d+:\d+: .*colour`},
		{name: "spec_unknown_fields_train", args: cmdline("train {bad}/specs/unknown_fields.yaml -o {dir}/run -q"), status: 1,
			want: `^{bad}/specs/unknown_fields\.yaml:\d+:\d+: `},
		{name: "spec_huge_numbers", args: cmdline("check {bad}/specs/huge_numbers.yaml"), status: 1,
			want: `^{bad}/specs/huge_numbers\.yaml:\d+:\d+: `},
		{name: "spec_alias_bomb", args: cmdline("check {bad}/specs/alias_bomb.yaml"), status: 1,
			want: `^{bad}/specs/alias_bomb\.yaml:\d+:\d+: `},
		{name: "spec_truncated_json", args: cmdline("check {bad}/specs/truncated.json"), status: 1,
			want: `^{bad}/specs/truncated\.json:\d+:\d+: `},
		{name: "spec_binary_garbage", setup: file("garbage.yaml", randomBytes(4096, 1)),
			args: cmdline("check {dir}/garbage.yaml"), status: 1, want: `^{dir}/garbage\.yaml:`},
		{name: "spec_empty", setup: file("empty.yaml", nil),
			args: cmdline("check {dir}/empty.yaml"), status: 1, want: `^{dir}/empty\.yaml:`},
		{name: "spec_directory", setup: folder("spec.yaml"),
			args: cmdline("check {dir}/spec.yaml"), status: 1, want: `^{dir}/spec\.yaml: .*directory`},
		{name: "spec_dev_zero", args: cmdline("check /dev/zero"), status: 1,
			want: `^/dev/zero: .*not a regular file`},
		{name: "spec_fifo", setup: fifo("spec.yaml"),
			args: cmdline("check {dir}/spec.yaml"), status: 1, want: `^{dir}/spec\.yaml: .*not a regular file`},
		{name: "spec_missing", args: cmdline("check {dir}/none.yaml"), status: 1,
			want: `^{dir}/none\.yaml: .*no such file`},
		{name: "spec_missing_data", args: cmdline("train {bad}/specs/missing_data.yaml -o {dir}/run -q"), status: 1,
			want: `^{bad}/specs/missing\.npz: no such file \(data\.train: missing\.npz is resolved against the spec's folder, {bad}/specs\)\n`},
	}
}

// specSizeCases: specs whose size, not syntax, is the attack.
func specSizeCases() []badCase {
	return []badCase{
		// 16.8M parameters, 67 MB of float32, are allocated (not
		// initialised) for the listing.
		{name: "spec_units_2048", args: cmdline("check {bad}/specs/units_2048.yaml"), status: 0,
			after: func(t *testing.T, e *badEnv, r *badResult) {
				if !strings.Contains(r.stdout, "LSTM") && !strings.Contains(r.stdout, "lstm") {
					t.Errorf("check printed no graph: %q", trimForLog(r.stdout))
				}
			}},
		{name: "spec_layers_50k", setup: generated("layers.yaml", func() []byte {
			// An alias per layer keeps the file under the size cap on specs.
			return []byte("name: deep\ninputs: {features: 3}\noutputs: {labels: 1}\nlayers:\n  - &l {lstm: {units: 1}}\n" + strings.Repeat("  - *l\n", 50_000))
		}), args: cmdline("check {dir}/layers.yaml"), status: 1, want: `^{dir}/layers\.yaml:\d+:\d+: .*layers`},
		{name: "spec_too_many_params", setup: generated("params.yaml", func() []byte {
			return []byte("name: big\ninputs: {features: 3}\noutputs: {labels: 1}\nlayers:\n" + strings.Repeat("  - gru: {units: 4096}\n", 200))
		}), args: cmdline("check {dir}/params.yaml"), status: 1, want: `^{dir}/params\.yaml:\d+:\d+: .*parameters`},
		{name: "spec_deep_brackets", setup: generated("deep.yaml", func() []byte {
			return []byte("name: deep\ninputs: {features: 3}\nlayers: " + strings.Repeat("[", 100_000) + "\n")
		}), args: cmdline("check {dir}/deep.yaml"), status: 1, want: `^{dir}/deep\.yaml:\d+:\d+: `},
		{name: "spec_deep_blocks", setup: generated("blocks.yaml", func() []byte {
			var b strings.Builder
			b.WriteString("name: deep\ninputs: {features: 3}\noutputs: {labels: 1}\nlayers:\n  - lstm: {units: 4}\n")
			for i := range 1000 { // a thousand levels, within the size cap on specs
				b.WriteString(strings.Repeat(" ", i) + "k:\n")
			}
			return []byte(b.String())
		}), args: cmdline("check {dir}/blocks.yaml"), status: 1, want: `^{dir}/blocks\.yaml:\d+:\d+: `},
		{name: "spec_many_errors", setup: generated("errors.yaml", func() []byte {
			var b strings.Builder
			b.WriteString("name: noisy\ninputs: {features: 3}\nlayers: [{lstm: {units: 4}}]\noutputs: {labels: 1}\n")
			for i := range 20_000 {
				fmt.Fprintf(&b, "unknown_%d: 1\n", i)
			}
			return []byte(b.String())
		}), args: cmdline("check {dir}/errors.yaml"), status: 1, want: `^{dir}/errors\.yaml:\d+:\d+: .*unknown_0`,
			after: func(t *testing.T, e *badEnv, r *badResult) {
				if n := strings.Count(r.stderr, "\n"); n > 11 {
					t.Errorf("printed %d lines; at most ten errors and a count", n)
				}
			}},
	}
}

func npzCases() []badCase {
	eval := func(file string) []string { return cmdline("eval {model} --data {dir}/" + file) }
	dup := append(smallNPZ(3, nil), zipEntry{name: "x.npy", data: npyBytes("<f4", []int{2, 3, 3}, f32Bytes(make([]float32, 18)...))})
	ints := smallNPZ(3, nil)
	ints[0].data = npyBytes("<i4", []int{2, 3, 3}, make([]byte, 4*18))
	nan := make([]float32, 18)
	nan[1*3+2] = float32(math.NaN()) // sequence 0, step 1, feature 2: a valid step
	neg := smallNPZ(3, nil)
	neg[0].data = npyBytes("<f4", []int{-1, 3, 3}, nil)
	hdr := smallNPZ(3, nil)
	hdr[0].data = append(binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), 0xFFFF), bytes.Repeat([]byte("{"), 0xFFFF)...)
	zipped := func(name string, entries []zipEntry) func(t *testing.T, e *badEnv) {
		return func(t *testing.T, e *badEnv) { writeZip(t, filepath.Join(e.dir, name), entries...) }
	}
	return []badCase{
		// The control: the writers above make archives trnn reads, so the
		// cases below are refused for what they break.
		{name: "npz_control_valid", setup: zipped("ok.npz", smallNPZ(3, nil)), args: eval("ok.npz"), status: 0},
		{name: "npz_truncated", setup: cut("{npz}", "cut.npz"), args: eval("cut.npz"), status: 1, want: `^{dir}/cut\.npz: `},
		{name: "npz_truncated_train", setup: cut("{npz}", "cut.npz"), args: cmdline("train {spec} --data {dir}/cut.npz -o {dir}/run -q"),
			status: 1, want: `^{dir}/cut\.npz: `},
		{name: "npz_not_zip", setup: file("noise.npz", randomBytes(8192, 2)), args: eval("noise.npz"), status: 1, want: `^{dir}/noise\.npz: `},
		{name: "npz_empty", setup: file("empty.npz", nil), args: eval("empty.npz"), status: 1, want: `^{dir}/empty\.npz: `},
		{name: "npz_duplicate_x", setup: zipped("dup.npz", dup), args: eval("dup.npz"), status: 1, want: `^{dir}/dup\.npz: .*x\.npy`},
		{name: "npz_wrong_dtype", setup: zipped("int.npz", ints), args: eval("int.npz"), status: 1, want: `^{dir}/int\.npz: .*dtype`},
		{name: "npz_nan", setup: zipped("nan.npz", smallNPZ(3, f32Bytes(nan...))), args: eval("nan.npz"), status: 1,
			want: `^{dir}/nan\.npz: .*NaN`},
		{name: "npz_features", setup: zipped("f5.npz", smallNPZ(5, nil)), args: eval("f5.npz"), status: 1,
			want: `^{dir}/f5\.npz: .*5 features`},
		{name: "npz_negative_shape", setup: zipped("neg.npz", neg), args: eval("neg.npz"), status: 1, want: `^{dir}/neg\.npz: `},
		{name: "npz_huge_header", setup: zipped("hdr.npz", hdr), args: eval("hdr.npz"), status: 1, want: `^{dir}/hdr\.npz: `},
		{name: "npz_dev_zero", setup: toDevZero("zero.npz"), args: eval("zero.npz"), status: 1,
			want: `^{dir}/zero\.npz: .*not a regular file`},
		{name: "npz_fifo", setup: fifo("pipe.npz"), args: eval("pipe.npz"), status: 1, want: `^{dir}/pipe\.npz: .*not a regular file`},
		{name: "npz_directory", setup: folder("dir.npz"), args: eval("dir.npz"), status: 1, want: `^{dir}/dir\.npz: .*directory`},
	}
}

// npzBombCases: Deflate bombs, a few megabytes that inflate to gigabytes.
func npzBombCases() []badCase {
	bomb := func(shape []int, mib int, claim bool) func(t *testing.T, e *badEnv) {
		return func(t *testing.T, e *badEnv) { bombNPZ(t, filepath.Join(e.dir, "bomb.npz"), shape, mib, claim) }
	}
	eval := cmdline("eval {model} --data {dir}/bomb.npz")
	return []badCase{
		// 2 MB on disk holding 2000 MiB of x [1024, 1024, 500]: the header
		// already shows 500 features where the model has 3.
		{name: "npz_bomb_features", setup: bomb([]int{1024, 1024, 500}, 2000, false), args: eval, status: 1,
			want: `^{dir}/bomb\.npz: .*500 features`},
		// x [2, 4, 3] is 96 bytes; the entry inflates to a GiB.
		{name: "npz_bomb_small_shape", setup: bomb([]int{2, 4, 3}, 1024, false), args: eval, status: 1,
			want: `^{dir}/bomb\.npz: `},
		// The same, with the archive's directory claiming the 96 bytes the
		// header needs: only the inflated stream shows the rest.
		{name: "npz_bomb_lying_size", setup: bomb([]int{2, 4, 3}, 1024, true), args: eval, status: 1,
			want: `^{dir}/bomb\.npz: `},
		// A header claiming 120 GB, in an entry that inflates to a GiB.
		{name: "npz_bomb_huge_shape", setup: bomb([]int{100_000, 100_000, 3}, 1024, false), args: eval, status: 1,
			want: `^{dir}/bomb\.npz: `},
	}
}

func csvCases() []badCase {
	eval := func(file string) []string { return cmdline("eval {model} --data " + file) }
	return []badCase{
		{name: "csv_control_valid", args: eval("{csv}"), status: 0},
		{name: "csv_missing_column", args: eval("{bad}/csv/missing_column.csv"), status: 1,
			want: `^{bad}/csv/missing_column\.csv:1: .*"f2"`},
		{name: "csv_bad_cell", args: eval("{bad}/csv/bad_cell.csv"), status: 1, want: `^{bad}/csv/bad_cell\.csv:3: .*"f1"`},
		{name: "csv_bad_cell_train", args: cmdline("train {spec} --data {bad}/csv/bad_cell.csv -o {dir}/run -q"), status: 1,
			want: `^{bad}/csv/bad_cell\.csv:3: .*"f1"`},
		{name: "csv_tab_cell", args: eval("{bad}/csv/tab_cell.csv"), status: 1, want: `^{bad}/csv/tab_cell\.csv:3: .*2\\t5`,
			after: func(t *testing.T, e *badEnv, r *badResult) {
				if strings.Contains(r.stderr, "\t") {
					t.Errorf("the message holds a raw tab: %q", r.stderr)
				}
			}},
		{name: "csv_nan_cell", args: eval("{bad}/csv/nan_cell.csv"), status: 1, want: `^{bad}/csv/nan_cell\.csv:3: .*"f0"`},
		{name: "csv_header_only", args: eval("{bad}/csv/header_only.csv"), status: 1, want: `^{bad}/csv/header_only\.csv: .*no rows`},
		{name: "csv_ragged", args: eval("{bad}/csv/ragged.csv"), status: 1, want: `^{bad}/csv/ragged\.csv:3: `},
		{name: "csv_bad_quote", args: eval("{bad}/csv/bad_quote.csv"), status: 1, want: `^{bad}/csv/bad_quote\.csv:3: `},
		{name: "csv_huge_cell", setup: file("wide.csv", []byte("id,step,f0,f1,f2,y\na,0,"+strings.Repeat("a", 100_000)+",1,2,0\n")),
			args: eval("{dir}/wide.csv"), status: 1, want: `^{dir}/wide\.csv:2: .*"f0"`,
			after: func(t *testing.T, e *badEnv, r *badResult) {
				if strings.Contains(r.stderr, strings.Repeat("a", 100)) {
					t.Errorf("the message echoes %d bytes of the cell, want at most about 80", strings.Count(r.stderr, "a"))
				}
			}},
		{name: "csv_dev_zero", setup: toDevZero("zero.csv"), args: eval("{dir}/zero.csv"), status: 1,
			want: `^{dir}/zero\.csv: .*not a regular file`},
		{name: "csv_empty", setup: file("empty.csv", nil), args: eval("{dir}/empty.csv"), status: 1, want: `^{dir}/empty\.csv: .*empty`},
		{name: "csv_binary", setup: file("noise.csv", randomBytes(8192, 3)), args: eval("{dir}/noise.csv"), status: 1,
			want: `^{dir}/noise\.csv[:]`},
		// One sequence of 5000 steps, 100 KB: per-step probabilities must
		// cost memory linear in the steps, not one padded prefix per step.
		{name: "csv_per_step_5000", setup: generated("long.csv", func() []byte { return longCSV(1, 0, 5000) }),
			args: cmdline("predict {model} --data {dir}/long.csv --per-step -o {dir}/steps.csv"), status: 0,
			after: lineCount("{dir}/steps.csv", 5001)},
		// 2000 one-step sequences and one of 40000 steps, 1 MB: rows must
		// not all be padded to the longest. Bucketed, this takes a few MB
		// beyond the program itself; a batch of 256 rows padded to 40000
		// steps takes 250 MiB with this 4-unit model.
		{name: "csv_long_among_short", setup: generated("mixed.csv", func() []byte { return longCSV(2001, 1000, 40_000) }),
			args: cmdline("predict {model} --data {dir}/mixed.csv -o {dir}/p.csv"), status: 0, maxMiB: 100,
			after: lineCount("{dir}/p.csv", 2002)},
	}
}

// longCSV writes n sequences of one step each, except sequence long, which
// has steps steps.
func longCSV(n, long, steps int) []byte {
	var b bytes.Buffer
	b.WriteString("id,step,f0,f1,f2,y\n")
	for i := range n {
		L := 1
		if i == long {
			L = steps
		}
		for s := range L {
			v := math.Sin(float64(i + s))
			fmt.Fprintf(&b, "s%d,%d,%.3f,%.3f,%.3f,%d\n", i, s, v, -v, v/2, i%2)
		}
	}
	return b.Bytes()
}

func modelCases() []badCase {
	run := func(model, x string) []string {
		return cmdline("run " + model + " --input x=" + x + " --input lengths={lenpb} -o {dir}/out")
	}
	hugePB := func(t *testing.T, e *badEnv) {
		tp := &onnxpb.TensorProto{Name: proto.String("x"), Dims: []int64{1 << 30, 1 << 30, 3}, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}
		b, err := proto.Marshal(tp)
		if err != nil {
			t.Fatal(err)
		}
		writeBad(t, filepath.Join(e.dir, "huge.pb"), b)
	}
	return []badCase{
		{name: "model_dev_zero_run", args: run("/dev/zero", "{xpb}"), status: 1, want: `^/dev/zero: .*not a regular file`},
		{name: "model_dev_zero_predict", args: cmdline("predict /dev/zero --data {npz}"), status: 1, want: `^/dev/zero: .*not a regular file`},
		{name: "model_random_bytes", setup: file("noise.onnx", randomBytes(8192, 4)), args: cmdline("eval {dir}/noise.onnx --data {npz}"),
			status: 1, want: `^{dir}/noise\.onnx: `},
		{name: "model_truncated", setup: cut("{model}", "cut.onnx"), args: cmdline("eval {dir}/cut.onnx --data {npz}"),
			status: 1, want: `^{dir}/cut\.onnx: `},
		{name: "model_empty", setup: file("empty.onnx", nil), args: cmdline("predict {dir}/empty.onnx --data {npz}"),
			status: 1, want: `^{dir}/empty\.onnx: `},
		{name: "model_is_a_spec", args: cmdline("predict {spec} --data {npz}"), status: 1, want: `^{spec}: a spec, not a model; train it`},
		{name: "model_is_data", args: cmdline("eval {npz} --data {npz}"), status: 1, want: `^{npz}: a data file, not a model`},
		// Messages about the data's fit talk about the model, by name.
		{name: "model_other_features", setup: func(t *testing.T, e *badEnv) {
			d := data.Synth(data.SynthOptions{N: 4, MinLen: 2, MaxLen: 3, F: 4, K: 2, Seed: 1, PosRate: 0.5})
			if err := data.WriteNPZ(filepath.Join(e.dir, "f4.npz"), d); err != nil {
				t.Fatal(err)
			}
		}, args: cmdline("eval {model} --data {dir}/f4.npz"), status: 1,
			want: `^{dir}/f4\.npz: x has 4 features per step, the model expects 3 features \(f0, f1, f2\)\n`},
		{name: "model_directory", setup: folder("empty"), args: cmdline("predict {dir}/empty --data {npz}"), status: 1,
			want: `^{dir}/empty: a directory without model\.onnx`},
		// A run directory stands for its model.onnx.
		{name: "model_run_directory", args: cmdline("predict {fix}/run --data {npz}"), status: 0, after: stdoutLines(1 + 24)},
		{name: "model_checkpoint_to_run", args: cmdline("run {ckpt} --input x={xpb} --input lengths={lenpb} -o {dir}/out"), status: 1,
			want: `^{ckpt}: not an ONNX model: a trnn checkpoint; pass the run's model\.onnx, or export the checkpoint`},
		{name: "spec_is_a_model", args: cmdline("train {model} -o {dir}/run"), status: 1, want: `^{model}: an ONNX model, not a spec; .*--init {model}`},
		{name: "spec_is_a_checkpoint", args: cmdline("check {ckpt}"), status: 1, want: `^{ckpt}: a trnn checkpoint, not a spec; to continue its run: trnn train --resume {fix}/run\n`},
		{name: "export_a_model", args: cmdline("export {model} -o {dir}/m.onnx"), status: 1, want: `^{model}: an ONNX model, not a trnn checkpoint`},
		{name: "pb_dev_zero", args: run("{model}", "/dev/zero"), status: 1, want: `^/dev/zero: .*not a regular file`},
		{name: "pb_fifo", setup: fifo("pipe.pb"), args: run("{model}", "{dir}/pipe.pb"), status: 1,
			want: `^{dir}/pipe\.pb: .*not a regular file`},
		{name: "pb_random_bytes", setup: file("noise.pb", randomBytes(8192, 5)), args: run("{model}", "{dir}/noise.pb"),
			status: 1, want: `^{dir}/noise\.pb: `},
		{name: "pb_truncated", setup: cut("{xpb}", "cut.pb"), args: run("{model}", "{dir}/cut.pb"), status: 1, want: `^{dir}/cut\.pb: `},
		{name: "pb_huge_dims", setup: hugePB, args: run("{model}", "{dir}/huge.pb"), status: 1, want: `^{dir}/huge\.pb: `},
	}
}

// onnxCases: well-formed protobuf, hostile graphs.
func onnxCases() []badCase {
	conv := func(t *testing.T, e *badEnv) {
		writeONNX(t, filepath.Join(e.dir, "conv.onnx"), &onnxpb.GraphProto{
			Input:       []*onnxpb.ValueInfoProto{onnxValue("x", 1, 1, 4)},
			Output:      []*onnxpb.ValueInfoProto{onnxValue("y", 1, 1, 3)},
			Initializer: []*onnxpb.TensorProto{onnxFloats("w", []int64{1, 1, 2}, 1, 1)},
			Node:        []*onnxpb.NodeProto{onnxNode("conv", "ConvTranspose", []string{"x", "w"}, "y")},
		})
	}
	hugeInit := func(t *testing.T, e *badEnv) {
		writeONNX(t, filepath.Join(e.dir, "init.onnx"), &onnxpb.GraphProto{
			Input:       []*onnxpb.ValueInfoProto{onnxValue("x", 1)},
			Output:      []*onnxpb.ValueInfoProto{onnxValue("y", 1<<20, 1<<20)},
			Initializer: []*onnxpb.TensorProto{onnxFloats("w", []int64{1 << 20, 1 << 20}, 1)},
			Node:        []*onnxpb.NodeProto{onnxNode("add", "Add", []string{"x", "w"}, "y")},
		})
		oneFloatInput(t, filepath.Join(e.dir, "x.pb"), 1)
	}
	cycle := func(t *testing.T, e *badEnv) {
		writeONNX(t, filepath.Join(e.dir, "cycle.onnx"), &onnxpb.GraphProto{
			Input:  []*onnxpb.ValueInfoProto{onnxValue("x", 1)},
			Output: []*onnxpb.ValueInfoProto{onnxValue("b", 1)},
			Node: []*onnxpb.NodeProto{
				onnxNode("first", "Add", []string{"x", "b"}, "a"),
				onnxNode("second", "Relu", []string{"a"}, "b"),
			},
		})
		oneFloatInput(t, filepath.Join(e.dir, "x.pb"), 1)
	}
	foreign := func(t *testing.T, e *badEnv) {
		writeONNX(t, filepath.Join(e.dir, "relu.onnx"), &onnxpb.GraphProto{
			Input:  []*onnxpb.ValueInfoProto{onnxValue("x", "batch", 3)},
			Output: []*onnxpb.ValueInfoProto{onnxValue("y", "batch", 3)},
			Node:   []*onnxpb.NodeProto{onnxNode("relu", "Relu", []string{"x"}, "y")},
		})
	}
	outputs := func(a, b string) func(t *testing.T, e *badEnv) {
		return func(t *testing.T, e *badEnv) {
			twoOutputs(t, filepath.Join(e.dir, "two.onnx"), e.expand(a, false), e.expand(b, false))
			oneFloatInput(t, filepath.Join(e.dir, "x.pb"), -1, 2)
		}
	}
	run := func(model string) []string { return cmdline("run {dir}/" + model + " --input {dir}/x.pb -o {dir}/out") }
	return []badCase{
		// Refused at load, or run unfolded until a bound stops it: either
		// way the message names the node.
		{name: "onnx_concat_bomb", setup: concatBomb, args: run("bomb.onnx"), status: 1,
			want: `{dir}/bomb\.onnx: .*double_\d+`},
		{name: "onnx_unsupported_op", setup: conv, args: cmdline("run {dir}/conv.onnx --input x={xpb} -o {dir}/out"), status: 1,
			want: `^{dir}/conv\.onnx: .*ConvTranspose`},
		{name: "onnx_huge_initializer", setup: hugeInit, args: run("init.onnx"), status: 1, want: `^{dir}/init\.onnx: `},
		{name: "onnx_cycle", setup: cycle, args: run("cycle.onnx"), status: 1, want: `^{dir}/cycle\.onnx: `},
		{name: "onnx_foreign_shapes_eval", setup: foreign, args: cmdline("eval {dir}/relu.onnx --data {npz}"), status: 1,
			want: `^{dir}/relu\.onnx: `},
		// Outputs a/b and a_b would both be written to a_b.pb.
		{name: "onnx_output_collision", setup: outputs("a/b", "a_b"), args: run("two.onnx"), status: 1, orOK: true,
			want: `{dir}/two\.onnx: .*a_b`, after: distinctOutputs("a/b", "a_b")},
		// Output names that are paths, relative or absolute, stay inside
		// the output folder ({dir}/out): nothing lands in {dir}.
		{name: "onnx_output_escape", setup: outputs("../escape", "{dir}/abs"), args: run("two.onnx"), status: 1, orOK: true,
			want: `{dir}/two\.onnx: `, after: distinctOutputs("../escape", "{dir}/abs")},
	}
}

// distinctOutputs checks, when `trnn run` succeeded, that the output folder
// holds one file per output, each under its own name, and nothing was
// written next to it.
func distinctOutputs(names ...string) func(t *testing.T, e *badEnv, r *badResult) {
	return func(t *testing.T, e *badEnv, r *badResult) {
		if r.status != 0 {
			return
		}
		files, _ := filepath.Glob(filepath.Join(e.dir, "out", "*.pb"))
		got := map[string]bool{}
		for _, f := range files {
			_, name, err := export.ReadTensorFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got[name] = true
		}
		for _, n := range names {
			if n = e.expand(n, false); !got[n] {
				t.Errorf("output %q was not written to its own file in %s (found %v)", n, filepath.Join(e.dir, "out"), files)
			}
		}
		if stray, _ := filepath.Glob(filepath.Join(e.dir, "*.pb")); len(stray) != 1 { // x.pb, the input
			t.Errorf("files written outside the output folder: %v", stray)
		}
	}
}

// checkpointCases: damaged and hostile checkpoints, and --init files.
func checkpointCases() []badCase {
	edit := func(f func(h map[string]any)) func(t *testing.T, e *badEnv) {
		return func(t *testing.T, e *badEnv) {
			rewriteCheckpoint(t, e.ckpt, filepath.Join(e.dir, "R", "checkpoint.trnn"), f)
		}
	}
	raw := func(name string, b []byte) func(t *testing.T, e *badEnv) {
		return func(t *testing.T, e *badEnv) { withChecksum(t, filepath.Join(e.dir, name), b) }
	}
	hdr := func(n uint32, rest string) []byte {
		return append(binary.LittleEndian.AppendUint32([]byte("TRNNCKPT\x01\x00\x00\x00"), n), rest...)
	}
	resume := cmdline("train --resume {dir}/R -q")
	exportCk := cmdline("export {dir}/R/checkpoint.trnn -o {dir}/m.onnx")
	badMagic := file("R/checkpoint.trnn", append([]byte("NOTACKPT"), randomBytes(4096, 6)...))
	return []badCase{
		{name: "ckpt_bad_magic_resume", setup: badMagic, args: resume, status: 1,
			want: `^{dir}/R/checkpoint\.trnn: .*not a trnn checkpoint`},
		{name: "ckpt_bad_magic_predict", setup: badMagic, args: cmdline("predict {dir}/R/checkpoint.trnn --data {npz}"), status: 1,
			want: `^{dir}/R/checkpoint\.trnn: .*not a trnn checkpoint`},
		{name: "ckpt_truncated", setup: cut("{ckpt}", "R/checkpoint.trnn"), args: exportCk, status: 1,
			want: `^{dir}/R/checkpoint\.trnn: .*(truncated|corrupt)`},
		{name: "ckpt_empty", setup: file("R/checkpoint.trnn", nil), args: exportCk, status: 1, want: `^{dir}/R/checkpoint\.trnn: `},
		{name: "ckpt_negative_epoch", setup: edit(func(h map[string]any) { h["epoch"] = -5 }), args: resume, status: 1,
			want: `^{dir}/R/checkpoint\.trnn: .*epoch`},
		{name: "ckpt_absurd_counts", setup: edit(func(h map[string]any) { h["epoch"], h["step"], h["stale"] = int64(1)<<50, -3, -7 }),
			args: resume, status: 1, want: `^{dir}/R/checkpoint\.trnn: .*(epoch|step|stale)`},
		{name: "ckpt_absurd_shape", setup: edit(func(h map[string]any) {
			h["tensors"].([]any)[0].(map[string]any)["shape"] = []int{math.MaxInt32, math.MaxInt32}
		}), args: exportCk, status: 1, want: `^{dir}/R/checkpoint\.trnn: `},
		{name: "ckpt_header_length", setup: raw("R/checkpoint.trnn", hdr(0xFFFFFFF0, "{}")), args: exportCk, status: 1,
			want: `^{dir}/R/checkpoint\.trnn: `},
		{name: "ckpt_header_not_json", setup: raw("R/checkpoint.trnn", hdr(10, "not json!!")), args: exportCk, status: 1,
			want: `^{dir}/R/checkpoint\.trnn: `},
		{name: "ckpt_dev_zero_resume", setup: toDevZero("R/checkpoint.trnn"), args: resume, status: 1,
			want: `{dir}/R/checkpoint\.trnn: .*not a regular file`},
		{name: "ckpt_dev_zero_export", args: cmdline("export /dev/zero -o {dir}/m.onnx"), status: 1, want: `^/dev/zero: .*not a regular file`},
		{name: "init_dev_zero", args: cmdline("train {spec} --init /dev/zero -o {dir}/run -q"), status: 1,
			want: `/dev/zero: .*not a regular file`},
		{name: "init_random_bytes", setup: file("noise.onnx", randomBytes(8192, 7)),
			args: cmdline("train {spec} --init {dir}/noise.onnx -o {dir}/run -q"), status: 1, want: `{dir}/noise\.onnx: `},
		{name: "init_truncated", setup: cut("{model}", "cut.onnx"),
			args: cmdline("train {spec} --init {dir}/cut.onnx -o {dir}/run -q"), status: 1, want: `{dir}/cut\.onnx: `},
	}
}

// flagCases: bad command lines, exit status 2.
func flagCases() []badCase {
	return []badCase{
		{name: "flag_unknown", args: cmdline("train {spec} --bogus"), status: 2, want: `--bogus`},
		{name: "flag_misspelt", args: cmdline("train {spec} --epoch 3"), status: 2, want: `unknown flag: --epoch \(did you mean --epochs\?\)\n`},
		{name: "flag_other_command", args: cmdline("eval {model} --data {npz} --per-step"), status: 2, want: `--per-step is a flag of trnn predict`},
		{name: "flag_help_unknown", args: cmdline("help trian"), status: 2, want: `unknown command "trian" \(did you mean train\?\)`},
		{name: "flag_completion_unknown", args: cmdline("completion fish2"), status: 2, want: `unknown shell "fish2"`},
		{name: "flag_version_argument", args: cmdline("version now"), status: 2, want: `takes no arguments`},
		{name: "flag_missing_argument", args: cmdline("predict {model} --data"), status: 2, want: `--data`},
		{name: "flag_missing_model", args: cmdline("predict --data {npz}"), status: 2, want: `expected one model file`},
		{name: "flag_unknown_command", args: cmdline("frobnicate {spec}"), status: 2, want: `frobnicate`},
		{name: "flag_epochs_zero", args: cmdline("train {spec} --epochs 0 -o {dir}/run"), status: 2, want: `--epochs`},
		{name: "flag_epochs_huge", args: cmdline("train {spec} --epochs 99999999999999999999 -o {dir}/run"), status: 2, want: `--epochs`},
		{name: "flag_batch_negative", args: cmdline("train {spec} --batch-size -4 -o {dir}/run"), status: 2, want: `--batch-size`},
		{name: "flag_seed_negative", args: cmdline("train {spec} --seed -1 -o {dir}/run"), status: 2, want: `--seed`},
		{name: "flag_threshold", args: cmdline("eval {model} --data {npz} --threshold 1.5"), status: 2, want: `--threshold`},
		{name: "flag_opset", args: cmdline("export {ckpt} -o {dir}/m.onnx --opset 99"), status: 2, want: `--opset`},
		{name: "flag_run_no_input", args: cmdline("run {model} -o {dir}/out"), status: 2, want: `--input`},
		{name: "flag_run_input_syntax", args: cmdline("run {model} --input =x.pb -o {dir}/out"), status: 2, want: `--input`},
	}
}

// outputCases: outputs that would destroy an input, and outputs that
// cannot be written.
func outputCases() []badCase {
	keepCSV, sameCSV := unchanged("{dir}/in.csv")
	keepLink, sameLink := unchanged("{dir}/in.csv")
	keepHard, sameHard := unchanged("{dir}/in.csv")
	keepCkpt, sameCkpt := unchanged("{dir}/R/checkpoint.trnn")
	keepRunCkpt, sameRunCkpt := unchanged("{dir}/R/checkpoint.trnn")
	keepRunModel, sameRunModel := unchanged("{dir}/R/model.onnx")
	keepSpec, sameSpec := unchanged("{dir}/spec.yaml")
	keepX, sameX := unchanged("{dir}/x.pb")
	link := func(t *testing.T, e *badEnv) {
		symlinkBad(t, filepath.Join(e.dir, "in.csv"), filepath.Join(e.dir, "link.csv"))
	}
	hard := func(t *testing.T, e *badEnv) {
		if err := os.Link(filepath.Join(e.dir, "in.csv"), filepath.Join(e.dir, "hard.csv")); err != nil {
			t.Fatal(err)
		}
	}
	predict := func(out string) []string { return cmdline("predict {model} --data {dir}/in.csv -o {dir}/" + out) }
	return []badCase{
		{name: "out_predict_over_data", setup: steps(copied("{csv}", "in.csv"), keepCSV), args: predict("in.csv"),
			status: 1, want: `{dir}/in\.csv`, after: sameCSV},
		{name: "out_predict_symlink_to_data", setup: steps(copied("{csv}", "in.csv"), link, keepLink), args: predict("link.csv"),
			status: 1, want: `{dir}/(link|in)\.csv`, after: sameLink},
		{name: "out_predict_hardlink_to_data", setup: steps(copied("{csv}", "in.csv"), hard, keepHard), args: predict("hard.csv"),
			status: 1, want: `{dir}/(hard|in)\.csv`, after: sameHard},
		{name: "out_export_over_checkpoint", setup: steps(copied("{ckpt}", "R/checkpoint.trnn"), keepCkpt),
			args: cmdline("export {dir}/R/checkpoint.trnn -o {dir}/R/checkpoint.trnn"), status: 1,
			want: `{dir}/R/checkpoint\.trnn`, after: sameCkpt},
		// A run directory stands for its model or checkpoint, and -o may
		// not name them either.
		{name: "out_predict_over_run_model", setup: steps(copied("{model}", "R/model.onnx"), keepRunModel),
			args: cmdline("predict {dir}/R --data {npz} -o {dir}/R/model.onnx"), status: 1,
			want: `^{dir}/R/model\.onnx: the output is the same file as the model`, after: sameRunModel},
		{name: "out_export_over_run_checkpoint", setup: steps(copied("{ckpt}", "R/checkpoint.trnn"), keepRunCkpt),
			args: cmdline("export {dir}/R -o {dir}/R/checkpoint.trnn"), status: 1,
			want: `^{dir}/R/checkpoint\.trnn: the output is the same file as the checkpoint`, after: sameRunCkpt},
		{name: "out_train_over_spec", setup: steps(copied("{spec}", "spec.yaml"), copied("{npz}", "train.npz"), keepSpec),
			args: cmdline("train {dir}/spec.yaml -o {dir}/spec.yaml -q"), status: 1, want: `{dir}/spec\.yaml`, after: sameSpec},
		{name: "out_run_over_input", setup: steps(copied("{xpb}", "x.pb"), keepX),
			args: cmdline("run {model} --input {dir}/x.pb --input {lenpb} -o {dir}/x.pb"), status: 1, want: `{dir}/x\.pb`, after: sameX},
		// -o creates the folders above its file, and refuses a folder.
		{name: "out_predict_missing_folder", args: cmdline("predict {model} --data {npz} -o {dir}/none/p.csv"), status: 0,
			after: lineCount("{dir}/none/p.csv", 1+24)},
		{name: "out_predict_into_folder", args: cmdline("predict {model} --data {npz} -o {dir}"), status: 2,
			want: `^trnn predict: -o {dir} is a folder; give a file name, such as {dir}/predictions\.csv\n`},
		{name: "out_resume_missing", args: cmdline("train --resume {dir}/nothing -q"), status: 1, want: `{dir}/nothing`},
		{name: "out_resume_empty_folder", setup: folder("R"), args: cmdline("train --resume {dir}/R -q"), status: 1,
			want: `{dir}/R/checkpoint\.trnn`},
	}
}
