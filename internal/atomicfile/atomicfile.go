// Package atomicfile writes files so that readers, and a process killed at
// any moment, see either the old file or the complete new one: the content
// goes to a temporary file in the same folder, which is synced and renamed
// over the target.
package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// Write creates or replaces path with what write produces. The file gets
// mode 0644. On error path is left as it was and the temporary file is
// removed; the error does not repeat the file name (callers name it).
func Write(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return bare(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return bare(err)
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes the file private
		return bare(err)
	}
	if err := f.Sync(); err != nil {
		return bare(err)
	}
	if err := f.Close(); err != nil {
		return bare(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return bare(err)
	}
	// Make the rename durable too; not every file system can sync a
	// folder, and the file is complete either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteBytes is Write for content already in memory.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// bare drops the temporary file's name that an *os.PathError carries.
func bare(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
