//go:build unix

package fileio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockName is the lock file LockDir keeps in a directory.
const LockName = ".trnn.lock"

// LockDir takes an exclusive lock on dir for the life of the process or
// until release is called: a second run on the same directory would mix its
// checkpoint with the first run's model. The lock is flock(2) on a file in
// dir, so the kernel drops it when the holder dies however it dies, and a
// stale lock file never blocks anyone. The file holds the holder's process
// id, which a refused caller reports.
func LockDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot lock the directory: %v", dir, Bare(err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: in use by another trnn run (process %s); wait for it to finish or use another directory", dir, holder(f))
		}
		return nil, fmt.Errorf("%s: cannot lock the directory: %v", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// holder reads the process id a lock file holds, or "unknown".
func holder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid := strings.TrimSpace(string(b[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return "unknown"
	}
	return pid
}
