package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleCheckpoint() *Checkpoint {
	return &Checkpoint{
		Header: CheckpointHeader{
			TrnnVersion: "test", Spec: "name: s\n", Epoch: 3, Step: 96, Optimizer: "adam",
			Best:    &Best{Epoch: 2, Metric: "auroc", Value: 0.8},
			History: []EpochRecord{{Epoch: 1, TrainLoss: 0.6, Val: map[string]float64{"auroc": 0.7}}},
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
