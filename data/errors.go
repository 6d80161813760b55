package data

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trnn/trnn/internal/fileio"
)

// Error is a defect in a data file, printed on one line as
//
//	file[:line][: where]: msg
//
// for instance "data.csv:45: column "hr": not a number: "abc"" or
// "train.npz: x[17, 3, 2]: NaN in a valid step (sequence 17 has 12 steps)".
type Error struct {
	File  string // the file as the caller named it
	Line  int    // 1-based line of a CSV file; 0 when not applicable
	Where string // the place inside the file: `x[17, 3, 2]`, `column "hr"`, `id "p7"`; may be empty
	Msg   string // the rule broken and what was found
	Err   error  // the underlying error, if any (for errors.Is and errors.As)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Where != "" {
		b.WriteString(": ")
		b.WriteString(e.Where)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return printable(b.String()) // one line, whatever the file held
}

func (e *Error) Unwrap() error { return e.Err }

// fileError reports a failure to open, read or write the file itself, with
// the operating system's reason but without repeating the path.
func fileError(file, verb string, err error) *Error {
	return &Error{File: file, Msg: verb + ": " + fileio.Bare(err).Error(), Err: err}
}

// printable escapes what a one-line message must not carry (newlines and
// other control characters, invalid UTF-8) the way Go string literals do.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
