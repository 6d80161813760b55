package data

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npy/float16"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/fileio"
)

// Shapes: N sequences, T steps (x's second dimension), F features, K labels.

// readNPZ reads an NPZ data file: x float32 or float64 [N, T, F], lengths
// of any integer dtype [N] (optional: every sequence has T steps when
// absent), y [N] or [N, K] of 0/1 in any numeric dtype or bool (y [N] means
// K = 1; float16 included), or of class indices or real targets as
// want.Target says, or with want.PerStep y [N, T] or [N, T, K] with NaN
// where a step has no label. y is read as want.LabelMode says: a file
// without it gives a Dataset with Y nil and K = want.Labels.
// Other arrays in the archive are ignored. Values of x past a sequence's
// length are not read; ±Inf and float64 values beyond float32's range are
// refused in valid steps, and so is NaN unless want.Missing; a categorical
// feature's value must be a category's index.
//
// The file must be a regular file within fileio.MaxBytes, and no array may
// declare more data than that limit or more than graph.MaxElements
// elements. Two entries holding one array are refused, since NumPy would
// read the last and another reader the first. x's feature count and y's
// label count are checked against want, when not nil, as soon as their
// headers are read: a small file declaring gigabytes of the wrong shape is
// refused before its data is inflated.
func readNPZ(path string, want *Schema) (*Dataset, error) {
	f, size, err := openData(path, "an NPZ file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeNPZ(path, f, size, want)
}

// Limits on what an array header may claim; each is checked before
// anything is allocated.
const (
	// maxHeaderLen bounds an .npy header's dictionary (NumPy writes about
	// 120 bytes and itself refuses more than 10000 by default).
	maxHeaderLen = 1 << 16
	// maxDeflateRatio bounds the size a Deflate stream can expand to per
	// byte stored: Deflate's limit is about 1032.
	maxDeflateRatio = 1040
)

// decodeNPZ reads an NPZ archive of size bytes from r; name is the file
// name used in messages. Every array's header is checked, against the
// others, against want (when not nil) and against the bytes the archive
// holds, before any data is read.
func decodeNPZ(name string, r io.ReaderAt, size int64, want *Schema) (*Dataset, error) {
	limit, err := fileio.MaxBytes()
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, &Error{File: name, Msg: "not a readable NPZ file: " + trimPkg(err), Err: err}
	}
	rd := npzReader{name: name, size: size, limit: limit}
	defer rd.closeAll()
	if err := rd.index(zr); err != nil {
		return nil, err
	}
	xa, err := rd.openX()
	if err != nil {
		return nil, err
	}
	N, F := xa.shape[0], xa.shape[2]
	if want != nil {
		if err := want.countError(name, npzFeatures, F, false); err != nil {
			return nil, err
		}
	}
	ya, K, err := rd.openLabels(N, xa.shape[1], want)
	if err != nil {
		return nil, err
	}
	if want != nil && ya != nil {
		if err := rd.checkLabelCount(ya, K, xa.shape[1], want); err != nil {
			return nil, err
		}
	}
	la, err := rd.openLengths(N)
	if err != nil {
		return nil, err
	}
	return rd.read(xa, ya, la, K, want)
}

// checkLabelCount checks y's label count against want's. A y of shape
// [N, T] read as per-sequence labels is most likely per-step labels, which
// the message then points to.
func (rd *npzReader) checkLabelCount(ya *npyArray, K, T int, want *Schema) error {
	what := npzLabels
	if want.PerStep {
		what = npzStepLabels
	}
	err := want.countError(rd.name, what, K, true)
	if e, ok := err.(*Error); ok && !want.PerStep && len(ya.shape) == 2 && K == T {
		e.Msg += fmt.Sprintf("; y's shape %s matches x's steps: per-step labels need outputs.per_step: true", graph.FormatShape(ya.shape))
	}
	return err
}

