package data

import (
	"errors"
	"os"
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
	// Each part is escaped on its own, so that a tab in the file name does
	// not turn every quote of the message into \".
	var b strings.Builder
	b.WriteString(printable(e.File))
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Where != "" {
		b.WriteString(": ")
		b.WriteString(printable(e.Where))
	}
	b.WriteString(": ")
	b.WriteString(printable(e.Msg))
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// fileError reports a failure to open, read or write the file itself, with
// the operating system's reason but without repeating the path.
func fileError(file, verb string, err error) *Error {
	return &Error{File: file, Msg: verb + ": " + fileio.Bare(err).Error(), Err: err}
}

// openData opens a data file for reading through fileio.Open, which refuses
// what is not a regular file (a .csv linked to /dev/zero would be read
// until memory runs out) and files over fileio.MaxBytes. want names the
// kind of file expected, for a directory given by mistake: "a CSV file".
func openData(path, want string) (*os.File, int64, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, 0, &Error{File: path, Msg: "is a directory, want " + want}
	}
	f, size, err := fileio.Open(path)
	if err != nil {
		return nil, 0, &Error{File: path, Msg: err.Error(), Err: err}
	}
	return f, size, nil
}

// errGrew reports a file that held more bytes than fileio.Open measured.
var errGrew = errors.New("changed size while being read")

// maxEcho bounds how many characters of a file's text a message repeats:
// enough to recognise a cell, never a whole line of a hostile file.
const maxEcho = 80

// printable escapes what a one-line message must not carry (newlines, tabs
// and other control characters, invalid UTF-8) the way Go string literals
// do, rune by rune; everything else, quotes included, is left as it is.
func printable(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		b.WriteString(escape(s[i:i+w], r, false))
		i += w
	}
	return b.String()
}

func clean(s string) bool {
	for i, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return false
		}
	}
	return true
}

// escape spells one rune r, written s in the text (or one invalid byte, r
// being utf8.RuneError), as a message shows it. Inside quotes (quoted),
// quotes and backslashes are escaped too, as %q does.
func escape(s string, r rune, quoted bool) string {
	invalid := r == utf8.RuneError && len(s) == 1
	if invalid || !unicode.IsPrint(r) || quoted && (r == '"' || r == '\\') {
		q := strconv.Quote(s)
		return q[1 : len(q)-1]
	}
	return s
}

// clip escapes s as escape does and cuts it after at most maxEcho
// characters, the last of them "…" when s is longer. It never cuts inside
// an escape or a UTF-8 sequence, and reads no further than the cut, so a
// cell of a gigabyte costs no more than one of a hundred bytes.
func clip(s string, quoted bool) string {
	var b strings.Builder
	keep, n := 0, 0 // bytes of b that leave room for "…"; characters in b
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		e := escape(s[i:i+w], r, quoted)
		i += w
		if n += utf8.RuneCountInString(e); n > maxEcho {
			return b.String()[:keep] + "…"
		}
		b.WriteString(e)
		if n < maxEcho {
			keep = b.Len()
		}
	}
	return b.String()
}

// echo is text taken from a file, as a message repeats it unquoted.
func echo(s string) string { return clip(s, false) }

// quote is text taken from a file, as a message repeats it in quotes: %q,
// cut to maxEcho characters.
func quote(s string) string { return `"` + clip(s, true) + `"` }
