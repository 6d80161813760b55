package runtime

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnn/trnn/internal/fileio"
)

func sampleCheckpoint() *Checkpoint {
	return &Checkpoint{
		Header: CheckpointHeader{
			TrnnVersion: "test", Spec: "name: s\n", Epoch: 3, Step: 96, Optimizer: "adam",
			Best:    &Best{Epoch: 2, Metric: "auroc", Value: 0.8},
			History: []EpochRecord{{Epoch: 1, TrainLoss: 0.6, Val: map[string]float64{"auroc": 0.7}}, {Epoch: 2}, {Epoch: 3}},
			Tensors: []TensorEntry{{Name: "a", Shape: []int{2, 3}}, {Name: "b", Shape: []int{1}}},
		},
		Tensors: map[string][]float32{"a": {1, 2, 3, 4, 5, -6.5}, "b": {7}},
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), CheckpointFile)
	want := sampleCheckpoint()
	if err := WriteCheckpoint(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Epoch != 3 || got.Header.Step != 96 || got.Header.Best.Value != 0.8 || got.Header.History[0].Val["auroc"] != 0.7 {
		t.Fatalf("header changed in the round trip: %+v", got.Header)
	}
	for name, w := range want.Tensors {
		g := got.Tensors[name]
		if len(g) != len(w) {
			t.Fatalf("tensor %s: %d values, want %d", name, len(g), len(w))
		}
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("tensor %s[%d] = %v, want %v", name, i, g[i], w[i])
			}
		}
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries after an atomic write, want 1", len(entries))
	}
}

func TestCheckpointDamageIsDetected(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CheckpointFile)
	if err := WriteCheckpoint(path, sampleCheckpoint()); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-10] ^= 0x40
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-7], "truncated or corrupted"},
		{"bit flip", flipped, "truncated or corrupted"},
		{"empty", nil, "not a trnn checkpoint"},
		{"other file", []byte("name: spec\nlayers: []\n"), "not a trnn checkpoint"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, c.data, 0o644)
		_, err := ReadCheckpoint(p)
		if err == nil || !strings.HasPrefix(err.Error(), p+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error starting with the path and saying %q", c.name, err, c.want)
		}
	}
	if _, err := ReadCheckpoint(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: got %v", err)
	}
}

// TestCheckpointBadMagic: a file that does not start with the magic is
// "not a trnn checkpoint", and a damaged one named .trnn is still taken
// for a checkpoint (not for a model that fails to parse).
func TestCheckpointBadMagic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CheckpointFile)
	if err := WriteCheckpoint(path, sampleCheckpoint()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	b[7] = 'X' // TRNNCKPX
	os.WriteFile(path, b, 0o644)
	if _, err := ReadCheckpoint(path); err == nil || err.Error() != path+": not a trnn checkpoint (bad magic)" {
		t.Errorf("bad magic: %v", err)
	}
	for _, c := range []struct {
		path string
		head []byte
		want bool
	}{
		{path, b[:8], true},
		{"run/ck.TRNN", []byte("garbage!"), true},
		{"model.onnx", []byte("TRNNCKPT"), true},
		{"model.onnx", []byte{0x08, 0x07, 0x12}, false},
		{"model.onnx", nil, false},
	} {
		if got := IsCheckpoint(c.path, c.head); got != c.want {
			t.Errorf("IsCheckpoint(%s, %q) = %v", c.path, c.head, got)
		}
	}
}

// TestCheckpointHeaderValidated: header fields that contradict each other
// are refused with a message naming the field.
func TestCheckpointHeaderValidated(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		edit func(h *CheckpointHeader)
		want string
	}{
		{func(h *CheckpointHeader) { h.Epoch = -1; h.History = nil; h.Best = nil; h.Stale = 0 }, "epoch: expected the number of epochs completed, found -1"},
		{func(h *CheckpointHeader) { h.Step = -5 }, "step: expected the number of optimizer steps taken, found -5"},
		{func(h *CheckpointHeader) { h.Epoch = 1000 }, "history: expected one record per completed epoch (1000), found 3"},
		{func(h *CheckpointHeader) { h.History[1].Epoch = 7 }, "history[1]: expected epoch 2 with a non-negative number of sequences, found epoch 7 with 0"},
		{func(h *CheckpointHeader) { h.Best.Epoch = 4 }, "best.epoch: expected an epoch from 1 to 3, found 4"},
		{func(h *CheckpointHeader) { h.Stale = -2 }, "stale: expected 0 to 3 epochs without improvement, found -2"},
		{func(h *CheckpointHeader) { h.ClassWeight[1] = -0.5 }, "class_weight[1]: expected a finite weight of 0 or more, found -0.5"},
		{func(h *CheckpointHeader) { h.Spec = "" }, "spec: expected the run's spec, found nothing"},
		{func(h *CheckpointHeader) { h.Tensors[1].Name = "a" }, `tensors[1]: expected a name of its own, found "a"`},
		{func(h *CheckpointHeader) { h.Tensors[0].Shape = []int{-2, -3} }, "tensors[0] (a): shape [-2 -3] has a negative dimension"},
	} {
		ck := sampleCheckpoint()
		c.edit(&ck.Header)
		path := filepath.Join(dir, CheckpointFile)
		if err := writeUnchecked(path, ck); err != nil {
			t.Fatal(err)
		}
		_, err := ReadCheckpoint(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+": checkpoint header: "+c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// writeUnchecked writes c as WriteCheckpoint does, tensors as their data
// say, whatever the header says of their shapes.
func writeUnchecked(path string, c *Checkpoint) error {
	hdr, err := json.Marshal(&c.Header)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	b := le.AppendUint32([]byte(checkpointMagic), checkpointVersion)
	b = le.AppendUint32(b, uint32(len(hdr)))
	b = append(b, hdr...)
	for _, e := range c.Header.Tensors {
		for _, v := range c.Tensors[e.Name] {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
	}
	return os.WriteFile(path, le.AppendUint32(b, crc32.ChecksumIEEE(b)), 0o644)
}

// TestReadCheckpointIsBounded: a checkpoint is read like every file trnn
// reads whole: regular files only, within fileio.MaxBytes.
func TestReadCheckpointIsBounded(t *testing.T) {
	if _, err := ReadCheckpoint("/dev/zero"); err == nil || err.Error() != "/dev/zero: is not a regular file (a character device)" {
		t.Errorf("/dev/zero: %v", err)
	}
	path := filepath.Join(t.TempDir(), CheckpointFile)
	if err := WriteCheckpoint(path, sampleCheckpoint()); err != nil {
		t.Fatal(err)
	}
	t.Setenv(fileio.EnvMaxBytes, "100")
	if _, err := ReadCheckpoint(path); err == nil || !strings.HasPrefix(err.Error(), path+": is ") || !strings.Contains(err.Error(), "over the 100 B limit") {
		t.Errorf("over the limit: %v", err)
	}
}
