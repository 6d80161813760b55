//go:build !unix

package fileio

// LockName is the lock file LockDir keeps in a directory.
const LockName = ".trnn.lock"

// LockDir does not lock where flock(2) is unavailable.
func LockDir(dir string) (release func(), err error) { return func() {}, nil }
