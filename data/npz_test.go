package data

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/internal/fileio"
)

// The fixtures under testdata/data were written by NumPy
// (testdata/data/make_data.py): good/NAME.npz with good/NAME.csv holding the
// same sequences, and bad/NAME.npz with one defect each.
const fixtures = "../testdata/data"

func TestReadNPZGood(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, f, k int
		maxLen  int
	}{
		{"f32_i64_f64y", 6, 2, 1, 5},
		{"f64_i16_booly", 5, 3, 2, 7},
		{"u8_lengths_u8y", 4, 1, 1, 3},
		{"fortran_u64", 5, 2, 3, 4},
		{"bigendian", 4, 2, 1, 6},
		{"compressed", 8, 4, 1, 9},
		{"no_lengths", 3, 2, 1, 4},
		{"f16y", 5, 2, 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(fixtures, "good", tc.name+".npz")
			d, err := readNPZ(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.N() != tc.n || d.F != tc.f || d.K != tc.k || d.MaxLen() != tc.maxLen {
				t.Fatalf("N, F, K, MaxLen = %d, %d, %d, %d, want %d, %d, %d, %d", d.N(), d.F, d.K, d.MaxLen(), tc.n, tc.f, tc.k, tc.maxLen)
			}
			if d.Source != path || d.IDs != nil || d.FeatureNames != nil {
				t.Errorf("Source %q, IDs %v, FeatureNames %v: want the path and no names", d.Source, d.IDs, d.FeatureNames)
			}
			d.check("test")
			// NumPy wrote the same sequences as long-form CSV, rows shuffled:
			// the two readers must agree bit for bit.
			c, err := ReadCSV(filepath.Join(fixtures, "good", tc.name+".csv"), SynthColumns(tc.f, tc.k))
			if err != nil {
				t.Fatal(err)
			}
			c = byNumericID(t, c)
			c.IDs, c.FeatureNames, c.LabelNames = nil, nil, nil
			if !d.Equal(c) {
				t.Errorf("NPZ and CSV readings differ:\nnpz %v %v\ncsv %v %v", d.X, d.Y, c.X, c.Y)
			}
		})
	}
}

// byNumericID reorders the sequences of a CSV file whose ids are 0..N-1 (in
// order of first appearance) by id.
func byNumericID(t *testing.T, c *Dataset) *Dataset {
	t.Helper()
	order := make([]int, c.N())
	seen := make([]bool, c.N())
	for i, id := range c.IDs {
		var j int
		if _, err := fmt.Sscan(id, &j); err != nil || j < 0 || j >= c.N() || seen[j] {
			t.Fatalf("ids %v are not a permutation of 0..%d", c.IDs, c.N()-1)
		}
		seen[j] = true
		order[j] = i
	}
	return c.Subset(order)
}

