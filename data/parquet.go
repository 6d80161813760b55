package data

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/fileio"
)

// Shapes: R rows (steps) in a file, C top-level columns.

// parquetBatch is how many rows the source decodes at a time: enough to
// amortise the library's per-call work, small enough that a batch of wide
// rows stays far below the memory of a row group.
const parquetBatch = 256

// parquetSource reads a long-form Parquet file (one row per step) as the
// recordSource the CSV decoder reads. Row groups are read one after the
// other and each through the library's page reader, so the memory held is
// a batch of rows and the pages being decoded, never the whole file.
//
// A flat schema is required: every top-level column a leaf, none repeated.
// Cells read as CSV would hold them: null and NaN as "" (missing), strings
// as they are, integers in decimal, booleans as 1 and 0, and floats in the
// shortest form that parses back to the same value, so nothing is rounded
// on the way to the decoder.
type parquetSource struct {
	name   string
	f      *os.File
	file   *parquet.File
	header []string     // [C]
	format []cellFormat // [C] how each column's values are written
	groups []parquet.RowGroup
	g      int           // next row group to open
	rows   parquet.Rows  // the open row group's rows; nil between groups
	batch  []parquet.Row // [parquetBatch] rows decoded, reused
	n, i   int           // rows in batch, next one to return
	row    int           // rows returned so far: the last one's number
	total  int64         // rows the footer declares
	rec    []string      // [C] the row Next returned, reused
}

// cellFormat says how a column's values become cells.
type cellFormat struct {
	kind     parquet.Kind
	unsigned bool // integers stored as unsigned
	scale    int  // decimal places of a DECIMAL stored as an integer; 0 otherwise
}

var _ recordSource = (*parquetSource)(nil)

// openParquet opens path and reads its footer, checking that the schema is
// flat, that every column has a type the decoder can read and that the
// file's declared rows stay within graph.MaxElements cells. The caller
// closes the source.
func openParquet(path string) (*parquetSource, error) {
	f, size, err := openData(path, "a Parquet file")
	if err != nil {
		return nil, err
	}
	s := &parquetSource{name: path, f: f}
	err = s.catch(func() error {
		var err error
		s.file, err = parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
		return err
	})
	if err == nil {
		err = s.readSchema()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	s.groups = s.file.RowGroups()
	s.total = s.file.NumRows()
	if err := s.checkCells(); err != nil {
		f.Close()
		return nil, err
	}
	s.batch = make([]parquet.Row, parquetBatch)
	s.rec = make([]string, len(s.header))
	return s, nil
}

// checkCells refuses a file whose footer declares more cells than trnn
// reads from one file: graph.MaxElements, and no more float32 values than
// fileio.MaxBytes holds. Compression lets a file within the size limit
// declare far more, and the decoder keeps every row's values.
func (s *parquetSource) checkCells() error {
	limit, err := fileio.MaxBytes()
	if err != nil {
		return &Error{File: s.name, Msg: err.Error(), Err: err}
	}
	most := min(float64(graph.MaxElements), float64(limit/4))
	if cells := float64(s.total) * float64(len(s.header)); s.total < 0 || cells > most {
		return &Error{File: s.name, Msg: fmt.Sprintf("declares %d rows of %d columns, more than the %.0f values trnn reads from one file (set %s to raise it)",
			s.total, len(s.header), most, fileio.EnvMaxBytes)}
	}
	return nil
}

// Close closes the file.
func (s *parquetSource) Close() error {
	if s.rows != nil {
		s.rows.Close()
	}
	return s.f.Close()
}

// catch runs a call into the library, turning an error or a panic (the
// library trusts some of what a damaged file says) into one line naming
// the file.
func (s *parquetSource) catch(call func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{File: s.name, Msg: fmt.Sprintf("corrupt Parquet file: %v", r)}
		}
	}()
	if err := call(); err != nil {
		return &Error{File: s.name, Msg: "corrupt Parquet file: " + parquetReason(err), Err: err}
	}
	return nil
}

