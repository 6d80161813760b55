package fileio

import (
	"fmt"
	"maps"
	"os"
	"slices"
)

// CheckOutput refuses an output path that is, after following symbolic
// links and across hard links (same device and inode), one of the command's
// inputs: writing it would destroy the input before it is read. An output
// that does not exist yet is always fine. inputs maps a description of each
// input ("--data") to its path; empty paths are skipped.
func CheckOutput(out string, inputs map[string]string) error {
	ost, err := os.Stat(out)
	if err != nil {
		return nil
	}
	for _, what := range slices.Sorted(maps.Keys(inputs)) {
		in := inputs[what]
		if in == "" {
			continue
		}
		if ist, err := os.Stat(in); err == nil && os.SameFile(ost, ist) {
			return fmt.Errorf("%s: the output is the same file as %s %s; choose another output path", out, what, in)
		}
	}
	return nil
}