// read reads the data of arrays whose headers all agree, smallest arrays
// first.
func (rd *npzReader) read(xa, ya, la *npyArray, K int, want *Schema) (*Dataset, error) {
	N, T, F := xa.shape[0], xa.shape[1], xa.shape[2]
	lengths, err := rd.readLengths(la, N, T)
	if err != nil {
		return nil, err
	}
	if want == nil {
		want = &Schema{}
	}
	d := &Dataset{Source: rd.name, F: F, K: K, X: make([][]float32, N), Target: want.Target}
	if ya != nil {
		if err := rd.readLabels(ya, d, lengths, T, want); err != nil {
			return nil, err
		}
	}
	total := 0
	for _, l := range lengths {
		total += l * F
	}
	store := make([]float32, total)
	off := 0
	for i, l := range lengths {
		d.X[i] = store[off : off+l*F : off+l*F]
		off += l * F
	}
	if err := rd.readX(xa, d, lengths, T, want); err != nil {
		return nil, err
	}
	return d, nil
}

// index lists the archive's arrays by name (without ".npy"), skipping
// folders. Two entries of one array are refused: NumPy reads the last,
// other readers the first, so the file means different data to each.
func (rd *npzReader) index(zr *zip.Reader) error {
	rd.entries = map[string]*zip.File{}
	for _, f := range zr.File {
		key := strings.TrimSuffix(f.Name, ".npy")
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if prev := rd.entries[key]; prev != nil {
			if prev.Name == f.Name {
				return rd.errf("", "entry %s appears twice in the archive", quote(f.Name))
			}
			return rd.errf("", "entries %s and %s both hold array %s", quote(prev.Name), quote(f.Name), quote(key))
		}
		rd.entries[key] = f
		rd.found = append(rd.found, echo(key))
	}
	return nil
}

// openEntry opens the array key, or reports it missing with the arrays the
// archive does hold.
func (rd *npzReader) openEntry(key string) (*npyArray, error) {
	f := rd.entries[key]
	if f == nil {
		list := "the archive is empty"
		if len(rd.found) > 0 {
			list = "found: " + strings.Join(rd.found, ", ")
		}
		return nil, &Error{File: rd.name, Msg: fmt.Sprintf("missing array %q (%s)", key, list)}
	}
	return rd.open(key, f)
}

// openX opens x [N, T, F], float32 or float64, with no dimension 0.
func (rd *npzReader) openX() (*npyArray, error) {
	xa, err := rd.openEntry("x")
	if err != nil {
		return nil, err
	}
	if len(xa.shape) != 3 {
		return nil, rd.errf("", "x has %d dimensions, want 3 [sequences, steps, features]", len(xa.shape))
	}
	if xa.kind != 'f' || (xa.size != 4 && xa.size != 8) {
		return nil, rd.errf("", "x has dtype %s, want float32 or float64", xa.dtypeName())
	}
	switch {
	case xa.shape[0] == 0:
		return nil, rd.errf("", "x has no sequences (shape %s)", graph.FormatShape(xa.shape))
	case xa.shape[1] == 0:
		return nil, rd.errf("", "x has no steps (shape %s)", graph.FormatShape(xa.shape))
	case xa.shape[2] == 0:
		return nil, rd.errf("", "x has no features (shape %s)", graph.FormatShape(xa.shape))
	}
	return xa, nil
}

// openLabels opens y as want's LabelMode says, returning nil and want's
// label count when y is not read: ignored, or optional and absent.
func (rd *npzReader) openLabels(N, T int, want *Schema) (*npyArray, int, error) {
	if want != nil {
		switch want.LabelMode {
		case LabelsIgnored:
			return nil, want.Labels, nil
		case LabelsOptional:
			if rd.entries["y"] == nil {
				return nil, want.Labels, nil
			}
		}
	}
	if want != nil && want.PerStep {
		return rd.openStepY(N, T)
	}
	return rd.openY(N)
}

