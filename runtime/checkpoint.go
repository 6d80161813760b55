package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/internal/atomicfile"
	"github.com/trnn/trnn/internal/fileio"
)

// A checkpoint file holds everything needed to continue a run exactly where
// it stopped: the resolved spec, every parameter (trainable and fitted), the
// optimizer's state, the epoch, the early-stopping state with the best
// weights so far, the learning-rate schedule's state, and the metrics
// history. Its layout:
//
//	"TRNNCKPT"            8 bytes magic
//	version               uint32, little endian (checkpointVersion)
//	header length         uint32
//	header                JSON (checkpointHeader)
//	tensors               float32 little endian, in the order the header lists them
//	crc32                 uint32, IEEE, of every byte before it
//
// It is written atomically (temp file, fsync, rename), so a run killed at any
// moment leaves either the previous checkpoint or the new one.
const (
	checkpointMagic   = "TRNNCKPT"
	checkpointVersion = 1
	// CheckpointFile is the checkpoint's name inside a run directory.
	CheckpointFile = "checkpoint.trnn"
)

// Checkpoint is the decoded content of a checkpoint file.
type Checkpoint struct {
	Header  CheckpointHeader
	Tensors map[string][]float32
}

// CheckpointHeader is the JSON header of a checkpoint.
type CheckpointHeader struct {
	TrnnVersion string           `json:"trnn_version"`
	Spec        string           `json:"spec"`                 // the resolved spec (YAML)
	SpecDir     string           `json:"spec_dir"`             // the spec's folder, for data paths
	Epoch       int              `json:"epoch"`                // epochs completed
	Step        int64            `json:"step"`                 // optimizer steps taken
	Optimizer   string           `json:"optimizer"`            // kind, checked on resume
	TrainFile   string           `json:"train_file"`           // data used, for the record
	ValFile     string           `json:"val_file"`             // "" when split from the training file
	TrainData   *DataFingerprint `json:"train_data,omitempty"` // checked on resume; nil in older checkpoints
	ValData     *DataFingerprint `json:"val_data,omitempty"`   // nil without a validation file
	TestFile    string           `json:"test_file,omitempty"`  // training.test.file, absolute; "" without one
	TestData    *DataFingerprint `json:"test_data,omitempty"`  // nil without a test file
	Best        *Best            `json:"best"`                 // nil before the first validation
	Stale       int              `json:"stale"`                // epochs since the monitored metric improved
	Stopped     bool             `json:"stopped"`              // early stopping ended the run
	ClassWeight [2]float64       `json:"class_weight"`         // the weights in effect (balanced ones resolved)
	StopBest    *float64         `json:"stop_best,omitempty"`  // with validation.min_delta: the value stale counts from
	Schedule    *ScheduleState   `json:"schedule,omitempty"`   // training.lr_schedule's state; nil without one
	History     []EpochRecord    `json:"history"`
	Tensors     []TensorEntry    `json:"tensors"`
}

