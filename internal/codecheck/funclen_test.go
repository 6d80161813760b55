package codecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines bounds a function's length, from its func line to its
// closing brace: past it a function does several things and should be
// split.
const maxFuncLines = 80

// kernels are the assembly-backed packed kernels exempt from the bound: each
// is one fused loop over time whose parts share a dozen buffers, and
// splitting it would cost a call per step and hide the data flow the
// gradient checks verify.
var kernels = map[string]bool{
	"ops.LSTMBackward": true,
}

// TestFunctionLength fails on any non-test function over maxFuncLines
// outside the kernels.
func TestFunctionLength(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "onnxpb") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			if n > maxFuncLines && !kernels[f.Name.Name+"."+fd.Name.Name] {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s: func %s is %d lines, over %d: split it", rel, fd.Name.Name, n, maxFuncLines)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