// openY opens y, [N] (K = 1) or [N, K]. Every dtype parseDescr accepts is
// numeric or bool: all are fine for labels.
func (rd *npzReader) openY(N int) (ya *npyArray, K int, err error) {
	if ya, err = rd.openEntry("y"); err != nil {
		return nil, 0, err
	}
	K = 1
	switch len(ya.shape) {
	case 1:
	case 2:
		K = ya.shape[1]
		if K == 0 {
			return nil, 0, rd.errf("", "y has no labels (shape %s)", graph.FormatShape(ya.shape))
		}
	case 3:
		return nil, 0, rd.errf("", "y has 3 dimensions, want 1 [sequences] or 2 [sequences, labels]; per-step labels [sequences, steps, labels] need outputs.per_step: true")
	default:
		return nil, 0, rd.errf("", "y has %d dimensions, want 1 [sequences] or 2 [sequences, labels]", len(ya.shape))
	}
	if ya.shape[0] != N {
		return nil, 0, rd.errf("", "y has %d rows, x has %d sequences", ya.shape[0], N)
	}
	return ya, K, nil
}

// openStepY opens per-step labels y, [N, T] (K = 1) or [N, T, K], T being
// x's steps.
func (rd *npzReader) openStepY(N, T int) (ya *npyArray, K int, err error) {
	if ya, err = rd.openEntry("y"); err != nil {
		return nil, 0, err
	}
	K = 1
	switch len(ya.shape) {
	case 2:
	case 3:
		K = ya.shape[2]
		if K == 0 {
			return nil, 0, rd.errf("", "y has no labels (shape %s)", graph.FormatShape(ya.shape))
		}
	default:
		return nil, 0, rd.errf("", "y has %d dimensions, want per-step labels (outputs.per_step): 2 [sequences, steps] or 3 [sequences, steps, labels]", len(ya.shape))
	}
	switch {
	case ya.shape[0] != N:
		return nil, 0, rd.errf("", "y has %d rows, x has %d sequences", ya.shape[0], N)
	case ya.shape[1] != T:
		return nil, 0, rd.errf("", "y has %d steps, x has %d: per-step labels follow x's steps", ya.shape[1], T)
	}
	return ya, K, nil
}

// openLengths opens the optional lengths [N] of an integer dtype; nil when
// the archive has none.
func (rd *npzReader) openLengths(N int) (*npyArray, error) {
	if rd.entries["lengths"] == nil {
		return nil, nil
	}
	la, err := rd.openEntry("lengths")
	if err != nil {
		return nil, err
	}
	if len(la.shape) != 1 {
		return nil, rd.errf("", "lengths has %d dimensions, want 1 [sequences]", len(la.shape))
	}
	if la.shape[0] != N {
		return nil, rd.errf("", "lengths has %d entries, x has %d sequences", la.shape[0], N)
	}
	if la.kind != 'i' && la.kind != 'u' {
		return nil, rd.errf("", "lengths has dtype %s, want an integer type", la.dtypeName())
	}
	return la, nil
}

// readLengths reads la's values, each in [1, T]; without la every sequence
// has T steps.
func (rd *npzReader) readLengths(la *npyArray, N, T int) ([]int, error) {
	lengths := make([]int, N)
	if la == nil {
		for i := range lengths {
			lengths[i] = T
		}
		return lengths, nil
	}
	li, err := rd.readInts(la)
	if err != nil {
		return nil, err
	}
	for i := range N {
		v, ok := li.int(i)
		if !ok || v < 1 || v > int64(T) {
			return nil, rd.errf(fmt.Sprintf("lengths[%d]", i), "must be in [1, %d], got %s", T, li.text(i))
		}
		lengths[i] = int(v)
	}
	return lengths, nil
}

// readX reads x in its dtype and copies the valid steps into d.X, which
// must already have each sequence's length.
func (rd *npzReader) readX(xa *npyArray, d *Dataset, lengths []int, T int, want *Schema) error {
	if xa.size == 4 {
		raw, err := readAll[float32](rd, xa)
		if err != nil {
			return err
		}
		return compactX(rd, d, lengths, T, raw, want)
	}
	raw, err := readAll[float64](rd, xa)
	if err != nil {
		return err
	}
	return compactX(rd, d, lengths, T, raw, want)
}

