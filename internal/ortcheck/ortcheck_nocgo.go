//go:build !cgo

package ortcheck

import (
	"fmt"

	"github.com/trnn/trnn/graph"
)

// A build without cgo (CGO_ENABLED=0, or cross-compiling) cannot load ONNX
// Runtime: every entry point reports ErrUnavailable, so Require skips the
// checks, or fails them where DepsRequired.

var errNoCgo = fmt.Errorf("%w: this test binary was built without cgo (CGO_ENABLED=0 or cross-compiled): build it with cgo, and run `make deps`", ErrUnavailable)

// Init reports that ONNX Runtime cannot be loaded in this build.
func Init() error { return errNoCgo }

// Version is empty: no ONNX Runtime is loaded in this build.
func Version() string { return "" }

// Session is never opened in this build.
type Session struct{}

// Open reports ErrUnavailable.
func Open(model []byte, inputs, outputs []string) (*Session, error) { return nil, errNoCgo }

// Close does nothing.
func (s *Session) Close() error { return nil }

// Run reports ErrUnavailable.
func (s *Session) Run(inputs map[string]*graph.Tensor) (map[string]*graph.Tensor, error) {
	return nil, errNoCgo
}

// Run reports ErrUnavailable.
func Run(model []byte, inputs map[string]*graph.Tensor, outputs []string) (map[string]*graph.Tensor, error) {
	return nil, errNoCgo
}

// Metadata reports ErrUnavailable.
func Metadata(model []byte) (map[string]string, string, error) { return nil, "", errNoCgo }