// parquetReason is the library's error without the words every one of its
// messages repeats.
func parquetReason(err error) string {
	msg := err.Error()
	for _, p := range []string{"parquet: ", "reading parquet file: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// readSchema reads the column names and formats from the footer's schema,
// a flat list whose first element is the root: a flat table is a root
// whose every child is a leaf.
func (s *parquetSource) readSchema() error {
	elems := s.file.Metadata().Schema
	if len(elems) < 2 {
		return &Error{File: s.name, Msg: "the schema has no columns"}
	}
	if n := elems[0].NumChildren; !n.Valid || int(n.V) != len(elems)-1 {
		return &Error{File: s.name, Msg: "nested columns are not supported: want a flat table, one column per feature, label, id or step"}
	}
	s.header = make([]string, len(elems)-1)
	s.format = make([]cellFormat, len(elems)-1)
	for j, e := range elems[1:] {
		s.header[j] = strings.TrimSpace(e.Name)
		where := "column " + quote(e.Name)
		switch {
		case e.NumChildren.Valid && e.NumChildren.V > 0 || !e.Type.Valid:
			return &Error{File: s.name, Where: where, Msg: "nested columns are not supported: want one number or string per row"}
		case e.RepetitionType.Valid && e.RepetitionType.V == format.Repeated:
			return &Error{File: s.name, Where: where, Msg: "repeated columns are not supported: want one number or string per row"}
		}
		cf, err := columnFormat(&e)
		if err != nil {
			return &Error{File: s.name, Where: where, Msg: err.Error()}
		}
		s.format[j] = cf
	}
	return nil
}

// columnFormat is how the decoder reads one leaf column: numbers (of any
// width, signed or not, or decimals stored as integers), booleans and
// strings. Times, dates, binary encodings of other types and INT96 are
// refused by name, since reading them as numbers would silently change
// their meaning.
func columnFormat(e *format.SchemaElement) (cellFormat, error) {
	kind := parquet.Kind(e.Type.V)
	cf := cellFormat{kind: kind}
	lt := e.LogicalType.Value
	ct, hasCT := e.ConvertedType.V, e.ConvertedType.Valid
	switch t := lt.(type) {
	case nil:
	case *format.IntType:
		cf.unsigned = !t.IsSigned
	case *format.DecimalType:
		cf.scale = int(t.Scale)
	case *format.StringType, *format.EnumType:
	default:
		return cf, unsupported(kind, lt.String())
	}
	if lt == nil && hasCT {
		switch {
		case ct >= deprecated.Uint8 && ct <= deprecated.Uint64:
			cf.unsigned = true
		case ct >= deprecated.Int8 && ct <= deprecated.Int64, ct == deprecated.UTF8, ct == deprecated.Enum:
		case ct == deprecated.Decimal:
			cf.scale = int(e.Scale.V)
		default:
			name, ok := convertedNames[ct]
			if !ok {
				name = fmt.Sprintf("annotation %d", ct)
			}
			return cf, unsupported(kind, name)
		}
	}
	switch kind {
	case parquet.Boolean, parquet.Float, parquet.Double:
	case parquet.Int32, parquet.Int64:
		if cf.scale < 0 || cf.scale > 38 {
			return cf, fmt.Errorf("decimal scale %d is outside [0, 38]", cf.scale)
		}
	case parquet.ByteArray:
		if cf.scale != 0 || cf.unsigned {
			return cf, unsupported(kind, "DECIMAL")
		}
	default:
		return cf, unsupported(kind, "")
	}
	return cf, nil
}

// convertedNames are the legacy annotations a flat table may still carry
// that the decoder refuses, by the names Parquet's specification gives them.
var convertedNames = map[deprecated.ConvertedType]string{
	deprecated.Map: "MAP", deprecated.MapKeyValue: "MAP_KEY_VALUE", deprecated.List: "LIST",
	deprecated.Date: "DATE", deprecated.TimeMillis: "TIME_MILLIS", deprecated.TimeMicros: "TIME_MICROS",
	deprecated.TimestampMillis: "TIMESTAMP_MILLIS", deprecated.TimestampMicros: "TIMESTAMP_MICROS",
	deprecated.Json: "JSON", deprecated.Bson: "BSON", deprecated.Interval: "INTERVAL",
}

func unsupported(kind parquet.Kind, logical string) error {
	t := kind.String()
	if logical != "" {
		t = logical + " (" + t + ")"
	}
	return fmt.Errorf("type %s is not supported: want numbers, booleans or strings", t)
}

// Header is the top-level column names, trimmed of surrounding spaces as
// CSV header cells are.
func (s *parquetSource) Header() ([]string, error) { return s.header, nil }

// Next returns the next row's cells, opening the next row group when one
// is used up.
func (s *parquetSource) Next() ([]string, error) {
	for s.i == s.n {
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
	row := s.batch[s.i]
	s.i++
	s.row++
	if len(row) != len(s.rec) {
		return nil, &Error{File: s.name, Line: s.row, Msg: fmt.Sprintf("corrupt Parquet file: row has %d values for %d columns", len(row), len(s.rec))}
	}
	for _, v := range row {
		j := v.Column()
		if j < 0 || j >= len(s.rec) {
			return nil, &Error{File: s.name, Line: s.row, Msg: fmt.Sprintf("corrupt Parquet file: value of column %d in a table of %d", j, len(s.rec))}
		}
		s.rec[j] = s.format[j].cell(v)
	}
	return s.rec, nil
}

// fill decodes the next batch of rows into s.batch, moving on to the next
// row group when the open one is used up; io.EOF after the last. A file
// whose pages hold more rows than its footer declares is refused, so the
// footer's count, checked when the file was opened, bounds the work.
func (s *parquetSource) fill() error {
	if s.rows == nil {
		if s.g == len(s.groups) {
			return io.EOF
		}
		if err := s.catch(func() error { s.rows = s.groups[s.g].Rows(); return nil }); err != nil {
			return err
		}
		s.g++
	}
	var n int
	err := s.catch(func() error {
		var err error
		n, err = s.rows.ReadRows(s.batch)
		if err == io.EOF {
			err = nil
			s.rows.Close()
			s.rows = nil
		}
		return err
	})
	if err != nil {
		return err
	}
	s.n, s.i = n, 0
	if int64(s.row+n) > s.total {
		return &Error{File: s.name, Msg: fmt.Sprintf("corrupt Parquet file: its pages hold more than the %d rows its footer declares", s.total)}
	}
	return nil
}

// Where names the row Next returned last.
func (s *parquetSource) Where() string { return "row " + strconv.Itoa(s.row) }

// Line is the row Next returned last, counted from 1.
func (s *parquetSource) Line() int { return s.row }

// cell writes one value as the decoder reads cells.
func (cf cellFormat) cell(v parquet.Value) string {
	if v.IsNull() {
		return ""
	}
	switch cf.kind {
	case parquet.Boolean:
		if v.Boolean() {
			return "1"
		}
		return "0"
	case parquet.Int32:
		if cf.unsigned {
			return strconv.FormatUint(uint64(v.Uint32()), 10)
		}
		return decimalCell(strconv.FormatInt(int64(v.Int32()), 10), cf.scale)
	case parquet.Int64:
		if cf.unsigned {
			return strconv.FormatUint(v.Uint64(), 10)
		}
		return decimalCell(strconv.FormatInt(v.Int64(), 10), cf.scale)
	case parquet.Float:
		if x := v.Float(); !math.IsNaN(float64(x)) {
			return strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return ""
	case parquet.Double:
		if x := v.Double(); !math.IsNaN(x) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return ""
	}
	return string(v.ByteArray())
}

// decimalCell places the decimal point scale digits from the right of the
// integer digits, so that a DECIMAL reads exactly as written ("-0.05" for
// -5 at scale 2).
func decimalCell(digits string, scale int) string {
	if scale == 0 {
		return digits
	}
	sign := ""
	if digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// readParquetFile reads a long-form Parquet data file, one row per step
// with the column roles of a CSV file, decoded by decodeRecords as s says.
func readParquetFile(path string, s *Schema) (*Dataset, error) {
	src, err := openParquet(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return decodeRecords(path, src, s)
}
