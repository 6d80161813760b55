package compiler

import (
	"strings"
	"testing"
)

// TestPlateauDefaults: fields left out of reduce_on_plateau take Keras'
// defaults, and a spec without lr_schedule or min_delta resolves to the
// same text as before they existed (it is written into every model).
func TestPlateauDefaults(t *testing.T) {
	const base = "inputs: {features: 2}\nlayers: [{lstm: {units: 3}}]\noutputs: {labels: 1}\n"
	s, err := Parse("s.yaml", []byte(base+"training:\n  lr_schedule: {reduce_on_plateau: {}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := ReduceOnPlateau{Factor: 0.1, Patience: 10, MinDelta: 1e-4}
	if r := s.Training.LRSchedule.ReduceOnPlateau; *r != want {
		t.Fatalf("reduce_on_plateau: {} gives %+v, want Keras' defaults %+v", *r, want)
	}
	plain, err := Parse("s.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := MarshalSpec(plain)
	if strings.Contains(string(b), "lr_schedule") || strings.Contains(string(b), "min_delta") {
		t.Fatalf("a spec without a schedule resolves to\n%s", b)
	}
}

// TestLearningRateOverride: a learning rate from the command line that the
// rules refuse is reported under the flag's name.
func TestLearningRateOverride(t *testing.T) {
	s, err := Parse("s.yaml", []byte("inputs: {features: 2}\nlayers: [{lstm: {units: 3}}]\noutputs: {labels: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.Training.LearningRate = -0.5
	s.SetOrigin("training.learning_rate", "--learning-rate")
	err = s.Validate()
	if err == nil || err.Error() != "--learning-rate: must be a non-negative number, got -0.5" {
		t.Fatalf("got %v", err)
	}
}

func TestSuggestValue(t *testing.T) {
	metrics := MonitorMetrics
	for got, want := range map[string]string{
		"val_auroc": "auroc", "val_loss": "loss", "validation_macro_auroc": "macro_auroc", "VAL_AUPRC": "auprc",
		"roc_auc": "auroc", "average_precision": "auprc", "aucroc": "auroc", "acc": "accuracy",
		"val_aucroc": "auroc", "perplexity": "", "val_": "", "auc_pr": "auprc",
	} {
		if s := suggestValue(got, metrics); s != want {
			t.Errorf("suggestValue(%q) = %q, want %q", got, s, want)
		}
	}
	if s := suggestValue("zscore", normalizeNames); s != "standard" {
		t.Errorf("zscore: %q", s)
	}
	// An alias whose target the field does not have is no suggestion.
	if s := suggestValue("roc_auc", normalizeNames); s != "" {
		t.Errorf("roc_auc among normalize's values: %q", s)
	}
}