// compactX copies the valid steps of raw (x, [N·T·F] in C order) into d.X,
// refusing there what xValue refuses.
func compactX[E float32 | float64](rd *npzReader, d *Dataset, lengths []int, T int, raw []E, want *Schema) error {
	F := d.F
	cats := make([]int, F) // categories of each feature; 0 for a numeric one
	for f, c := range want.Categories {
		if f < F {
			cats[f] = len(c)
		}
	}
	for i, l := range lengths {
		src := raw[i*T*F : i*T*F+l*F]
		dst := d.X[i]
		for j, v := range src {
			w := float32(v)
			if msg := xValue(float64(v), w, want.Missing, cats[j%F]); msg != "" {
				t, f := j/F, j%F
				if cats[f] > 0 && msg == errCategory {
					return rd.errf(fmt.Sprintf("x[%d, %d, %d]", i, t, f), "categorical feature %s has %d categories: want an index from 0 to %d, got %s",
						featureName(want, f), cats[f], cats[f]-1, strconv.FormatFloat(float64(v), 'g', -1, 64))
				}
				return rd.errf(fmt.Sprintf("x[%d, %d, %d]", i, t, f), "%s in a valid step (sequence %d has %d steps)%s", msg, i, l, missingHint(msg))
			}
			dst[j] = w
		}
	}
	return nil
}

// errCategory is xValue's report of a value that is no category's index.
const errCategory = "category"

// xValue checks one valid value of x, v as stored and w as read: it
// returns what v is when v is refused ("NaN", "+Inf", ...), errCategory
// for a value of a feature with C > 0 categories that is not the index of
// one, or "". NaN is a missing value, allowed with missing.
func xValue(v float64, w float32, missing bool, C int) string {
	switch {
	case v != v:
		if missing {
			return ""
		}
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsInf(float64(w), 0):
		return strconv.FormatFloat(v, 'g', -1, 64) + " (beyond float32's range)"
	case C > 0 && (v != math.Trunc(v) || v < 0 || v >= float64(C)):
		return errCategory
	}
	return ""
}

// missingHint tells how to allow NaN in x.
func missingHint(what string) string {
	if what == "NaN" {
		return "; " + refuseMissing
	}
	return ""
}

// featureName names feature f for a message: its column name when the
// schema has one, else its index.
func featureName(s *Schema, f int) string {
	if f < len(s.Columns.Features) {
		return quote(s.Columns.Features[f])
	}
	return strconv.Itoa(f)
}

// npzReader reads the arrays of one archive.
type npzReader struct {
	name    string // file name for messages
	size    int64  // the archive's size in bytes
	limit   int64  // the most data one array may declare, fileio.MaxBytes
	entries map[string]*zip.File
	found   []string // the arrays' names, printable, for messages
	opened  []io.Closer
}

// closeAll closes every entry opened, read or not (closing twice is
// harmless).
func (rd *npzReader) closeAll() {
	for _, c := range rd.opened {
		c.Close()
	}
}

