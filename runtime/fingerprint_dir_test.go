package runtime

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFingerprintDir: a folder's fingerprint is stable, counts its files'
// bytes, and changes with any file's content or name, or a file added;
// subfolders do not count.
func TestFingerprintDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("listfile.csv", "stay,y_true\na.csv,1\n")
	write("a.csv", "Hours,f0\n0,1\n")
	fp := func() DataFingerprint {
		t.Helper()
		f, err := fingerprint(dir)
		if err != nil {
			t.Fatal(err)
		}
		return *f
	}
	base := fp()
	if base.Size != int64(len("stay,y_true\na.csv,1\n")+len("Hours,f0\n0,1\n")) || fp() != base {
		t.Fatalf("fingerprint %+v: want the files' total size, the same twice", base)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if fp() != base {
		t.Error("a subfolder changed the fingerprint")
	}
	seen := map[DataFingerprint]string{base: "base"}
	for _, c := range []struct{ what, name, text string }{
		{"a value changed", "a.csv", "Hours,f0\n0,2\n"},
		{"a file added", "b.csv", "Hours,f0\n0,2\n"},
		{"bytes moved between files", "b.csv", "Hours,f0\n0,"},
	} {
		write(c.name, c.text)
		if c.what == "bytes moved between files" {
			write("a.csv", "2\nHours,f0\n0,2\n")
		}
		f := fp()
		if prev, dup := seen[f]; dup {
			t.Errorf("%s: the fingerprint of %q again", c.what, prev)
		}
		seen[f] = c.what
	}
	if _, err := fingerprint(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing path fingerprinted")
	}
}
