package ortcheck

import (
	"errors"
	"os"
	"path/filepath"
)

// EnvLib names the environment variable holding the path of
// libonnxruntime.so.1; the Makefile sets it.
const EnvLib = "TRNN_ORT_LIB"

// LibRel is where scripts/deps.sh installs the library, relative to the
// module root.
const LibRel = ".deps/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

// ErrUnavailable is returned (wrapped) when ONNX Runtime cannot be loaded.
var ErrUnavailable = errors.New("onnx runtime unavailable")

// LibraryPath returns the path of the ONNX Runtime shared library: the value
// of TRNN_ORT_LIB when set, else LibRel under the module root (the first
// folder above the working directory holding go.mod). It does not check that
// the file exists.
func LibraryPath() string {
	if p := os.Getenv(EnvLib); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		return LibRel
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, LibRel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return LibRel
		}
		dir = parent
	}
}

// EnvRequire names an environment variable that, set to any non-empty
// value, makes missing test dependencies a failure, as CI does.
const EnvRequire = "TRNN_REQUIRE_DEPS"

// DepsRequired reports whether a check that needs an optional dependency
// (ONNX Runtime, ONNX's node tests, onnx.checker) must fail rather than skip
// when it is missing: in CI (CI set to any non-empty value, as every CI
// service sets it) or when EnvRequire is set. A green run then proves the
// checks ran.
func DepsRequired() bool { return os.Getenv("CI") != "" || os.Getenv(EnvRequire) != "" }

// Gate is what Require stops: a test, or a command that reports like one.
type Gate interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Require calls Init and stops g when ONNX Runtime is unavailable: it skips
// with a message saying how to install the library, or fails when
// DepsRequired.
func Require(g Gate) {
	g.Helper()
	err := Init()
	if err == nil {
		return
	}
	if DepsRequired() {
		g.Fatalf("%v; dependencies are required here (CI or %s is set), so this is a failure", err, EnvRequire)
	}
	g.Skipf("%v; skipping", err)
}
