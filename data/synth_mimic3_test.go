package data

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestMimic3Variables checks the 17 variables against mimic3-benchmarks'
// names and its discretizer's category strings, in its order, and that
// every GCS spelling the story charts is one of them.
func TestMimic3Variables(t *testing.T) {
	want := []string{"Capillary refill rate", "Diastolic blood pressure", "Fraction inspired oxygen",
		"Glascow coma scale eye opening", "Glascow coma scale motor response", "Glascow coma scale total",
		"Glascow coma scale verbal response", "Glucose", "Heart Rate", "Height", "Mean blood pressure",
		"Oxygen saturation", "Respiratory rate", "Systolic blood pressure", "Temperature", "Weight", "pH"}
	cats := map[string][]string{
		"Capillary refill rate":              {"0.0", "1.0"},
		"Glascow coma scale eye opening":     {"To Pain", "3 To speech", "1 No Response", "4 Spontaneously", "None", "To Speech", "Spontaneously", "2 To pain"},
		"Glascow coma scale motor response":  {"1 No Response", "3 Abnorm flexion", "Abnormal extension", "No response", "4 Flex-withdraws", "Localizes Pain", "Flex-withdraws", "Obeys Commands", "Abnormal Flexion", "6 Obeys Commands", "5 Localizes Pain", "2 Abnorm extensn"},
		"Glascow coma scale total":           {"11", "10", "13", "12", "15", "14", "3", "5", "4", "7", "6", "9", "8"},
		"Glascow coma scale verbal response": {"1 No Response", "No Response", "Confused", "Inappropriate Words", "Oriented", "No Response-ETT", "5 Oriented", "Incomprehensible sounds", "1.0 ET/Trach", "4 Confused", "2 Incomp sounds", "3 Inapprop words"},
	}
	cols, tableCats := Mimic3Table(1)
	if !slices.Equal(cols.Features, want) || cols.ID != "stay" || cols.Step != "Hours" || !slices.Equal(cols.Labels, []string{"died"}) {
		t.Fatalf("columns %+v", cols)
	}
	for f, name := range want {
		if !slices.Equal(tableCats[f], cats[name]) {
			t.Errorf("%s: categories %q, want %q", name, tableCats[f], cats[name])
		}
	}
	for _, system := range mimic3GCS {
		for c, v := range []int{mGCSEye, mGCSMotor, mGCSVerbal} {
			for _, s := range system[c] {
				if !slices.Contains(Mimic3Variables[v].Categories, s) {
					t.Errorf("%s: %q is no category", Mimic3Variables[v].Name, s)
				}
			}
		}
	}
	if got := Mimic3Labels(25); len(got) != 25 || got[0] != "Acute and unspecified renal failure" || got[24] != "Shock" {
		t.Errorf("phenotypes %q", got)
	}
}

// mimic3Schema reads what SynthMimic3 writes, binned by the hour.
func mimic3Schema(K int) Schema {
	cols, cats := Mimic3Table(K)
	return Schema{Features: mimic3F, Labels: K, Columns: cols, Missing: true, Categories: cats, Bin: 1}
}

// TestSynthMimic3ReadsBack writes stays as an episodes folder and as a CSV
// table, reads both back binned by the hour, and checks that they agree,
// that stays are named like mimic3-benchmarks' files, that the seed alone
// decides the data, and that each stay lasts its hours.
func TestSynthMimic3ReadsBack(t *testing.T) {
	o := SynthOptions{N: 40, MinLen: 10, MaxLen: 30, K: 25, Seed: 3}
	d := SynthMimic3(o)
	if again := SynthMimic3(o); !slices.EqualFunc(d.X, again.X, equalNaN) || !slices.Equal(d.Y, again.Y) || !slices.Equal(d.IDs, again.IDs) {
		t.Fatal("the same options gave other data")
	}
	o.Seed = 4
	if other := SynthMimic3(o); slices.Equal(d.Y, other.Y) {
		t.Error("another seed gave the same labels")
	}
	cols, cats := Mimic3Table(25)
	dir := t.TempDir()
	opt := TableOptions{Columns: cols, Categories: cats}
	if err := WriteEpisodes(filepath.Join(dir, "ep"), d, opt); err != nil {
		t.Fatal(err)
	}
	if err := WriteTable(filepath.Join(dir, "t.csv"), d, opt); err != nil {
		t.Fatal(err)
	}
	ep, err := Load(filepath.Join(dir, "ep"), mimic3Schema(25))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Load(filepath.Join(dir, "t.csv"), mimic3Schema(25))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(ep.X, tab.X, equalNaN) || !slices.Equal(ep.Y, d.Y) || !slices.Equal(tab.Y, d.Y) {
		t.Error("the episodes folder and the CSV table read back differently")
	}
	for i := range ep.N() {
		if want := d.IDs[i] + "_timeseries.csv"; ep.ID(i) != want || !validStayName(d.IDs[i]) {
			t.Errorf("stay %d is %s, want %s like 10011_episode1", i, ep.ID(i), want)
		}
		hours := ep.Len(i)
		last, _ := strconv.ParseFloat(d.StepValues[i][d.Len(i)-1], 64)
		if hours > o.MaxLen || last < 0 || last >= float64(o.MaxLen) || int(last) != hours-1 {
			t.Errorf("stay %d: %d hourly steps, last charted at %v hours", i, hours, last)
		}
	}
}