func (rd *npzReader) errf(where, format string, args ...any) *Error {
	return &Error{File: rd.name, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// npyArray is an array entry whose header has been read and checked: its
// data, n elements of size bytes, are next in rr.
type npyArray struct {
	key     string
	kind    byte // 'b' bool, 'i' signed, 'u' unsigned, 'f' float, 0 other
	size    int  // bytes per element
	shape   []int
	n       int  // elements
	fortran bool // column-major on disk
	rr      *npy.Reader
	descr   string
	body    *entryBody
	// data is the entry past its header, limited to the n·size bytes the
	// header declares plus one: the byte that shows there is more.
	data *io.LimitedReader
}

func (a *npyArray) dtypeName() string {
	switch a.kind {
	case 'b':
		return "bool"
	case 'i':
		return fmt.Sprintf("int%d", 8*a.size)
	case 'u':
		return fmt.Sprintf("uint%d", 8*a.size)
	case 'f':
		return fmt.Sprintf("float%d", 8*a.size)
	}
	return quote(a.descr)
}

// entryBody is an archive entry's decompressed bytes. The package inflates
// entries itself rather than through zip.File.Open, whose only bound is the
// size the archive's directory claims: here what bounds the data is the
// array's own header (npyArray.data), and the checksum covers every byte
// inflated.
type entryBody struct {
	*bufio.Reader
	crc  hash.Hash32
	want uint32 // the checksum the archive's directory holds
}

// openBody opens f's bytes, inflated if they are compressed. NumPy writes
// stored entries (savez) and Deflate ones (savez_compressed).
func (rd *npzReader) openBody(f *zip.File) (*entryBody, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	var src io.Reader
	switch f.Method {
	case zip.Store:
		src = raw
	case zip.Deflate:
		fr := flate.NewReader(raw)
		rd.opened = append(rd.opened, fr)
		src = fr
	default:
		return nil, fmt.Errorf("unsupported compression method %d (want stored or Deflate)", f.Method)
	}
	b := &entryBody{crc: crc32.NewIEEE(), want: f.CRC32}
	b.Reader = bufio.NewReaderSize(io.TeeReader(src, b.crc), 64<<10)
	return b, nil
}

// open reads and checks the header of the array key stored in f, leaving
// the entry open at its data. Every size the header claims is checked
// against the bytes the archive holds, and against the limits on what trnn
// reads, before anything is allocated.
func (rd *npzReader) open(key string, f *zip.File) (a *npyArray, err error) {
	bad := func(format string, args ...any) *Error {
		return rd.errf(key, "not a readable array: "+format, args...)
	}
	if f.CompressedSize64 > uint64(rd.size) {
		return nil, bad("the archive claims %d bytes stored in a file of %d", f.CompressedSize64, rd.size)
	}
	if f.UncompressedSize64 > f.CompressedSize64*maxDeflateRatio+1024 {
		return nil, bad("the archive claims %d bytes compressed into %d", f.UncompressedSize64, f.CompressedSize64)
	}
	body, err := rd.openBody(f)
	if err != nil {
		return nil, bad("%s", trimPkg(err))
	}
	hdr, err := readHeader(body, f.UncompressedSize64)
	if err != nil {
		return nil, bad("%s", err)
	}
	data := &io.LimitedReader{R: body} // its limit is set once the header is parsed
	rr, err := newNPYReader(io.MultiReader(bytes.NewReader(hdr), data))
	if err != nil {
		return nil, bad("malformed header (%s)", trimPkg(err))
	}
	a = &npyArray{key: key, shape: rr.Header.Descr.Shape, fortran: rr.Header.Descr.Fortran, rr: rr, body: body, data: data}
	a.descr = strings.Trim(strings.TrimSpace(rr.Header.Descr.Type), `'"`)
	a.kind, a.size = parseDescr(a.descr)
	if a.kind == 0 {
		return nil, rd.errf("", "%s has dtype %s, which trnn does not read (want bool, integers or floats)", key, a.dtypeName())
	}
	need, err := rd.checkShape(a, f.UncompressedSize64-uint64(len(hdr)))
	if err != nil {
		return nil, err
	}
	data.N = int64(need) + 1
	return a, nil
}

// readHeader reads an .npy preamble (magic, version, header length; NEP 1)
// and the header dictionary after it from an entry of size bytes, and
// returns both.
func readHeader(br *entryBody, size uint64) ([]byte, error) {
	var pre [12]byte
	if _, err := io.ReadFull(br, pre[:10]); err != nil {
		return nil, fmt.Errorf("truncated header (%s)", trimPkg(err))
	}
	if !bytes.Equal(pre[:6], npy.Magic[:]) {
		return nil, errors.New("not an .npy array (bad magic bytes)")
	}
	preLen, hdrLen := 10, 0
	switch pre[6] {
	case 1:
		hdrLen = int(binary.LittleEndian.Uint16(pre[8:10]))
	case 2:
		if _, err := io.ReadFull(br, pre[10:12]); err != nil {
			return nil, fmt.Errorf("truncated header (%s)", trimPkg(err))
		}
		preLen = 12
		hdrLen = int(binary.LittleEndian.Uint32(pre[8:12]))
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d", pre[6], pre[7])
	}
	if hdrLen > maxHeaderLen || uint64(preLen+hdrLen) > size {
		return nil, fmt.Errorf("header of %d bytes in an entry of %d", hdrLen, size)
	}
	hdr := make([]byte, preLen+hdrLen)
	copy(hdr, pre[:preLen])
	if _, err := io.ReadFull(br, hdr[preLen:]); err != nil {
		return nil, fmt.Errorf("truncated header (%s)", trimPkg(err))
	}
	if hdrLen == 0 || hdr[len(hdr)-1] != '\n' {
		return nil, errors.New("malformed header (no final newline)")
	}
	return hdr, nil
}

// checkShape checks a's shape and returns the bytes of data it declares:
// no negative dimension, as many bytes as the archive's directory says the
// entry holds past its header (dataSize), at most graph.MaxElements
// elements and at most rd.limit bytes. It sets a.n.
func (rd *npzReader) checkShape(a *npyArray, dataSize uint64) (uint64, error) {
	bad := func(format string, args ...any) *Error {
		return rd.errf(a.key, "not a readable array: "+format, args...)
	}
	n := uint64(1)
	for _, d := range a.shape {
		if d < 0 {
			return 0, bad("negative dimension in shape %s", graph.FormatShape(a.shape))
		}
		hi, lo := mulOverflow(n, uint64(d))
		if hi {
			return 0, bad("shape %s is too large", graph.FormatShape(a.shape))
		}
		n = lo
	}
	hi, need := mulOverflow(n, uint64(a.size))
	if hi || need != dataSize {
		return 0, bad("shape %s of %s needs %s bytes, the entry holds %d",
			graph.FormatShape(a.shape), a.dtypeName(), bytesNeeded(n, a.size), dataSize)
	}
	// The directory agrees with the header, but both are the file's word: a
	// few megabytes of Deflate can claim gigabytes.
	if _, err := graph.CheckedSize(a.shape); err != nil {
		return 0, bad("%s", err)
	}
	if need > uint64(rd.limit) {
		return 0, rd.errf(a.key, "shape %s of %s holds %s, over the %s limit on what trnn reads (set %s to raise it)",
			graph.FormatShape(a.shape), a.dtypeName(), fileio.Bytes(int64(need)), fileio.Bytes(rd.limit), fileio.EnvMaxBytes)
	}
	a.n = int(n)
	return need, nil
}

// newNPYReader parses an .npy header through npyio, turning a panic of its
// parser on a malformed header into an error.
func newNPYReader(r io.Reader) (rr *npy.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			rr, err = nil, errors.New("unparsable dictionary")
		}
	}()
	return npy.NewReader(r)
}

