package fileio

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// EnvMaxBytes names the environment variable that raises (or lowers) the
// size limit on files trnn reads whole: a number of bytes.
const EnvMaxBytes = "TRNN_MAX_FILE_BYTES"

// DefaultMaxBytes is the limit when EnvMaxBytes is unset: 2 GiB, protobuf's
// own bound on an ONNX model, and far past any file trnn is meant to hold
// in memory at once.
const DefaultMaxBytes int64 = 2 << 30

// MaxBytes returns the size limit in force. A malformed EnvMaxBytes is an
// error, not a silent fallback, so that a typo cannot lift the bound.
func MaxBytes() (int64, error) {
	s, ok := os.LookupEnv(EnvMaxBytes)
	if !ok || s == "" {
		return DefaultMaxBytes, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive number of bytes", EnvMaxBytes, s)
	}
	return n, nil
}

// Open opens path for reading after checking, through symbolic links, that
// it is a regular file no larger than MaxBytes: a device such as /dev/zero,
// a FIFO or a directory would otherwise be read until memory runs out. It
// returns the file and its size. Errors do not name the file (the caller
// does); the system's reasons read "cannot open: no such file or
// directory".
func Open(path string) (*os.File, int64, error) {
	limit, err := MaxBytes()
	if err != nil {
		return nil, 0, err
	}
	// Stat before opening: opening a named pipe blocks until a writer comes.
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, openError{err}
	}
	if err := checkRegular(st, limit); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, openError{err}
	}
	// The path may have been swapped between Stat and Open: check what was
	// opened.
	st, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, Bare(err)
	}
	if err := checkRegular(st, limit); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func checkRegular(st fs.FileInfo, limit int64) error {
	m := st.Mode()
	switch {
	case m.IsDir():
		return fmt.Errorf("is a directory, not a file")
	case !m.IsRegular():
		return fmt.Errorf("is not a regular file (%s)", kind(m))
	case st.Size() > limit:
		return fmt.Errorf("is %s, over the %s limit on files trnn reads (set %s to raise it)",
			Bytes(st.Size()), Bytes(limit), EnvMaxBytes)
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// ReadFile reads the regular file path whole, refusing it as Open does. A
// file that grows while it is read is cut at the size Open saw and refused,
// so the bound holds even then.
func ReadFile(path string) ([]byte, error) {
	f, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("cannot read: %v", Bare(err))
	}
	if n, _ := f.Read(make([]byte, 1)); n > 0 {
		return nil, fmt.Errorf("changed size while being read")
	}
	return b, nil
}

// Bytes prints a size for people: "1.5 GiB", "512 KiB", "100 B".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// openError is the system's reason a file could not be opened, printed
// without the path and unwrapping to the *fs.PathError (so errors.Is(err,
// fs.ErrNotExist) holds).
type openError struct{ err error }

func (e openError) Error() string { return "cannot open: " + Bare(e.err).Error() }
func (e openError) Unwrap() error { return e.err }
