//go:build unix

package data

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/trnn/trnn/internal/fileio"
)

// TestDataFileNotRegularRefused: a data file that is a device (or a link to
// one), a named pipe, or over the size limit is refused at once, with one
// line naming the file, instead of being read until memory runs out.
func TestDataFileNotRegularRefused(t *testing.T) {
	dir := t.TempDir()
	link := func(name, target string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zeroCSV, zeroNPZ := link("zero.csv", "/dev/zero"), link("zero.npz", "/dev/zero")
	fifo := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	schema := countSchema()
	for _, tc := range []struct {
		path, want string
	}{
		{zeroCSV, zeroCSV + ": is not a regular file (a character device)"},
		{zeroNPZ, zeroNPZ + ": is not a regular file (a character device)"},
		{fifo, fifo + ": is not a regular file (a named pipe)"},
	} {
		_, err := Load(tc.path, schema)
		wantError(t, err, tc.want)
	}
	_, err := ReadCSV(zeroCSV, schema.Columns)
	wantError(t, err, zeroCSV+": is not a regular file (a character device)")
	_, err = readNPZ(zeroNPZ, nil)
	wantError(t, err, zeroNPZ+": is not a regular file (a character device)")

	// The size limit, which TRNN_MAX_FILE_BYTES sets.
	d := Synth(SynthOptions{N: 30, MinLen: 2, MaxLen: 6, F: 3, K: 1, Seed: 4, PosRate: 0.5})
	csvPath, npzPath := filepath.Join(dir, "d.csv"), filepath.Join(dir, "d.npz")
	if err := WriteCSV(csvPath, d, SynthColumns(3, 1)); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPZ(npzPath, d); err != nil {
		t.Fatal(err)
	}
	t.Setenv(fileio.EnvMaxBytes, "100")
	for _, p := range []string{csvPath, npzPath} {
		_, err := Load(p, schema)
		wantError(t, err, p+": is ")
		if !strings.Contains(err.Error(), "over the 100 B limit on files trnn reads (set TRNN_MAX_FILE_BYTES to raise it)") {
			t.Errorf("over the limit: %v", err)
		}
	}
	t.Setenv(fileio.EnvMaxBytes, "lots")
	_, err = Load(csvPath, schema)
	wantError(t, err, csvPath+`: TRNN_MAX_FILE_BYTES="lots": want a positive number of bytes`)
	t.Setenv(fileio.EnvMaxBytes, "")
	if _, err := Load(csvPath, schema); err != nil {
		t.Errorf("within the limit: %v", err)
	}

	// A regular file whose size says 0 but which holds more (as /proc's
	// files do) is refused, not read without a bound.
	if runtime.GOOS == "linux" {
		proc := link("status.csv", "/proc/self/status")
		_, err := Load(proc, schema)
		wantError(t, err, proc+": changed size while being read")
	}
}
