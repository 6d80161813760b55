package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := WriteBytes(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old content and no temporary file.
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	})
	if err != boom {
		t.Fatalf("want the writer's error, got %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("a failed write changed the file to %q", b)
	}
	if err := WriteBytes(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	entries, _ := os.ReadDir(dir)
	if string(b) != "new" || st.Mode().Perm() != 0o644 || len(entries) != 1 {
		t.Fatalf("content %q, mode %v, %d entries; want new, 0644, 1", b, st.Mode().Perm(), len(entries))
	}
}

func TestWriteErrorsDoNotNameTheTemporaryFile(t *testing.T) {
	err := WriteBytes(filepath.Join(t.TempDir(), "missing", "f.txt"), nil)
	if err == nil || strings.Contains(err.Error(), ".tmp") || strings.Contains(err.Error(), "missing") {
		t.Fatalf("want a bare error, got %v", err)
	}
}

// TestAtomicWriteKeepsMode: replacing a file keeps its permission bits (a
// private file stays private); a new file gets 0644.
func TestAtomicWriteKeepsMode(t *testing.T) {
	dir := t.TempDir()
	private := filepath.Join(dir, "metrics.csv")
	if err := os.WriteFile(private, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(private, 0o600); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := WriteBytes(private, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(private); st.Mode().Perm() != 0o600 {
		t.Errorf("overwritten 0600 file has mode %v", st.Mode().Perm())
	}
	fresh := filepath.Join(dir, "model.onnx")
	if err := WriteBytes(fresh, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o644 {
		t.Errorf("new file has mode %v, want 0644", st.Mode().Perm())
	}
}

// TestStaleTempFilesRemoved: RemoveStale removes the temporary files a
// killed Write leaves, for the names given, and nothing that merely looks
// like one.
func TestStaleTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	var stale []string
	for _, name := range []string{"model.onnx", "model.onnx", "checkpoint.trnn"} {
		f, err := os.CreateTemp(dir, tempPrefix(name)+"*") // as Write names them
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		stale = append(stale, filepath.Base(f.Name()))
	}
	keep := []string{"model.onnx", ".model.onnx.tmp", ".model.onnx.tmpx1", "model.onnx.tmp123", ".notes.txt.tmp42", ".checkpoint.trnn.tmp12.bak"}
	for _, name := range keep {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	RemoveStale(dir, "model.onnx", "checkpoint.trnn", "curves.png")
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("stale temporary file %s was not removed", name)
		}
	}
	for _, name := range keep {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}
}
