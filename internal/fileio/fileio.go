// Package fileio holds what every reader and writer of files in trnn shares,
// so that each message names a file the same way.
package fileio

import (
	"errors"
	"io/fs"
	"os"
)

// Bare drops the path that an *fs.PathError or *os.LinkError repeats, since
// trnn's messages name the file themselves: "open m.onnx: no such file"
// becomes "no such file".
func Bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
