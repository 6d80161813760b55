// Package atomicfile writes files so that readers, and a process killed at
// any moment, see either the old file or the complete new one: the content
// goes to a temporary file in the same folder, which is synced and renamed
// over the target.
package atomicfile

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/trnn/trnn/internal/fileio"
)

// Write creates or replaces path with what write produces. A new file gets
// mode 0644; a replaced one keeps its permission bits, so that a file its
// owner made private stays private. On error path is left as it was and
// the temporary file is removed; the error does not repeat the file name
// (callers name it).
//
// A process killed during Write leaves its temporary file behind, named
// after path (see RemoveStale).
func Write(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fileio.Bare(err)
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
		return fileio.Bare(err)
	}
	if err := f.Chmod(mode); err != nil { // CreateTemp makes the file private
		return fileio.Bare(err)
	}
	if err := f.Sync(); err != nil {
		return fileio.Bare(err)
	}
	if err := f.Close(); err != nil {
		return fileio.Bare(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fileio.Bare(err)
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

// tempPrefix is how the names of path's temporary files begin: hidden, and
// followed by the digits os.CreateTemp adds.
func tempPrefix(path string) string {
	return "." + filepath.Base(path) + ".tmp"
}

// RemoveStale removes from dir the temporary files that Writes to the named
// files left behind when their process was killed, and nothing else: only
// names of Write's own pattern (".model.onnx.tmp" and digits). The caller
// must know that no Write to those files is under way, for instance by
// holding the directory's lock (fileio.LockDir). Files that cannot be
// removed are left; they harm nothing.
func RemoveStale(dir string, names ...string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		for _, name := range names {
			rest, ok := strings.CutPrefix(e.Name(), tempPrefix(name))
			if ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
				os.Remove(filepath.Join(dir, e.Name()))
				break
			}
		}
	}
}
