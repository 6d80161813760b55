package data

// recordSource yields the rows of a long-form table (one row per step) as
// strings, so that CSV and Parquet share one decoder: column roles, missing
// cells, categories, binning and per-step labels are read the same way
// whatever the file format. A missing value is the empty string.
type recordSource interface {
	// Header is the table's column names, in column order.
	Header() ([]string, error)
	// Next is the next row (len(Header()) cells), or io.EOF after the
	// last. The slice may be reused by the following call.
	Next() ([]string, error)
	// Where names the row Next returned last, for messages: "line 12" for
	// CSV, "row 12" for Parquet (counted from 1 over the whole file).
	Where() string
	// Line is the row's 1-based line (CSV) or row number (Parquet), the
	// number an *Error's Line carries.
	Line() int
}
