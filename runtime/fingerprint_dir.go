package runtime

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/trnn/trnn/internal/fileio"
)

// fingerprintDir fingerprints a folder of data (the episodes layout): the
// SHA-256 of each regular file's name, size and bytes, in name order, and
// the files' total size. Any change to a file in the folder, or a file
// added, removed or renamed, changes it, so a resumed run notices data
// that changed as it does for a single file. Subfolders and other entries
// that are not regular files (or links to one) are not data and are left
// out.
func fingerprintDir(dir string) (*DataFingerprint, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("cannot fingerprint the data: %v", fileio.Bare(err))
	}
	h := sha256.New()
	var total int64
	for _, e := range entries {
		if !isRegular(dir, e) {
			continue
		}
		n, err := hashFile(h, filepath.Join(dir, e.Name()), e.Name())
		if err != nil {
			return nil, fmt.Errorf("cannot fingerprint the data: %s: %v", e.Name(), fileio.Bare(err))
		}
		total += n
	}
	return &DataFingerprint{Size: total, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// isRegular reports whether the entry e of dir is a regular file, or a
// link to one (which the readers follow).
func isRegular(dir string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.Type().IsRegular()
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && st.Mode().IsRegular()
}

// hashFile writes name, then the file's bytes, then their count into h,
// so that no two folders hash alike by moving bytes between files.
func hashFile(h io.Writer, path, name string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(name)))
	h.Write(lenBuf[:])
	io.WriteString(h, name)
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(n))
	h.Write(lenBuf[:])
	return n, nil
}