// TestReadNPZValues checks decoded values against the ones NumPy printed
// from the files, for the layouts where a reader is most likely to go wrong:
// Fortran order, big endian, float64 narrowing, bool and int32 labels.
func TestReadNPZValues(t *testing.T) {
	for _, tc := range []struct {
		file    string
		lengths []int
		x1      []float32 // x[1, :len_1, :] row-major
		y       []float32
	}{
		{"fortran_u64", []int{4, 2, 2, 3, 2},
			[]float32{-2.819720983505249, -0.1539432406425476, 1.707254409790039, 5.432168006896973},
			[]float32{0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1}},
		{"bigendian", []int{6, 3, 5, 5},
			[]float32{2.73537278175354, 1.6697425842285156, 5.072028636932373, 0.12431378662586212, 5.093404293060303, 6.429065704345703},
			[]float32{1, 0, 0, 1}},
		{"f64_i16_booly", []int{7, 7, 3, 6, 7},
			[]float32{-0.07974328845739365, 1.7942514419555664, -0.5590814352035522, -1.0045372247695923, -1.4459240436553955,
				-1.3527553081512451, -1.3461683988571167, -0.2668861746788025, 0.2249208390712738, -0.13384316861629486,
				-0.716894268989563, -1.9639798402786255, -3.3119919300079346, -3.8456268310546875, -3.846827268600464,
				-3.881436824798584, 0.2741980254650116, 1.0990241765975952, -0.34461304545402527, -2.7884624004364014,
				0.2532804310321808},
			[]float32{1, 0, 0, 1, 1, 0, 1, 0, 0, 0}},
	} {
		d, err := readNPZ(filepath.Join(fixtures, "good", tc.file+".npz"), nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range tc.lengths {
			if d.Len(i) != l {
				t.Errorf("%s: sequence %d has %d steps, NumPy says %d", tc.file, i, d.Len(i), l)
			}
		}
		if !slices.Equal(d.X[1], tc.x1) {
			t.Errorf("%s: x[1] = %v\nNumPy:   %v", tc.file, d.X[1], tc.x1)
		}
		if !slices.Equal(d.Y, tc.y) {
			t.Errorf("%s: y = %v, NumPy: %v", tc.file, d.Y, tc.y)
		}
	}
}

func TestReadNPZBad(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"nan_valid_step", `x[17, 3, 2]: NaN in a valid step (sequence 17 has 12 steps)`},
		{"inf_valid_step", `x[2, 0, 1]: -Inf in a valid step (sequence 2 has `},
		{"float64_overflow", `x[5, 0, 0]: 1e+39 (beyond float32's range) in a valid step (sequence 5 has 1 steps)`},
		{"length_zero", `lengths[4]: must be in [1, 13], got 0`},
		{"length_too_long", `lengths[9]: must be in [1, 13], got 14`},
		{"x_2d", `x has 2 dimensions, want 3 [sequences, steps, features]`},
		{"y_rows", `y has 19 rows, x has 20 sequences`},
		{"lengths_rows", `lengths has 21 entries, x has 20 sequences`},
		{"y_half", `y[3]: labels must be 0 or 1, got 0.5`},
		{"y2d_two", `y[3, 1]: labels must be 0 or 1, got 2`},
		{"y_float16", `y[6]: labels must be 0 or 1, got 0.25`},
		{"missing_x", `missing array "x" (found: a, b)`},
		{"x_int", `x has dtype int32, want float32 or float64`},
		{"lengths_float", `lengths has dtype float64, want an integer type`},
		{"no_sequences", `x has no sequences (shape [0, 13, 3])`},
		{"y_3d", `y has 3 dimensions, want 1 [sequences] or 2 [sequences, labels]`},
		{"y_strings", `y has dtype "<U1", which trnn does not read (want bool, integers or floats)`},
		{"x_object", `x has dtype "|O", which trnn does not read (want bool, integers or floats)`},
		{"not_zip", `not a readable NPZ file: not a valid zip file`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(fixtures, "bad", tc.file+".npz")
			_, err := readNPZ(path, nil)
			wantError(t, err, path+": "+tc.want)
		})
	}
}

// wantError fails unless err is one line starting with want.
func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Contains(msg, "\n") {
		t.Fatalf("error\n  %s\nwant\n  %s", msg, want)
	}
}

func TestReadNPZMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.npz")
	_, err := readNPZ(path, nil)
	wantError(t, err, path+": cannot open: no such file or directory")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the error does not unwrap to the os error: %#v", err)
	}
	_, err = readNPZ(t.TempDir(), nil)
	wantError(t, err, "")
	if !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("error %q for a directory", err)
	}
}

// TestReadNPZTruncated reads every prefix of every good file: each must give
// a one-line error naming the file (or, for the few prefixes archive/zip
// can still read, the full data set), never a panic.
func TestReadNPZTruncated(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "good", "*.npz"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			name := fmt.Sprintf("%s[:%d]", filepath.Base(path), n)
			d, err := decodeNPZ(name, bytes.NewReader(b[:n]), int64(n), nil)
			if err == nil {
				t.Fatalf("%s: read %d sequences from a truncated file", name, d.N())
			}
			if msg := err.Error(); !strings.HasPrefix(msg, name+": ") || strings.Contains(msg, "\n") {
				t.Fatalf("%s: error %q", name, msg)
			}
		}
	}
}

