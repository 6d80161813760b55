package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/trnn/trnn/internal/fileio"
)

// fingerprintDir fingerprints a folder in the episodes layout: the names,
// sizes and contents of its regular files (or links to them), in name
// order, so that a stay added, removed, renamed or edited changes it. Size
// is their total size. Subfolders and other entries are not data and are
// skipped.
func fingerprintDir(dir string) (*DataFingerprint, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("cannot fingerprint the data: %v", fileio.Bare(err))
	}
	h := sha256.New()
	var total int64
	for _, e := range entries {
		// A stay linked from elsewhere is data too; what is not a
		// regular file behind its links (a folder, a pipe) is not.
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || !st.Mode().IsRegular() {
			continue
		}
		n, err := hashFile(h, filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("cannot fingerprint the data: %s: %v", e.Name(), fileio.Bare(err))
		}
		// The name and size frame the content, so that bytes moved from
		// one file to the next change the fingerprint too.
		fmt.Fprintf(h, "\x00%s\x00%s\x00", e.Name(), strconv.FormatInt(n, 10))
		total += n
	}
	return &DataFingerprint{Size: total, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// hashFile streams the file at path into w and returns its size.
func hashFile(w io.Writer, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}
