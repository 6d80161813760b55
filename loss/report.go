package loss

import "encoding/json"

// Report is an evaluation as JSON: what `trnn eval --json` prints and what
// a run directory's test.json holds, so that the two can be compared key
// for key.
type Report struct {
	Model     string  `json:"model"`
	Data      string  `json:"data"`
	Sequences int     `json:"sequences"`
	Labels    int     `json:"labels"`
	Threshold float64 `json:"threshold"`
	// ThresholdRule is the rule that chose Threshold (best_f1, youden,
	// sensitivity=S); empty when the threshold was given as a number.
	ThresholdRule string           `json:"threshold_rule,omitempty"`
	Metrics       map[string]Value `json:"metrics"`
	// Bootstrap holds the confidence intervals, when computed.
	Bootstrap *BootstrapReport `json:"bootstrap,omitempty"`
	// PerLabel is set for several labels only.
	PerLabel []LabelReport `json:"per_label,omitempty"`
}

// BootstrapReport describes Bootstrap's intervals and how they were drawn.
type BootstrapReport struct {
	Replicates int                 `json:"replicates"`
	Seed       uint64              `json:"seed"`
	Level      float64             `json:"level"`
	Intervals  map[string]Interval `json:"intervals"`
}

// LabelReport is one label's line of a Report.
type LabelReport struct {
	Name      string `json:"name"`
	Positives int    `json:"positives"`
	AUROC     Value  `json:"auroc"`
	AUPRC     Value  `json:"auprc"`
	F1        Value  `json:"f1"`
}

// NewReport is the Report of m, naming its labels by names (len K): the
// metrics worth reporting for its label count (Reported). rule is the
// threshold's rule; a fixed threshold leaves it out.
func NewReport(model, data string, m *Metrics, names []string, rule ThresholdRule) *Report {
	r := &Report{Model: model, Data: data, Sequences: m.N, Labels: m.K, Threshold: m.Threshold, Metrics: map[string]Value{}}
	if rule.Rule != RuleFixed {
		r.ThresholdRule = rule.String()
	}
	for _, n := range Reported(m.K) {
		v, ok := m.Get(n)
		r.Metrics[n] = Value{V: v, OK: ok}
	}
	if m.K > 1 {
		for k, l := range m.Labels {
			r.PerLabel = append(r.PerLabel, LabelReport{names[k], l.Positives, l.AUROC, l.AUPRC, l.F1})
		}
	}
	return r
}

// AddBootstrap records the intervals of the report's metrics among iv,
// computed by Bootstrap with reps replicates and seed.
func (r *Report) AddBootstrap(iv map[string]Interval, reps int, seed uint64) {
	b := &BootstrapReport{Replicates: reps, Seed: seed, Level: BootstrapLevel, Intervals: map[string]Interval{}}
	for n := range r.Metrics {
		b.Intervals[n] = iv[n]
	}
	r.Bootstrap = b
}

// UnmarshalJSON reads what MarshalJSON writes: a number, or null for an
// undefined value.
func (v *Value) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = undefined
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*v = defined(f)
	return nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var j struct {
		Lo, Hi  Value
		Defined int
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*iv = Interval{Lo: j.Lo, Hi: j.Hi, Defined: j.Defined}
	return nil
}
