package runtime

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/internal/atomicfile"
	"github.com/trnn/trnn/internal/fileio"
)

// A checkpoint file holds everything needed to continue a run exactly where
// it stopped: the resolved spec, every parameter (trainable and fitted), the
// optimizer's state, the epoch, the early-stopping state with the best
// weights so far, and the metrics history. Its layout:
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
	TrnnVersion string        `json:"trnn_version"`
	Spec        string        `json:"spec"`         // the resolved spec (YAML)
	SpecDir     string        `json:"spec_dir"`     // the spec's folder, for data paths
	Epoch       int           `json:"epoch"`        // epochs completed
	Step        int64         `json:"step"`         // optimizer steps taken
	Optimizer   string        `json:"optimizer"`    // kind, checked on resume
	TrainFile   string        `json:"train_file"`   // data used, for the record
	ValFile     string        `json:"val_file"`     // "" when split from the training file
	Best        *Best         `json:"best"`         // nil before the first validation
	Stale       int           `json:"stale"`        // epochs since the monitored metric improved
	Stopped     bool          `json:"stopped"`      // early stopping ended the run
	ClassWeight [2]float64    `json:"class_weight"` // the weights in effect (balanced ones resolved)
	History     []EpochRecord `json:"history"`
	Tensors     []TensorEntry `json:"tensors"`
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

// ReadCheckpoint reads and verifies a checkpoint file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, fileio.Bare(err))
	}
	c, err := decodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
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
	data := body[16+n:]
	for _, e := range c.Header.Tensors {
		size := shapeSize(e.Shape)
		if size < 0 || 4*size > len(data) {
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
// compiled anew, with the parameters replaced by the stored values — the
// best epoch's when best is true and the run validated, else the latest.
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
	return prog, nil
}
