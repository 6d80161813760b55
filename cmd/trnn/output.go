package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/trnn/trnn/internal/atomicfile"
	"github.com/trnn/trnn/internal/fileio"
)

// outputFile checks an output file flag's value before any work: a folder
// (an existing one, or a path ending in a separator) is a bad command line
// that says which file name to give instead, such as DIR/example.
func outputFile(cmd, flag, out, example string) error {
	st, err := os.Stat(out)
	if err == nil && st.IsDir() || strings.HasSuffix(out, string(filepath.Separator)) || strings.HasSuffix(out, "/") {
		return usageError{fmt.Errorf("%s: %s %s is a folder; give a file name, such as %s", cmd, flag, out, filepath.Join(out, example))}
	}
	return nil
}

// makeParent creates the folders above the output file out that do not
// exist yet, just before it is written, so that -o new/dir/file works and
// a command refused earlier leaves nothing behind.
func makeParent(out string) error {
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: cannot create the folder for %s: %v", dir, out, fileio.Bare(err))
	}
	return nil
}

// checkScoresOutput checks predict's -o before any work: a file, not a
// folder, and none of the command's inputs; a run directory given as the
// model stands for its model.onnx, which -o must not be either.
func checkScoresOutput(cmd, out, modelArg, dataFile string) error {
	if err := outputFile(cmd, "-o", out, "predictions.csv"); err != nil {
		return err
	}
	model, err := modelPath(modelArg)
	if err != nil {
		return err
	}
	return fileio.CheckOutput(out, map[string]string{"the model": model, "--data": dataFile})
}

// writeOutput writes what write produces to out, atomically, creating the
// folders above it. An error of write (the model's) is returned as it is;
// one of the file is prefixed with its name.
func writeOutput(out string, write func(w io.Writer) error) error {
	if err := makeParent(out); err != nil {
		return err
	}
	var werr error
	if err := atomicfile.Write(out, func(w io.Writer) error { werr = write(w); return werr }); err != nil {
		if werr != nil {
			return werr
		}
		return fmt.Errorf("%s: %v", out, err)
	}
	return nil
}
