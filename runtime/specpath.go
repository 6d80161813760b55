package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkSpecPaths refuses a data file that the spec names by a relative
// path and that does not exist, saying that the path was resolved against
// the spec's folder: a path that looks right from the working directory is
// the usual reason. Files given on the command line, absolute paths and
// specs in the working directory need no such note.
func (r *run) checkSpecPaths() error {
	s := r.spec
	if s.Dir == "" || s.Dir == "." {
		return nil
	}
	for _, p := range []struct{ field, written, resolved string }{
		{"data.train", s.Data.Train, r.trainFile},
		{"training.validation.file", s.Training.Validation.File, r.valFile},
		{"training.test.file", s.Training.Test.File, r.testFile},
	} {
		if p.written == "" || filepath.IsAbs(p.written) || p.resolved != s.Path(p.written) {
			continue
		}
		if _, err := os.Stat(p.resolved); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: no such file (%s: %s is resolved against the spec's folder, %s)", p.resolved, p.field, p.written, s.Dir)
		}
	}
	return nil
}
