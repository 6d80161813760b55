package graph

import (
	"fmt"
	"strings"
)

// maxPrinted is the number of violations Errors.Error prints before it
// summarises the rest.
const maxPrinted = 10

// Errors is every violation Verify found, one message each.
type Errors []string

// Error prints one line per violation, at most ten, then "(and N more
// errors)".
func (l Errors) Error() string {
	if len(l) == 0 {
		return "no errors"
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
		b.WriteString(e)
	}
	return b.String()
}

func (l Errors) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