// parseDescr reads a NumPy dtype string such as "<f4" or "|b1". Only
// non-structured little- or big-endian numbers and bools are accepted;
// kind is 0 otherwise.
func parseDescr(s string) (kind byte, size int) {
	if s != "" && strings.IndexByte("<>|=", s[0]) >= 0 {
		s = s[1:]
	}
	if len(s) < 2 {
		return 0, 0
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil {
		return 0, 0
	}
	switch {
	case s[0] == 'b' && n == 1:
		return 'b', 1
	case (s[0] == 'i' || s[0] == 'u') && (n == 1 || n == 2 || n == 4 || n == 8):
		return s[0], n
	case s[0] == 'f' && (n == 2 || n == 4 || n == 8):
		return 'f', n
	}
	return 0, 0
}

// readAll reads a's n elements of type E (which must match a's dtype) in C
// order, then checks that the entry ends there and its checksum.
func readAll[E any](rd *npzReader, a *npyArray) ([]E, error) {
	s := make([]E, a.n)
	if a.n > 0 {
		if err := readNPY(a.rr, &s); err != nil {
			return nil, rd.errf(a.key, "not a readable array: %s", dataError(err))
		}
	}
	if err := a.finish(); err != nil {
		return nil, rd.errf(a.key, "not a readable array: %s", dataError(err))
	}
	if a.fortran && len(a.shape) > 1 {
		s = toCOrder(s, a.shape)
	}
	return s, nil
}

// finish checks, once a's data has been read, that the entry holds nothing
// more and that its checksum matches the archive's directory.
func (a *npyArray) finish() error {
	var one [1]byte
	n, err := io.ReadFull(a.data, one[:])
	switch {
	case n > 0:
		return fmt.Errorf("more data than its header declares (shape %s of %s)", graph.FormatShape(a.shape), a.dtypeName())
	case err != io.EOF:
		return err
	case a.body.crc.Sum32() != a.body.want:
		return zip.ErrChecksum
	}
	return nil
}

// readNPY reads into ptr through npyio, turning a panic into an error.
func readNPY(rr *npy.Reader, ptr any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("unreadable data (%v)", p)
		}
	}()
	return rr.Read(ptr)
}

