package fileio

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestOpenRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "data.csv")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero": "not a regular file (a character device)",
		link:        "not a regular file (a character device)",
		dir:         "is a directory",
		fifo:        "not a regular file (a named pipe)",
	} {
		if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadFile(%s) = %v, want %q", path, err, want)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(path, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(path)
	if err != nil || len(b) != 1000 {
		t.Fatalf("ReadFile = %d bytes, %v", len(b), err)
	}
	t.Setenv(EnvMaxBytes, "999")
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "over the 999 B limit") || !strings.Contains(err.Error(), EnvMaxBytes) {
		t.Errorf("over the limit: %v", err)
	}
	t.Setenv(EnvMaxBytes, "1000")
	if _, err := ReadFile(path); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	for _, bad := range []string{"lots", "-1", "0", "1e9"} {
		t.Setenv(EnvMaxBytes, bad)
		if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), EnvMaxBytes) {
			t.Errorf("%s=%s: %v", EnvMaxBytes, bad, err)
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 29: "1.5 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("id,step\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sym := filepath.Join(dir, "sym.csv")
	hard := filepath.Join(dir, "hard.csv")
	if err := os.Symlink(in, sym); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{"--data": in, "MODEL": ""}
	for _, out := range []string{in, sym, hard, filepath.Join(dir, ".", "in.csv")} {
		if err := CheckOutput(out, inputs); err == nil || !strings.Contains(err.Error(), "same file as --data") {
			t.Errorf("CheckOutput(%s) = %v", out, err)
		}
	}
	if err := CheckOutput(filepath.Join(dir, "new.csv"), inputs); err != nil {
		t.Errorf("a new output: %v", err)
	}
}

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	release, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir)
	want := "process " + strconv.Itoa(os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second lock: %v, want a refusal naming %s", err, want)
	}
	release()
	release2, err := LockDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release2()
}