func equalNaN(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return x == y || x != x && y != y })
}

func validStayName(id string) bool {
	var subject, episode int
	n, err := fmt.Sscanf(id, "%d_episode%d", &subject, &episode)
	return err == nil && n == 2 && subject >= 10000 && episode >= 1
}

// TestSynthMimic3Chart checks what the chart holds, hour by hour over 48
// hour stays: values in range and charted as MIMIC-III charts them
// (vitals nearly every hour, the coma scale every few, blood gases,
// height and weight rarely), the GCS total only in CareVue stays, and
// mortality near its prevalence.
func TestSynthMimic3Chart(t *testing.T) {
	o := SynthOptions{N: 600, MinLen: 48, MaxLen: 48, K: 1, Seed: 1}
	d := SynthMimic3(o)
	var charted [mimic3F]int
	rows, hours := 0, 0
	for i := range d.N() {
		seen := map[[2]int]bool{} // (variable, hour)
		for r := range d.Len(i) {
			h, _ := strconv.ParseFloat(d.StepValues[i][r], 64)
			for f, v := range d.X[i][r*mimic3F : (r+1)*mimic3F] {
				if math.IsNaN(float64(v)) {
					continue
				}
				m := Mimic3Variables[f]
				if m.Categories == nil && (v < float32(m.Lo) || v > float32(m.Hi)) ||
					m.Categories != nil && (v != float32(int(v)) || int(v) >= len(m.Categories)) {
					t.Fatalf("stay %s at %v h: %s = %v", d.IDs[i], h, m.Name, v)
				}
				if !seen[[2]int{f, int(h)}] {
					seen[[2]int{f, int(h)}] = true
					charted[f]++
				}
			}
		}
		rows += d.Len(i)
		hours += o.MaxLen
	}
	share := func(f int) float64 { return float64(charted[f]) / float64(hours) }
	for _, c := range []struct {
		v      int
		lo, hi float64
	}{
		{mHR, 0.85, 1}, {mSBP, 0.75, 1}, {mSpO2, 0.75, 1}, {mTemp, 0.15, 0.4},
		{mGCSEye, 0.2, 0.5}, {mGCSTotal, 0.1, 0.3}, {mCapRefill, 0.05, 0.15}, {mGlucose, 0.1, 0.3},
		{mPH, 0.005, 0.05}, {mWeight, 0.005, 0.02}, {mHeight, 0.002, 0.01},
	} {
		if s := share(c.v); s < c.lo || s > c.hi {
			t.Errorf("%s charted in %.3f of the hours, want [%v, %v]", Mimic3Variables[c.v].Name, s, c.lo, c.hi)
		}
	}
	if r := float64(rows) / float64(hours); r < 1 || r > 2 {
		t.Errorf("%.2f chart rows an hour", r)
	}
	if p := float64(d.Positives()[0]) / float64(d.N()); math.Abs(p-0.135) > 0.04 {
		t.Errorf("mortality %.3f, want about 0.135", p)
	}
}

