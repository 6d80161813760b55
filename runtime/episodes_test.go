package runtime

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/data"
)

// episodesSpec trains on an episodes folder with a validation and a test
// folder, all named as folders without a trailing slash.
const episodesSpec = `
name: ep
inputs: {features: 3}
layers: [{lstm: {units: 5}}]
outputs: {labels: [y]}
training: {batch_size: 8, epochs: 2, seed: 3, validation: {file: val}, test: {file: test, bootstrap: 0}}
data: {train: train, csv: {id: stay, step: Hours}}
`

// TestTrainFromEpisodesFolders trains from folders in the episodes layout
// named by data.train, training.validation.file and training.test.file,
// and checks that the weights are those of the same sequences written as
// long-form CSV files, bit for bit; then that a resumed run notices a stay
// file that changed.
func TestTrainFromEpisodesFolders(t *testing.T) {
	dir := t.TempDir()
	opt := data.TableOptions{Columns: data.SynthColumns(3, 1)}
	csvSpec := strings.NewReplacer("file: val}", "file: val.csv}", "file: test,", "file: test.csv,",
		"train: train,", "train: train.csv,", "id: stay, step: Hours", "id: id, step: step").Replace(episodesSpec)
	for i, part := range []string{"train", "val", "test"} {
		d := data.Synth(data.SynthOptions{N: 24, MinLen: 2, MaxLen: 9, F: 3, K: 1, Seed: uint64(10 + i), PosRate: 0.4})
		if err := data.WriteEpisodes(filepath.Join(dir, part), d, opt); err != nil {
			t.Fatal(err)
		}
		if err := data.WriteTable(filepath.Join(dir, part+".csv"), d, opt); err != nil {
			t.Fatal(err)
		}
	}
	var params [2][]float32
	for k, src := range []string{episodesSpec, csvSpec} {
		spec := filepath.Join(dir, "spec.yaml")
		if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "run"+string(rune('a'+k)))
		if _, err := Train(context.Background(), Config{SpecFile: spec, Out: out, Epochs: 1, EpochsSet: true}); err != nil {
			t.Fatalf("spec %d: %v", k, err)
		}
		params[k] = checkpointParams(t, out)
	}
	if !slices.Equal(params[0], params[1]) {
		t.Error("training from episodes folders gives other weights than from the same data in CSV")
	}

	stay := filepath.Join(dir, "train", "3_timeseries.csv")
	b, err := os.ReadFile(stay)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stay, append(b, "9,0,0,0\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Train(context.Background(), Config{Resume: filepath.Join(dir, "runa"), Epochs: 2, EpochsSet: true})
	if want := filepath.Join(dir, "train") + ": the training data changed since the run started"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("resume after a stay file changed: %v, want %s...", err, want)
	}
}

// TestFingerprintEpisodesDir checks that a folder's fingerprint follows the names
// and contents of its files, and nothing else.
func TestFingerprintEpisodesDir(t *testing.T) {
	write := func(dir string, files map[string]string) string {
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	base := map[string]string{"listfile.csv": "stay,y_true\na.csv,1\n", "a.csv": "Hours,hr\n0,80\n"}
	variants := []map[string]string{
		{"listfile.csv": "stay,y_true\na.csv,0\n", "a.csv": "Hours,hr\n0,80\n"},                     // a label
		{"listfile.csv": "stay,y_true\na.csv,1\n", "b.csv": "Hours,hr\n0,80\n"},                     // a renamed stay
		{"listfile.csv": "stay,y_true\na.csv,1\n", "a.csv": "Hours,hr\n0,80\n", "c.csv": ""},        // an added file
		{"listfile.csv": "stay,y_true\na.csv,1\nH", "a.csv": "ours,hr\n0,80\n"},                     // bytes moved between files
		{"listfile.csv": "stay,y_true\na.csv,1\n", "a.csv": "Hours,hr\n0,81\n", "x": "stay,y_true"}, // a value
	}
	root := t.TempDir()
	want, err := fingerprintDir(write(filepath.Join(root, "base"), base))
	if err != nil {
		t.Fatal(err)
	}
	if want.Size != int64(len(base["listfile.csv"])+len(base["a.csv"])) {
		t.Errorf("size %d, want the files' total", want.Size)
	}
	if same, err := fingerprint(write(filepath.Join(root, "copy"), base)); err != nil || *same != *want {
		t.Errorf("a copy of the folder: %+v, %v; want %+v", same, err, want)
	}
	linked := write(filepath.Join(root, "linked"), map[string]string{"listfile.csv": base["listfile.csv"]})
	if err := os.Symlink(filepath.Join(root, "base", "a.csv"), filepath.Join(linked, "a.csv")); err != nil {
		t.Fatal(err)
	}
	if same, err := fingerprint(linked); err != nil || *same != *want {
		t.Errorf("a folder linking to its stay file: %+v, %v; want %+v", same, err, want)
	}
	for i, v := range variants {
		got, err := fingerprint(write(filepath.Join(root, string(rune('a'+i))), v))
		if err != nil || *got == *want {
			t.Errorf("variant %d: %+v, %v: the change went unnoticed", i, got, err)
		}
	}
}