func dataError(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated data"
	}
	return trimPkg(err)
}

// toCOrder reorders column-major (Fortran) data of the given shape into
// row-major order.
func toCOrder[E any](s []E, shape []int) []E {
	out := make([]E, len(s))
	idx := make([]int, len(shape))
	for c := range out { // c walks row-major order; f is the column-major offset
		f, stride := 0, 1
		for k := range shape {
			f += idx[k] * stride
			stride *= shape[k]
		}
		out[c] = s[f]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// intArray is an integer array widened to int64; values of a uint64 array
// beyond int64's range are kept aside for messages.
type intArray struct {
	v   []int64
	big map[int]uint64
}

func (a intArray) int(i int) (int64, bool) {
	_, big := a.big[i]
	return a.v[i], !big
}

func (a intArray) text(i int) string {
	if u, ok := a.big[i]; ok {
		return strconv.FormatUint(u, 10)
	}
	return strconv.FormatInt(a.v[i], 10)
}

// readInts reads an integer array of any width.
func (rd *npzReader) readInts(a *npyArray) (intArray, error) {
	switch {
	case a.kind == 'i' && a.size == 1:
		return readWiden[int8](rd, a)
	case a.kind == 'i' && a.size == 2:
		return readWiden[int16](rd, a)
	case a.kind == 'i' && a.size == 4:
		return readWiden[int32](rd, a)
	case a.kind == 'i' && a.size == 8:
		s, err := readAll[int64](rd, a)
		return intArray{v: s}, err
	case a.kind == 'u' && a.size == 1:
		return readWiden[uint8](rd, a)
	case a.kind == 'u' && a.size == 2:
		return readWiden[uint16](rd, a)
	case a.kind == 'u' && a.size == 4:
		return readWiden[uint32](rd, a)
	case a.kind == 'u' && a.size == 8:
		s, err := readAll[uint64](rd, a)
		if err != nil {
			return intArray{}, err
		}
		r := intArray{v: make([]int64, len(s))}
		for i, u := range s {
			if u > math.MaxInt64 {
				if r.big == nil {
					r.big = map[int]uint64{}
				}
				r.big[i] = u
			}
			r.v[i] = int64(u)
		}
		return r, nil
	}
	panic("data: readInts: " + a.dtypeName())
}

func readWiden[E int8 | int16 | int32 | uint8 | uint16 | uint32](rd *npzReader, a *npyArray) (intArray, error) {
	s, err := readAll[E](rd, a)
	if err != nil {
		return intArray{}, err
	}
	v := make([]int64, len(s))
	for i, x := range s {
		v[i] = int64(x)
	}
	return intArray{v: v}, nil
}

// labelValues is y's values widened to float64, with each one's spelling
// for messages.
type labelValues struct {
	v    []float64
	text func(i int) string
}

// readLabelValues reads y, of any numeric dtype or bool. A uint64 beyond
// int64's range reads as +Inf, which no label kind accepts; its text is
// the number itself.
func (rd *npzReader) readLabelValues(a *npyArray) (labelValues, error) {
	var lv labelValues
	switch a.kind {
	case 'b':
		s, err := readAll[bool](rd, a)
		if err != nil {
			return lv, err
		}
		lv.v = make([]float64, len(s))
		for i, v := range s {
			if v {
				lv.v[i] = 1
			}
		}
	case 'f':
		var err error
		if lv.v, err = readFloats(rd, a); err != nil {
			return lv, err
		}
	default:
		s, err := rd.readInts(a)
		if err != nil {
			return lv, err
		}
		lv.v = make([]float64, len(s.v))
		for i := range s.v {
			v, ok := s.int(i)
			lv.v[i] = float64(v)
			if !ok {
				lv.v[i] = math.Inf(1)
			}
		}
		lv.text = s.text
	}
	if lv.text == nil {
		lv.text = func(i int) string { return strconv.FormatFloat(lv.v[i], 'g', -1, 64) }
	}
	return lv, nil
}

// readFloats reads a float array of any width as float64.
func readFloats(rd *npzReader, a *npyArray) ([]float64, error) {
	switch a.size {
	case 2:
		s16, err := readAll[float16.Num](rd, a)
		if err != nil {
			return nil, err
		}
		s := make([]float64, len(s16))
		for i, v := range s16 {
			s[i] = float64(v.Float32())
		}
		return s, nil
	case 4:
		s32, err := readAll[float32](rd, a)
		if err != nil {
			return nil, err
		}
		s := make([]float64, len(s32))
		for i, v := range s32 {
			s[i] = float64(v)
		}
		return s, nil
	}
	return readAll[float64](rd, a)
}

// readLabels reads y into d: per-sequence labels ([N] or [N, K]) into d.Y,
// or per-step labels ([N, T] or [N, T, K], NaN where a step has none) of
// each sequence's valid steps into d.YStep. Each label must be what
// want.Target says: 0 or 1, a class index, or a finite value.
func (rd *npzReader) readLabels(a *npyArray, d *Dataset, lengths []int, T int, want *Schema) error {
	lv, err := rd.readLabelValues(a)
	if err != nil {
		return err
	}
	p := newLabelParser(want)
	bad := func(i int) error {
		msg := p.check(lv.v[i], true)
		if msg == "" {
			return nil
		}
		idx := make([]string, len(a.shape))
		for k, r := len(a.shape)-1, i; k >= 0; k-- {
			idx[k] = strconv.Itoa(r % a.shape[k])
			r /= a.shape[k]
		}
		return rd.errf("y["+strings.Join(idx, ", ")+"]", "%s, got %s", msg, lv.text(i))
	}
	K := d.K
	if !want.PerStep {
		d.Y = make([]float32, len(lv.v))
		for i, v := range lv.v {
			if err := bad(i); err != nil {
				return err
			}
			d.Y[i] = float32(v)
		}
		return nil
	}
	d.YStep = make([][]float32, len(lengths))
	for i, l := range lengths {
		ys := make([]float32, l*K)
		for j := range ys {
			o := i*T*K + j
			if v := lv.v[o]; v == v {
				if err := bad(o); err != nil {
					return err
				}
			}
			ys[j] = float32(lv.v[o])
		}
		d.YStep[i] = ys
	}
	return nil
}

// mulOverflow returns a·b and whether it overflowed 64 bits or int.
func mulOverflow(a, b uint64) (overflow bool, p uint64) {
	if a == 0 || b == 0 {
		return false, 0
	}
	p = a * b
	return p/b != a || p > math.MaxInt, p
}

func bytesNeeded(n uint64, size int) string {
	if hi, p := mulOverflow(n, uint64(size)); !hi {
		return strconv.FormatUint(p, 10)
	}
	return "more than 2^63"
}

// trimPkg drops Go package prefixes ("zip: ", "npy: ", "flate: ") from a
// library's message and escapes anything unprintable it quotes from the
// file; the caller prefixes the file name.
func trimPkg(err error) string {
	s := err.Error()
	for {
		i := strings.Index(s, ": ")
		if i < 0 || i > 8 || !slices.Contains([]string{"zip", "npy", "npz", "flate", "gzip"}, s[:i]) {
			return printable(s)
		}
		s = s[i+2:]
	}
}
