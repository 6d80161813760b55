package fileio

import (
	"errors"
	"io/fs"
	"os"
	"testing"
)

func TestBare(t *testing.T) {
	_, err := os.Open("no-such-file.trnn")
	if got := Bare(err); !errors.Is(got, fs.ErrNotExist) || got.Error() != "no such file or directory" {
		t.Errorf("Bare(open error) = %q, want the reason alone", got)
	}
	le := &os.LinkError{Op: "rename", Old: "a", New: "b", Err: fs.ErrPermission}
	if got := Bare(le); got != fs.ErrPermission {
		t.Errorf("Bare(link error) = %v", got)
	}
	plain := errors.New("plain")
	if Bare(plain) != plain {
		t.Error("Bare changed an error without a path")
	}
}