// TestReadNPZCorrupt flips each byte of a stored (uncompressed) archive in
// turn: the reader must refuse or return a well-formed data set, never
// panic; a flipped byte in x's data must be caught by the CRC.
func TestReadNPZCorrupt(t *testing.T) {
	path := filepath.Join(fixtures, "good", "f32_i64_f64y.npz")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	good, err := readNPZ(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := make([]byte, len(b))
	for i := range b {
		copy(c, b)
		c[i] ^= 0x5a
		d, err := decodeNPZ("c.npz", bytes.NewReader(c), int64(len(c)), nil)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "c.npz: ") || strings.Contains(msg, "\n") {
				t.Fatalf("byte %d: error %q", i, msg)
			}
			continue
		}
		d.check("corrupt")
		if !d.Equal(good) {
			t.Fatalf("byte %d flipped: read different data without an error", i)
		}
	}
	// The last float32 of x's data: the flip must be caught by the CRC.
	i := bytes.Index(b, []byte("y.npy")) - 30 - 1 // just before y's local header
	copy(c, b)
	c[i] ^= 1
	_, err = decodeNPZ("c.npz", bytes.NewReader(c), int64(len(c)), nil)
	wantError(t, err, "c.npz: x: not a readable array: checksum error")
}

// npyBytes encodes an .npy array with the given header dictionary and data.
func npyBytes(dict string, data []byte) []byte {
	hdr := dict + strings.Repeat(" ", 64-(10+len(dict)+1)%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	b.Write(data)
	return b.Bytes()
}

// zipBytes stores the entries (name, content) uncompressed.
func zipBytes(t testing.TB, entries ...[2][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: string(e[0]), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func entry(name string, b []byte) [2][]byte { return [2][]byte{[]byte(name), b} }

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// TestReadNPZHeaders feeds hand-made headers, including lying ones.
func TestReadNPZHeaders(t *testing.T) {
	y := entry("y.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32bytes(1)))
	x := func(dict string, data []byte) [2][]byte { return entry("x.npy", npyBytes(dict, data)) }
	for _, tc := range []struct {
		name    string
		archive []byte
		want    string
	}{
		{"huge shape", zipBytes(t, x("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000, 1000), }", f32bytes(1, 2)), y),
			`h.npz: x: not a readable array: shape [1000000, 1000000, 1000] of float32 needs 4000000000000000 bytes, the entry holds 8`},
		{"overflowing shape", zipBytes(t, x("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 8), }", nil), y),
			`h.npz: x: not a readable array: shape [4294967296, 4294967296, 8] is too large`},
		{"short data", zipBytes(t, x("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 3), }", f32bytes(1, 2)), y),
			`h.npz: x: not a readable array: shape [1, 1, 3] of float32 needs 12 bytes, the entry holds 8`},
		{"negative dim", zipBytes(t, x("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -1, 3), }", nil), y),
			`h.npz: x: not a readable array: negative dimension in shape [1, -1, 3]`},
		{"scrambled dict", zipBytes(t, x("{'shape': (1, 1, 1), 'fortran_order': False, 'descr': '<f4', }", f32bytes(1)), y),
			`h.npz: x: not a readable array: malformed header`},
		{"bad magic", zipBytes(t, entry("x.npy", []byte("\x93NUMPX\x01\x00\x10\x00{}              \n")), y),
			`h.npz: x: not a readable array: not an .npy array (bad magic bytes)`},
		{"version 3", zipBytes(t, entry("x.npy", []byte("\x93NUMPY\x03\x00\x10\x00\x00\x00{}            \n")), y),
			`h.npz: x: not a readable array: unsupported .npy format version 3.0`},
		{"huge header", zipBytes(t, entry("x.npy", []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}")), y),
			`h.npz: x: not a readable array: header of 2147483647 bytes in an entry of 14`},
		{"empty entry", zipBytes(t, entry("x.npy", nil), y),
			`h.npz: x: not a readable array: truncated header (EOF)`},
		{"missing y", zipBytes(t, x("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1), }", f32bytes(1))),
			`h.npz: missing array "y" (found: x)`},
		{"empty archive", zipBytes(t), `h.npz: missing array "x" (the archive is empty)`},
		{"no steps", zipBytes(t, x("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 0, 3), }", nil), y),
			`h.npz: x has no steps (shape [1, 0, 3])`},
		{"no features", zipBytes(t, x("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 0), }", nil), y),
			`h.npz: x has no features (shape [1, 2, 0])`},
		{"float16 x", zipBytes(t, x("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 1, 1), }", []byte{0, 0}), y),
			`h.npz: x has dtype float16, want float32 or float64`},
		{"20 bytes", []byte("PK\x05\x06" + strings.Repeat("\xff", 16)), `h.npz: not a readable NPZ file: not a valid zip file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := decodeNPZ("h.npz", bytes.NewReader(tc.archive), int64(len(tc.archive)), nil)
			runtime.ReadMemStats(&after)
			wantError(t, err, tc.want)
			if a := after.TotalAlloc - before.TotalAlloc; a > 4<<20 {
				t.Errorf("allocated %d bytes to refuse a %d-byte file", a, len(tc.archive))
			}
		})
	}
}

// TestReadNPZLyingDirectory builds an archive whose directory claims a huge
// uncompressed size for a tiny stored entry: refused before allocating.
func TestReadNPZLyingDirectory(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	body := npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000, 1000), }", f32bytes(1))
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "x.npy", Method: zip.Store, CompressedSize64: uint64(len(body)), UncompressedSize64: 4e9 + 64})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	zw.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = decodeNPZ("l.npz", bytes.NewReader(b.Bytes()), int64(b.Len()), nil)
	runtime.ReadMemStats(&after)
	wantError(t, err, "l.npz: x: not a readable array: the archive claims 4000000064 bytes compressed into 132")
	if a := after.TotalAlloc - before.TotalAlloc; a > 4<<20 {
		t.Errorf("allocated %d bytes", a)
	}
}

// TestNPZRoundTrip writes data sets and reads them back equal, for one and
// several labels, and checks the file with NumPy's dtype and shape rules.
func TestNPZRoundTrip(t *testing.T) {
	for _, k := range []int{1, 3} {
		d := Synth(SynthOptions{N: 40, MinLen: 1, MaxLen: 9, F: 2, K: k, Seed: 7, PosRate: 0.4})
		path := filepath.Join(t.TempDir(), "d.npz")
		if err := WriteNPZ(path, d); err != nil {
			t.Fatal(err)
		}
		e, err := readNPZ(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Equal(e) {
			t.Fatalf("K=%d: data changed through WriteNPZ and readNPZ", k)
		}
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		zr.Close()
		if got := strings.Join(names, " "); got != "x.npy lengths.npy y.npy" {
			t.Errorf("entries %q", got)
		}
	}
	var empty Dataset
	empty.F, empty.K = 1, 1
	err := WriteNPZ(filepath.Join(t.TempDir(), "e.npz"), &empty)
	if err == nil || !strings.Contains(err.Error(), "no sequences") {
		t.Errorf("writing no sequences: %v", err)
	}
}

// bombEntry is an archive entry for the tests of hostile archives: an .npy
// header followed by zeros bytes of zero data, Deflate-compressed, which
// the archive's directory describes honestly unless claim is set.
type bombEntry struct {
	name  string
	dict  string
	zeros int64
	// claim, when set, is the uncompressed size the directory states
	// instead of the true one; pad appends that many junk bytes after the
	// Deflate stream, for a directory that must look like it holds a huge
	// array (the reader must refuse before it reaches them).
	claim, pad int64
	store      bool // store the bytes instead of compressing them
}

// bombArchive builds a zip archive of the entries in memory, streaming the
// zeros through the compressor so that building a bomb of hundreds of
// megabytes costs little.
func bombArchive(t testing.TB, entries ...bombEntry) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, e := range entries {
		body, crc, size := bombBody(t, e)
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(size)}
		if e.store {
			fh.Method = zip.Store
		}
		if e.claim > 0 {
			fh.UncompressedSize64 = uint64(e.claim)
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// bombBody returns e's stored bytes, the CRC-32 of its uncompressed bytes
// and their count.
func bombBody(t testing.TB, e bombEntry) (body []byte, crc uint32, size int64) {
	t.Helper()
	var b bytes.Buffer
	var w io.Writer = &b
	var fw *flate.Writer
	if !e.store {
		fw, _ = flate.NewWriter(&b, flate.BestSpeed)
		w = fw
	}
	h := crc32.NewIEEE()
	w = io.MultiWriter(w, h)
	hdr := npyBytes(e.dict, nil)
	w.Write(hdr)
	zeros := make([]byte, 1<<20)
	for left := e.zeros; left > 0; left -= int64(len(zeros)) {
		w.Write(zeros[:min(left, int64(len(zeros)))])
	}
	if fw != nil {
		fw.Close()
	}
	b.Write(make([]byte, e.pad))
	return b.Bytes(), h.Sum32(), int64(len(hdr)) + e.zeros
}

// allocated runs f and returns the bytes it allocated on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestNPZDeflateBombRefusedBeforeDecompressing: an archive of a few hundred
// kilobytes that inflates to hundreds of megabytes (or claims gigabytes)
// is refused from its headers, with a few megabytes allocated at most.
func TestNPZDeflateBombRefusedBeforeDecompressing(t *testing.T) {
	const mostAlloc = 4 << 20
	f4 := func(shape string) string {
		return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }"
	}
	const xBomb = 128 << 20 // (2048, 4096, 4) float32 zeros
	y2048 := bombEntry{name: "y.npy", dict: f4("(2048,)"), zeros: 2048 * 4}
	schema := &Schema{Features: 3, Labels: 1}
	for _, tc := range []struct {
		name    string
		entries []bombEntry
		env     string // TRNN_MAX_FILE_BYTES, when set
		want    string
	}{
		{"features differ from the spec",
			[]bombEntry{{name: "x.npy", dict: f4("(2048, 4096, 4)"), zeros: xBomb}, y2048},
			"", "b.npz: x has 4 features per step, the spec declares 3"},
		{"labels differ from the spec",
			[]bombEntry{{name: "x.npy", dict: f4("(2048, 4096, 3)"), zeros: xBomb / 4 * 3},
				{name: "y.npy", dict: f4("(2048, 2)"), zeros: 2048 * 2 * 4}},
			"", "b.npz: y has 2 labels per sequence, the spec declares 1"},
		{"megabytes behind a small header",
			[]bombEntry{{name: "x.npy", dict: f4("(1, 1, 3)"), zeros: 64 << 20, claim: 128 + 12},
				{name: "y.npy", dict: f4("(1,)"), zeros: 4}},
			"", "b.npz: x: not a readable array: more data than its header declares (shape [1, 1, 3] of float32)"},
		{"megabytes stored behind a small header",
			[]bombEntry{{name: "x.npy", dict: f4("(1, 1, 3)"), zeros: 8 << 20, claim: 128 + 12, store: true},
				{name: "y.npy", dict: f4("(1,)"), zeros: 4}},
			"", "b.npz: x: not a readable array: more data than its header declares (shape [1, 1, 3] of float32)"},
		{"huge declared shape",
			[]bombEntry{{name: "x.npy", dict: f4("(1000, 1000, 1000)"), claim: 128 + 4e9, pad: 4e9 / 1000},
				{name: "y.npy", dict: f4("(1000,)"), zeros: 4000}},
			"", "b.npz: x: shape [1000, 1000, 1000] of float32 holds 3.7 GiB, over the 2.0 GiB limit on what trnn reads (set TRNN_MAX_FILE_BYTES to raise it)"},
		{"more elements than any tensor",
			[]bombEntry{{name: "x.npy", dict: f4("(1, 1, 2147483648)"), claim: 128 + 8<<30, pad: 9 << 20},
				{name: "y.npy", dict: f4("(1,)"), zeros: 4}},
			"32000000000", "b.npz: x: not a readable array: shape [1, 1, 2147483648] has more than 2147483647 elements"},
		{"over a lowered limit",
			[]bombEntry{{name: "x.npy", dict: f4("(2048, 4096, 3)"), zeros: xBomb / 4 * 3}, y2048},
			"1048576", "b.npz: x: shape [2048, 4096, 3] of float32 holds 96.0 MiB, over the 1.0 MiB limit on what trnn reads (set TRNN_MAX_FILE_BYTES to raise it)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(fileio.EnvMaxBytes, tc.env)
			}
			archive := bombArchive(t, tc.entries...)
			var err error
			a := allocated(func() { _, err = decodeNPZ("b.npz", bytes.NewReader(archive), int64(len(archive)), schema) })
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error\n  %v\nwant\n  %s", err, tc.want)
			}
			t.Logf("allocated %s to refuse a %s archive", fileio.Bytes(int64(a)), fileio.Bytes(int64(len(archive))))
			if a > mostAlloc {
				t.Errorf("allocated %s to refuse a %s archive", fileio.Bytes(int64(a)), fileio.Bytes(int64(len(archive))))
			}
		})
	}

	// Through Load, from a file on disk: the spec's counts are checked from
	// the headers.
	path := filepath.Join(t.TempDir(), "b.npz")
	archive := bombArchive(t, bombEntry{name: "x.npy", dict: f4("(2048, 4096, 4)"), zeros: xBomb}, y2048)
	if err := os.WriteFile(path, archive, 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	a := allocated(func() { _, err = Load(path, countSchema()) })
	wantError(t, err, path+": x has 4 features per step, the spec declares 3")
	if a > mostAlloc {
		t.Errorf("Load allocated %s to refuse a %s file", fileio.Bytes(int64(a)), fileio.Bytes(int64(len(archive))))
	}
}

// TestNPZBombWithinLimitsReads: the same kind of archive, when its shape
// agrees with the spec and stays within the limits, is data and reads.
func TestNPZBombWithinLimitsReads(t *testing.T) {
	archive := bombArchive(t,
		bombEntry{name: "x.npy", dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (64, 1024, 3), }", zeros: 64 * 1024 * 3 * 4},
		bombEntry{name: "y.npy", dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (64,), }", zeros: 64})
	d, err := decodeNPZ("z.npz", bytes.NewReader(archive), int64(len(archive)), &Schema{Features: 3, Labels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.N() != 64 || d.MaxLen() != 1024 || d.Steps() != 64*1024 {
		t.Errorf("N %d, MaxLen %d, Steps %d", d.N(), d.MaxLen(), d.Steps())
	}
}

// TestNPZDuplicateEntryRefused: NumPy reads the last of two entries of one
// name, other readers the first; the file is refused rather than read
// either way.
func TestNPZDuplicateEntryRefused(t *testing.T) {
	y := entry("y.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32bytes(1)))
	x := func(name string, v float32) [2][]byte {
		return entry(name, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1), }", f32bytes(v)))
	}
	for _, tc := range []struct {
		name    string
		archive []byte
		want    string
	}{
		{"two x.npy", zipBytes(t, x("x.npy", 1), y, x("x.npy", 2)), `d.npz: entry "x.npy" appears twice in the archive`},
		{"two y.npy", zipBytes(t, y, x("x.npy", 1), y), `d.npz: entry "y.npy" appears twice in the archive`},
		{"x and x.npy", zipBytes(t, x("x.npy", 1), x("x", 2), y), `d.npz: entries "x.npy" and "x" both hold array "x"`},
		{"an unread array twice", zipBytes(t, x("x.npy", 1), y, entry("a.npy", nil), entry("a.npy", nil)), `d.npz: entry "a.npy" appears twice in the archive`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeNPZ("d.npz", bytes.NewReader(tc.archive), int64(len(tc.archive)), nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "dup.npz")
	if err := os.WriteFile(path, zipBytes(t, x("x.npy", 1), y, x("x.npy", 2)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := readNPZ(path, nil)
	wantError(t, err, path+`: entry "x.npy" appears twice in the archive`)
}