// TestSynthMimic3EvidenceIsEarly scores each stay by its lowest GCS total
// charted within a window and checks that the score tells who dies in the
// first hours and not after them: the evidence must be carried.
func TestSynthMimic3EvidenceIsEarly(t *testing.T) {
	d := SynthMimic3(SynthOptions{N: 3000, MinLen: 48, MaxLen: 48, K: 1, Seed: 2})
	auroc := func(from, to float64) float64 {
		var pos, neg []float64
		for i := range d.N() {
			low := math.Inf(1)
			for r := range d.Len(i) {
				h, _ := strconv.ParseFloat(d.StepValues[i][r], 64)
				if v := d.X[i][r*mimic3F+mGCSTotal]; h >= from && h < to && !math.IsNaN(float64(v)) {
					total, _ := strconv.Atoi(Mimic3Variables[mGCSTotal].Categories[int(v)])
					low = min(low, float64(total))
				}
			}
			if math.IsInf(low, 1) {
				continue
			}
			if d.Y[i] == 1 {
				pos = append(pos, -low)
			} else {
				neg = append(neg, -low)
			}
		}
		return mannWhitney(pos, neg)
	}
	if a := auroc(0, 3); a < 0.75 {
		t.Errorf("the lowest GCS total of the first 3 hours has AUROC %.3f, want ≥ 0.75", a)
	}
	if a := auroc(8, 48); math.Abs(a-0.5) > 0.05 {
		t.Errorf("the lowest GCS total after 8 hours has AUROC %.3f, want about 0.5", a)
	}
}

// mannWhitney is the AUROC of scores pos against neg, ties counting half.
func mannWhitney(pos, neg []float64) float64 {
	var wins float64
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				wins++
			case p == n:
				wins += 0.5
			}
		}
	}
	return wins / float64(len(pos)*len(neg))
}

// TestSynthMimic3Phenotypes checks the 25 labels' prevalences and that each
// label shows in its variables early: Essential hypertension in the
// systolic pressure of the first 3 hours, not after hour 8.
func TestSynthMimic3Phenotypes(t *testing.T) {
	d := SynthMimic3(SynthOptions{N: 2000, MinLen: 24, MaxLen: 72, K: 25, Seed: 5})
	for k, n := range d.Positives() {
		if p := float64(n) / float64(d.N()); math.Abs(p-mimic3Phenotypes[k].rate) > 0.035 {
			t.Errorf("%s: prevalence %.3f, want about %v", mimic3Phenotypes[k].name, p, mimic3Phenotypes[k].rate)
		}
	}
	const k = 13 // Essential hypertension
	if mimic3Phenotypes[k].name != "Essential hypertension" {
		t.Fatal(mimic3Phenotypes[k].name)
	}
	mean := func(from, to float64) float64 {
		var pos, neg []float64
		for i := range d.N() {
			var sum, n float64
			for r := range d.Len(i) {
				h, _ := strconv.ParseFloat(d.StepValues[i][r], 64)
				if v := d.X[i][r*mimic3F+mSBP]; h >= from && h < to && !math.IsNaN(float64(v)) {
					sum, n = sum+float64(v), n+1
				}
			}
			if n == 0 {
				continue
			}
			if d.Y[i*25+k] == 1 {
				pos = append(pos, sum/n)
			} else {
				neg = append(neg, sum/n)
			}
		}
		return mannWhitney(pos, neg)
	}
	if a := mean(0, 3); a < 0.75 {
		t.Errorf("systolic pressure of the first 3 hours tells Essential hypertension with AUROC %.3f, want ≥ 0.75", a)
	}
	if a := mean(8, 72); math.Abs(a-0.5) > 0.05 {
		t.Errorf("systolic pressure after 8 hours tells Essential hypertension with AUROC %.3f, want about 0.5", a)
	}
}

// TestValidateMimic3 checks that each bad option is named as its flag.
func TestValidateMimic3(t *testing.T) {
	good := SynthOptions{N: 10, MinLen: 48, MaxLen: 48, K: 1, Seed: 1}
	for _, c := range []struct {
		edit func(o *SynthOptions)
		want string
	}{
		{func(o *SynthOptions) { o.N = 0 }, "--n: must be at least 1, got 0"},
		{func(o *SynthOptions) { o.MinLen = 0 }, "--min-len: must be at least 1 hour, got 0"},
		{func(o *SynthOptions) { o.MaxLen = 12 }, "--max-len: must be at least --min-len (48 hours), got 12"},
		{func(o *SynthOptions) { o.K = 3 }, "--labels: with --mimic3, 1 (in-hospital mortality) or 25 (phenotypes), got 3"},
		{func(o *SynthOptions) { o.PosRate = 1 }, "--pos-rate: must be in (0, 1), got 1"},
		{func(o *SynthOptions) { o.N, o.MaxLen = 1_000_000, 1000 }, "--n × --max-len: at most 2^28 values (17 variables, up to 5 chart rows an hour), got 1000000 × 1000"},
	} {
		o := good
		c.edit(&o)
		if err := o.ValidateMimic3(); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %s", err, c.want)
		}
	}
	if err := good.ValidateMimic3(); err != nil {
		t.Error(err)
	}
}