// Best records the best epoch by the monitored metric.
type Best struct {
	Epoch  int     `json:"epoch"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
}

// TensorEntry describes one float32 array stored after the header.
type TensorEntry struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// EpochRecord is one row of metrics.csv.
type EpochRecord struct {
	Epoch          int                `json:"epoch"`
	TrainLoss      float64            `json:"train_loss"`
	TrainFinalLoss float64            `json:"train_final_loss"`
	Val            map[string]float64 `json:"val,omitempty"` // defined metrics only
	Seconds        float64            `json:"seconds"`
	Sequences      int                `json:"sequences"`
	LR             float64            `json:"lr,omitempty"` // the learning rate the epoch trained with, when a schedule changes it
}

// WriteCheckpoint writes c to path atomically.
func WriteCheckpoint(path string, c *Checkpoint) error {
	var buf bytes.Buffer
	buf.WriteString(checkpointMagic)
	le := binary.LittleEndian
	var u32 [4]byte
	le.PutUint32(u32[:], checkpointVersion)
	buf.Write(u32[:])
	hdr, err := json.Marshal(&c.Header)
	if err != nil {
		return fmt.Errorf("%s: encoding checkpoint header: %v", path, err)
	}
	le.PutUint32(u32[:], uint32(len(hdr)))
	buf.Write(u32[:])
	buf.Write(hdr)
	for _, e := range c.Header.Tensors {
		data, ok := c.Tensors[e.Name]
		if !ok || len(data) != shapeSize(e.Shape) {
			panic(fmt.Sprintf("runtime: checkpoint tensor %q missing or of wrong size", e.Name))
		}
		for _, v := range data {
			le.PutUint32(u32[:], math.Float32bits(v))
			buf.Write(u32[:])
		}
	}
	le.PutUint32(u32[:], crc32.ChecksumIEEE(buf.Bytes()))
	buf.Write(u32[:])
	return writeFileAtomic(path, buf.Bytes())
}

// ReadCheckpoint reads and verifies a checkpoint file: its magic, version,
// checksum and header fields. Like every file trnn reads whole, it must be
// a regular file within fileio.MaxBytes. Errors start with path.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := fileio.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	c, err := decodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}

// IsCheckpoint reports whether a file named path that begins with head is
// meant to be a checkpoint: it begins with the checkpoint magic, or its
// name ends in .trnn. A damaged checkpoint is then reported as "not a trnn
// checkpoint" rather than as a model that fails to parse.
func IsCheckpoint(path string, head []byte) bool {
	return bytes.HasPrefix(head, []byte(checkpointMagic)) || strings.EqualFold(filepath.Ext(path), ".trnn")
}

func decodeCheckpoint(b []byte) (*Checkpoint, error) {
	le := binary.LittleEndian
	if len(b) < 16 || string(b[:8]) != checkpointMagic {
		return nil, errors.New("not a trnn checkpoint (bad magic)")
	}
	if v := le.Uint32(b[8:]); v != checkpointVersion {
		return nil, fmt.Errorf("checkpoint format version %d, this trnn reads version %d", v, checkpointVersion)
	}
	body, sum := b[:len(b)-4], le.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("checkpoint is truncated or corrupted (checksum mismatch)")
	}
	n := int(le.Uint32(b[12:]))
	if 16+n > len(body) {
		return nil, errors.New("checkpoint is truncated (header)")
	}
	c := &Checkpoint{Tensors: map[string][]float32{}}
	if err := json.Unmarshal(body[16:16+n], &c.Header); err != nil {
		return nil, fmt.Errorf("checkpoint header: %v", err)
	}
	if err := checkHeader(&c.Header); err != nil {
		return nil, fmt.Errorf("checkpoint header: %v", err)
	}
	data := body[16+n:]
	for _, e := range c.Header.Tensors {
		size := shapeSize(e.Shape)
		if 4*size > len(data) {
			return nil, fmt.Errorf("checkpoint is truncated (tensor %q)", e.Name)
		}
		v := make([]float32, size)
		for i := range v {
			v[i] = math.Float32frombits(le.Uint32(data[4*i:]))
		}
		data = data[4*size:]
		c.Tensors[e.Name] = v
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("checkpoint has %d unexpected trailing bytes", len(data))
	}
	return c, nil
}

// checkHeader checks what a header's fields say of each other: the
// checksum only shows that the file is as written, and a file written by
// hand or by a faulty program must not resume into a run that makes no
// sense (a best epoch not yet trained, history for epochs never run).
func checkHeader(h *CheckpointHeader) error {
	switch {
	case h.Spec == "":
		return errors.New("spec: expected the run's spec, found nothing")
	case h.Epoch < 0:
		return fmt.Errorf("epoch: expected the number of epochs completed, found %d", h.Epoch)
	case h.Step < 0:
		return fmt.Errorf("step: expected the number of optimizer steps taken, found %d", h.Step)
	case len(h.History) != h.Epoch:
		return fmt.Errorf("history: expected one record per completed epoch (%d), found %d", h.Epoch, len(h.History))
	case h.Stale < 0 || h.Stale > h.Epoch:
		return fmt.Errorf("stale: expected 0 to %d epochs without improvement, found %d", h.Epoch, h.Stale)
	case h.Best != nil && (h.Best.Epoch < 1 || h.Best.Epoch > h.Epoch):
		return fmt.Errorf("best.epoch: expected an epoch from 1 to %d, found %d", h.Epoch, h.Best.Epoch)
	}
	for i, r := range h.History {
		if r.Epoch != i+1 || r.Sequences < 0 {
			return fmt.Errorf("history[%d]: expected epoch %d with a non-negative number of sequences, found epoch %d with %d", i, i+1, r.Epoch, r.Sequences)
		}
	}
	for i, w := range h.ClassWeight {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return fmt.Errorf("class_weight[%d]: expected a finite weight of 0 or more, found %g", i, w)
		}
	}
	if err := checkSchedule(h); err != nil {
		return err
	}
	seen := make(map[string]bool, len(h.Tensors))
	for i, e := range h.Tensors {
		switch {
		case e.Name == "" || seen[e.Name]:
			return fmt.Errorf("tensors[%d]: expected a name of its own, found %q", i, e.Name)
		case shapeSize(e.Shape) < 0:
			return fmt.Errorf("tensors[%d] (%s): shape %v has a negative dimension or more than %d values", i, e.Name, e.Shape, math.MaxInt32)
		}
		seen[e.Name] = true
	}
	return nil
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return -1
		}
		n *= d
	}
	return n
}

// writeFileAtomic writes data to path atomically (see atomicfile).
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.WriteBytes(path, data); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// Program rebuilds the trained program a checkpoint holds: its spec
// compiled anew, with the parameters filled from the stored values — the
// best epoch's when best is true and the run validated, else the latest.
// No initialiser runs: every value comes from the checkpoint.
func (c *Checkpoint) Program(file string, best bool) (*compiler.Program, error) {
	spec, err := compiler.Parse(file+" (spec)", []byte(c.Header.Spec))
	if err != nil {
		return nil, err
	}
	spec.Dir = c.Header.SpecDir
	prog, err := compiler.Compile(spec)
	if err != nil {
		return nil, err
	}
	for _, p := range prog.Graph.Params {
		v, ok := c.Tensors["param/"+p.Name]
		if b, okb := c.Tensors["best/"+p.Name]; best && okb && c.Header.Best != nil {
			v, ok = b, true
		}
		if !ok || len(v) != len(p.Tensor.F32) {
			return nil, fmt.Errorf("%s: parameter %s is missing or has another shape than the spec's", file, p.Name)
		}
		copy(p.Tensor.F32, v)
	}
	prog.Initialized = true
	return prog, nil
}

// DataFingerprint identifies the content of a data file.
type DataFingerprint struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hexadecimal
}

// String describes the fingerprint for messages: "1.2 MiB, SHA-256 3f2a…".
func (f *DataFingerprint) String() string {
	return fmt.Sprintf("%s, SHA-256 %.12s…", fileio.Bytes(f.Size), f.SHA256)
}

// fingerprint reads the regular file path through and returns its size
// and SHA-256; a folder (the episodes layout) is fingerprinted by
// fingerprintDir. It streams, so a data file of any size costs no memory.
// Errors do not name the file (callers do).
func fingerprint(path string) (*DataFingerprint, error) {
	// Stat first: opening a named pipe would block.
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		return fingerprintDir(path)
	}
	if err != nil || !st.Mode().IsRegular() {
		return nil, errors.New("cannot fingerprint the data: not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileio.Bare(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("cannot fingerprint the data: %v", fileio.Bare(err))
	}
	return &DataFingerprint{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
