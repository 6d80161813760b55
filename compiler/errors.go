package compiler

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a spec file. Line and Col count from 1; a Pos with
// Line 0 names only the file, and the zero Pos names nothing (an error about
// a value that did not come from a file, such as a command-line override).
type Pos struct {
	File      string
	Line, Col int
}

// IsValid reports whether p points into a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "file:line:col", "file" or "" depending on what p knows.
func (p Pos) String() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	case p.File != "":
		return p.File
	}
	return ""
}

// Error is one problem found in a spec: where it is and what is wrong.
type Error struct {
	Pos Pos
	Msg string
}

// Error returns "file:line:col: msg" (or "file: msg", or msg alone when the
// position is unknown).
func (e *Error) Error() string {
	if s := e.Pos.String(); s != "" {
		return s + ": " + e.Msg
	}
	return e.Msg
}

// maxPrinted is the number of errors ErrorList.Error prints before it
// summarises the rest.
const maxPrinted = 10

// ErrorList is every problem found in a spec, as go/scanner's ErrorList: it
// sorts by position and prints one line per problem.
type ErrorList []*Error

// Add appends an error at pos.
func (l *ErrorList) Add(pos Pos, msg string) { *l = append(*l, &Error{Pos: pos, Msg: msg}) }

// Addf appends an error at pos with a formatted message.
func (l *ErrorList) Addf(pos Pos, format string, args ...any) {
	l.Add(pos, fmt.Sprintf(format, args...))
}

func (l ErrorList) Len() int      { return len(l) }
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }
func (l ErrorList) Less(i, j int) bool {
	a, b := l[i].Pos, l[j].Pos
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

// Sort sorts the list by file, line and column. The sort is stable: errors
// at the same position, and errors without one, keep the order they were
// found in, which follows the spec's order of fields.
func (l ErrorList) Sort() { sort.Stable(l) }

// RemoveMultiples sorts the list and removes exact duplicates.
func (l *ErrorList) RemoveMultiples() {
	l.Sort()
	seen := map[Error]bool{}
	out := (*l)[:0]
	for _, e := range *l {
		if seen[*e] {
			continue
		}
		seen[*e] = true
		out = append(out, e)
	}
	*l = out
}

// Error prints one line per problem, at most ten, then "(and N more
// errors)".
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i == maxPrinted {
			fmt.Fprintf(&b, "\n(and %d more errors)", len(l)-maxPrinted)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
