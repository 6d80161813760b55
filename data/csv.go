package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Shapes: N sequences (ids), F feature columns, K label columns.

// readCSVFile reads a long-form CSV data file: a header row, then one row
// per step, decoded by decodeRecords as s says.
func readCSVFile(path string, s *Schema) (*Dataset, error) {
	f, size, err := openData(path, "a CSV file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A file that grows while it is read (one being appended to) must not
	// take memory past the size that passed the limit.
	r := &io.LimitedReader{R: f, N: size + 1}
	d, err := decodeCSV(path, r, s)
	if r.N == 0 {
		return nil, &Error{File: path, Msg: errGrew.Error(), Err: errGrew}
	}
	return d, err
}

// decodeCSV reads CSV data from r; name is the file name for messages.
func decodeCSV(name string, r io.Reader, s *Schema) (*Dataset, error) {
	return decodeRecords(name, newCSVSource(name, r), s)
}

// csvSource reads a CSV file's rows for the record decoder.
type csvSource struct {
	name string
	cr   *csv.Reader
	line int // the line of the row read last
}

var _ recordSource = (*csvSource)(nil)

func newCSVSource(name string, r io.Reader) *csvSource {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &csvSource{name: name, cr: cr}
}

// Header reads the first row, without the byte-order mark some
// spreadsheets write.
func (c *csvSource) Header() ([]string, error) {
	header, err := c.cr.Read()
	if err == io.EOF {
		return nil, &Error{File: c.name, Msg: "empty file, want a header row and one row per step"}
	}
	if err != nil {
		return nil, c.parseErr(err)
	}
	c.line = 1
	header = slices.Clone(header)
	header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	return header, nil
}

func (c *csvSource) Next() ([]string, error) {
	rec, err := c.cr.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, c.parseErr(err)
	}
	c.line, _ = c.cr.FieldPos(0)
	return rec, nil
}

func (c *csvSource) Where() string { return "line " + strconv.Itoa(c.line) }

func (c *csvSource) Line() int { return c.line }

// parseErr reports an error of the CSV reader: malformed CSV at a place,
// or a failure to read the file.
func (c *csvSource) parseErr(err error) *Error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: c.name, Line: pe.Line, Msg: fmt.Sprintf("malformed CSV at character %d: %v", pe.Column, pe.Err), Err: err}
	}
	return &Error{File: c.name, Msg: "cannot read: " + trimPkg(err), Err: err}
}

// checkRoles checks that cols names an id, at least one feature, at least
// one label when labels are wanted, and no column twice.
func checkRoles(cols Columns, labels bool) error {
	if cols.ID == "" {
		return errors.New("no id column is named (data.csv.id)")
	}
	if len(cols.Features) == 0 {
		return errors.New("no feature columns are named (data.csv.features)")
	}
	if labels && len(cols.Labels) == 0 {
		return errors.New("no label columns are named (data.csv.labels)")
	}
	role := map[string]string{}
	add := func(name, r string) error {
		if name == "" {
			return fmt.Errorf("empty column name for a %s", r)
		}
		if prev, ok := role[name]; ok {
			return fmt.Errorf("column %q is named both as the %s and as a %s", name, prev, r)
		}
		role[name] = r
		return nil
	}
	if err := add(cols.ID, "id column"); err != nil {
		return err
	}
	if cols.Step != "" {
		if err := add(cols.Step, "step column"); err != nil {
			return err
		}
	}
	for _, c := range cols.Features {
		if err := add(c, "feature"); err != nil {
			return err
		}
	}
	for _, c := range cols.Labels {
		if err := add(c, "label"); err != nil {
			return err
		}
	}
	return nil
}

// listNames quotes up to 20 names for a message.
func listNames(names []string) string {
	const most = 20
	q := make([]string, 0, min(len(names), most)+1)
	for i, n := range names {
		if i == most {
			q = append(q, fmt.Sprintf("… %d more", len(names)-most))
			break
		}
		q = append(q, quote(n))
	}
	return strings.Join(q, ", ")
}

// parseDecimal reads a decimal number as other tools write them (123,
// -1.5, 2e-3, NaN, Inf). Go's hexadecimal floats (0x1p4) and digit
// separators (1_000) are refused: a spreadsheet or NumPy never writes them,
// so such a cell is a mistake rather than a number.
func parseDecimal(s string) (float64, error) {
	if strings.ContainsAny(s, "xX_") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}
