package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Shapes: N stays, rows_i chart rows of stay i (one per charting time),
// the 17 Mimic3Variables per row, K = 1 or 25 labels.

// Mimic3Variable is one of the 17 variables mimic3-benchmarks reads from a
// stay's time series, named as its episode files name the column.
type Mimic3Variable struct {
	Name string
	// Categories are the strings the chart holds, in the order of
	// mimic3-benchmarks' discretizer; nil for a numeric variable.
	Categories []string
	// A numeric variable's typical value, its spread between patients and
	// from one charting to the next, its plausible range and the decimals
	// it is charted with.
	Normal, Between, Within, Lo, Hi float64
	Decimals                        int
}

// Mimic3Variables are mimic3-benchmarks' 17 variables, in its column order.
var Mimic3Variables = []Mimic3Variable{
	{Name: "Capillary refill rate", Categories: []string{"0.0", "1.0"}},
	{Name: "Diastolic blood pressure", Normal: 59, Between: 9, Within: 7, Lo: 15, Hi: 150},
	{Name: "Fraction inspired oxygen", Normal: 0.45, Between: 0.1, Within: 0.06, Lo: 0.21, Hi: 1, Decimals: 2},
	{Name: "Glascow coma scale eye opening", Categories: []string{"To Pain", "3 To speech", "1 No Response", "4 Spontaneously", "None", "To Speech", "Spontaneously", "2 To pain"}},
	{Name: "Glascow coma scale motor response", Categories: []string{"1 No Response", "3 Abnorm flexion", "Abnormal extension", "No response", "4 Flex-withdraws", "Localizes Pain", "Flex-withdraws", "Obeys Commands", "Abnormal Flexion", "6 Obeys Commands", "5 Localizes Pain", "2 Abnorm extensn"}},
	{Name: "Glascow coma scale total", Categories: []string{"11", "10", "13", "12", "15", "14", "3", "5", "4", "7", "6", "9", "8"}},
	{Name: "Glascow coma scale verbal response", Categories: []string{"1 No Response", "No Response", "Confused", "Inappropriate Words", "Oriented", "No Response-ETT", "5 Oriented", "Incomprehensible sounds", "1.0 ET/Trach", "4 Confused", "2 Incomp sounds", "3 Inapprop words"}},
	{Name: "Glucose", Normal: 128, Between: 25, Within: 25, Lo: 30, Hi: 600},
	{Name: "Heart Rate", Normal: 86, Between: 11, Within: 6, Lo: 30, Hi: 200},
	{Name: "Height", Normal: 170, Between: 10, Lo: 140, Hi: 205},
	{Name: "Mean blood pressure", Normal: 77, Between: 9, Within: 7, Lo: 25, Hi: 180},
	{Name: "Oxygen saturation", Normal: 98, Between: 1, Within: 1.3, Lo: 60, Hi: 100},
	{Name: "Respiratory rate", Normal: 19, Between: 3.5, Within: 2.5, Lo: 4, Hi: 60},
	{Name: "Systolic blood pressure", Normal: 118, Between: 15, Within: 9, Lo: 50, Hi: 240},
	{Name: "Temperature", Normal: 36.6, Between: 0.4, Within: 0.25, Lo: 33, Hi: 42, Decimals: 1},
	{Name: "Weight", Normal: 81, Between: 20, Within: 0.8, Lo: 35, Hi: 250, Decimals: 1},
	{Name: "pH", Normal: 7.4, Between: 0.03, Within: 0.03, Lo: 6.8, Hi: 7.7, Decimals: 2},
}

// Indices of Mimic3Variables the story refers to.
const (
	mCapRefill = iota
	mDBP
	mFiO2
	mGCSEye
	mGCSMotor
	mGCSTotal
	mGCSVerbal
	mGlucose
	mHR
	mHeight
	mMBP
	mSpO2
	mRR
	mSBP
	mTemp
	mWeight
	mPH
	mimic3F
)

// mimic3GCS are a GCS item's strings for each score from 1, as the two
// charting systems of MIMIC-III spell them: CareVue (which also charts
// the total) and MetaVision (which does not). Index 0 of verbal is the
// intubated patient's "no response".
var mimic3GCS = [2][3][]string{
	{ // CareVue
		{"None", "To Pain", "To Speech", "Spontaneously"},
		{"No response", "Abnormal extension", "Abnormal Flexion", "Flex-withdraws", "Localizes Pain", "Obeys Commands"},
		{"No Response", "Incomprehensible sounds", "Inappropriate Words", "Confused", "Oriented", "No Response-ETT"},
	},
	{ // MetaVision
		{"1 No Response", "2 To pain", "3 To speech", "4 Spontaneously"},
		{"1 No Response", "2 Abnorm extensn", "3 Abnorm flexion", "4 Flex-withdraws", "5 Localizes Pain", "6 Obeys Commands"},
		{"1 No Response", "2 Incomp sounds", "3 Inapprop words", "4 Confused", "5 Oriented", "1.0 ET/Trach"},
	},
}

// mimic3Effect is what a positive label does to one variable during the
// first hours of the stay: a shift in units of the variable's Within
// spread (GCS: points of the total; capillary refill: the probability of
// an abnormal "1.0", in tenths).
type mimic3Effect struct {
	v     int
	shift float64
}

// mimic3Label is one label of the story: its name (the listfile column),
// its prevalence and its early effects.
type mimic3Label struct {
	name    string
	rate    float64
	effects []mimic3Effect
}

// mimic3Mortality is in-hospital mortality: a patient who dies is sicker on
// admission, most visibly in the rarely charted GCS and blood gas.
var mimic3Mortality = mimic3Label{"died", 0.135, []mimic3Effect{
	{mGCSTotal, -6}, {mPH, -3}, {mFiO2, 2}, {mCapRefill, 3},
}}

// mimic3Phenotypes are the 25 acute care conditions of mimic3-benchmarks'
// phenotyping task, named as its listfile names them, each tied to the
// early behaviour of a variable or two. Several share a variable, so they
// are told apart less well than mortality.
var mimic3Phenotypes = []mimic3Label{
	{"Acute and unspecified renal failure", 0.21, []mimic3Effect{{mMBP, -1.5}, {mPH, -1.5}}},
	{"Acute cerebrovascular disease", 0.08, []mimic3Effect{{mGCSTotal, -5}}},
	{"Acute myocardial infarction", 0.10, []mimic3Effect{{mHR, 2}, {mSBP, -1.5}}},
	{"Cardiac dysrhythmias", 0.32, []mimic3Effect{{mHR, 2.5}}},
	{"Chronic kidney disease", 0.13, []mimic3Effect{{mWeight, 3}, {mPH, -1}}},
	{"Chronic obstructive pulmonary disease and bronchiectasis", 0.13, []mimic3Effect{{mSpO2, -2}, {mRR, 1.5}}},
	{"Complications of surgical procedures or medical care", 0.20, []mimic3Effect{{mTemp, 2}}},
	{"Conduction disorders", 0.07, []mimic3Effect{{mHR, -3}}},
	{"Congestive heart failure; nonhypertensive", 0.27, []mimic3Effect{{mFiO2, 2}, {mSpO2, -1.5}}},
	{"Coronary atherosclerosis and other heart disease", 0.32, []mimic3Effect{{mDBP, -2}}},
	{"Diabetes mellitus with complications", 0.09, []mimic3Effect{{mGlucose, 5}}},
	{"Diabetes mellitus without complication", 0.19, []mimic3Effect{{mGlucose, 2.5}}},
	{"Disorders of lipid metabolism", 0.29, []mimic3Effect{{mWeight, 2}}},
	{"Essential hypertension", 0.42, []mimic3Effect{{mSBP, 2.5}}},
	{"Fluid and electrolyte disorders", 0.27, []mimic3Effect{{mPH, -2}}},
	{"Gastrointestinal hemorrhage", 0.07, []mimic3Effect{{mDBP, -2}, {mHR, 1.5}}},
	{"Hypertension with complications and secondary hypertension", 0.13, []mimic3Effect{{mDBP, 2.5}}},
	{"Other liver diseases", 0.08, []mimic3Effect{{mGCSTotal, -3}, {mGlucose, -1.5}}},
	{"Other lower respiratory disease", 0.05, []mimic3Effect{{mRR, 3}}},
	{"Other upper respiratory disease", 0.04, []mimic3Effect{{mFiO2, 2}, {mRR, 2}}},
	{"Pleurisy; pneumothorax; pulmonary collapse", 0.09, []mimic3Effect{{mSpO2, -2.5}}},
	{"Pneumonia (except that caused by tuberculosis)", 0.14, []mimic3Effect{{mTemp, 2.5}, {mRR, 1.5}}},
	{"Respiratory failure; insufficiency; arrest (adult)", 0.18, []mimic3Effect{{mFiO2, 3}, {mPH, -1.5}}},
	{"Septicemia (except in labor)", 0.14, []mimic3Effect{{mTemp, 2}, {mMBP, -2}}},
	{"Shock", 0.08, []mimic3Effect{{mMBP, -3}, {mCapRefill, 4}}},
}

// The mimic3 story's constants (docs/data.md explains them).
const (
	mimic3Stream   = 0x7472_6e6e_6d69_6d63 // "trnnmimc": the rng stream of SynthMimic3
	mimic3Silent   = 0.15                  // probability that a positive label shows no sign at all
	mimic3EarlyMin = 3.0                   // the early window lasts from 3 ...
	mimic3EarlyMax = 7.0                   // ... to 7 hours
)

// Mimic3Labels are the label names of SynthMimic3's data with K labels:
// died (K = 1; an episodes folder's listfile calls it y_true, as
// mimic3-benchmarks' does), or the 25 phenotypes.
func Mimic3Labels(K int) []string {
	if K == 1 {
		return []string{mimic3Mortality.name}
	}
	names := make([]string, len(mimic3Phenotypes))
	for k, l := range mimic3Phenotypes {
		names[k] = l.name
	}
	return names
}

// Mimic3Table names the columns of SynthMimic3's data as an episodes
// folder or a long-form table holds them (id stay, time Hours, the 17
// variables, the labels) and gives each variable's categories (nil for a
// numeric one).
func Mimic3Table(K int) (Columns, [][]string) {
	cols := Columns{ID: "stay", Step: EpisodesTime, Labels: Mimic3Labels(K)}
	cats := make([][]string, len(Mimic3Variables))
	for f, v := range Mimic3Variables {
		cols.Features = append(cols.Features, v.Name)
		cats[f] = v.Categories
	}
	return cols, cats
}

// ValidateMimic3 checks the options SynthMimic3 uses: N, MinLen and MaxLen
// (hours), K (1 or 25), PosRate (0: each label's own prevalence) and the
// seed; the error names the first bad one as `trnn synth --mimic3` spells
// its flags.
func (o SynthOptions) ValidateMimic3() error {
	switch {
	case o.N < 1:
		return fmt.Errorf("--n: must be at least 1, got %d", o.N)
	case o.MinLen < 1:
		return fmt.Errorf("--min-len: must be at least 1 hour, got %d", o.MinLen)
	case o.MaxLen < o.MinLen:
		return fmt.Errorf("--max-len: must be at least --min-len (%d hours), got %d", o.MinLen, o.MaxLen)
	case o.K != 1 && o.K != len(mimic3Phenotypes):
		return fmt.Errorf("--labels: with --mimic3, 1 (in-hospital mortality) or %d (phenotypes), got %d", len(mimic3Phenotypes), o.K)
	case o.PosRate != 0 && !(o.PosRate > 0 && o.PosRate < 1):
		return fmt.Errorf("--pos-rate: must be in (0, 1), got %v", o.PosRate)
	case float64(o.N)*float64(mimic3MaxRows(o.MaxLen))*mimic3F > 1<<28:
		return fmt.Errorf("--n × --max-len: at most 2^28 values (%d variables, up to 5 chart rows an hour), got %d × %d", mimic3F, o.N, o.MaxLen)
	}
	return nil
}

// SynthMimic3 generates ICU stays charted as MIMIC-III charts them, with
// the 17 variables of mimic3-benchmarks and its labels: in-hospital
// mortality (K = 1) or the 25 phenotypes (K = 25). Each stay lasts a whole
// number of hours, uniform in [MinLen, MaxLen]; each row of X is one
// charting time (StepValues: hours from admission, to the minute), NaN for
// the variables not charted then, categories as their index. The story,
// per stay:
//
//  1. each label is 1 with its prevalence (PosRate instead, when set);
//  2. every variable has a patient's own level, and each charting adds
//     noise around it; the GCS items follow a total score, spelt as one of
//     MIMIC-III's two charting systems spells them;
//  3. during the first 3 to 7 hours, each positive label shifts some
//     variables (mortality: a lower GCS, an acidotic blood gas on more
//     oxygen, a slow capillary refill), except for 15% of them, which
//     show nothing; afterwards both classes look alike;
//  4. vitals are charted about hourly, the GCS every 2 to 6 hours,
//     glucose every 3 to 9, the temperature every 4 or so; a blood gas
//     (pH, FiO2) on admission and every 24 to 48 hours for some patients,
//     more often the sicker ones; weight and height once, if at all.
//
// So the evidence sits in the first hours, much of it in values charted
// once in a while: forward fill carries them on, zeros do not.
//
// SynthMimic3 panics if o is invalid (see ValidateMimic3).
func SynthMimic3(o SynthOptions) *Dataset {
	if err := o.ValidateMimic3(); err != nil {
		panic("data: SynthMimic3: " + err.Error())
	}
	labels := []mimic3Label{mimic3Mortality}
	if o.K > 1 {
		labels = mimic3Phenotypes
	}
	r := newRNG(o.Seed, mimic3Stream)
	d := &Dataset{F: mimic3F, K: o.K, X: make([][]float32, o.N), Y: make([]float32, o.N*o.K),
		IDs: make([]string, o.N), StepValues: make([][]string, o.N)}
	subject, episode := 10000+r.intn(30), 1
	for i := range o.N {
		d.IDs[i] = fmt.Sprintf("%d_episode%d", subject, episode)
		if r.float() < 0.1 { // the same patient's next stay
			episode++
		} else {
			subject, episode = subject+1+r.intn(20), 1
		}
		s := newMimic3Stay(r, o.MinLen+r.intn(o.MaxLen-o.MinLen+1))
		for k, l := range labels {
			rate := l.rate
			if o.PosRate != 0 {
				rate = o.PosRate
			}
			if r.float() < rate {
				d.Y[i*o.K+k] = 1
				if r.float() >= mimic3Silent {
					for _, e := range l.effects {
						s.shift[e.v] += e.shift
					}
				}
			}
		}
		d.X[i], d.StepValues[i] = s.chart(r)
	}
	return d
}

// mimic3MaxRows bounds the chart rows of a stay of the given hours: vitals
// at most twice an hour, the rest rarer, and weight and height once.
func mimic3MaxRows(hours int) int { return 5*hours + 4 }

// mimic3Stay is one stay being charted.
type mimic3Stay struct {
	hours   int
	early   float64          // the early window ends at this hour
	shift   [mimic3F]float64 // the labels' early effects
	level   [mimic3F]float64 // the patient's own level of each variable (GCS: the total)
	system  int              // 0 CareVue, 1 MetaVision
	intubed bool             // verbal response charted as intubated
	rows    map[int][]float32
}

func newMimic3Stay(r *rng, hours int) *mimic3Stay {
	s := &mimic3Stay{hours: hours, rows: map[int][]float32{}}
	s.early = mimic3EarlyMin + (mimic3EarlyMax-mimic3EarlyMin)*r.float()
	for f, v := range Mimic3Variables {
		s.level[f] = v.Normal + v.Between*r.normal()
	}
	s.level[mGCSTotal] = 15 - math.Abs(3.5*r.normal())
	s.system = r.intn(2)
	s.intubed = r.float() < 0.25
	return s
}

// chart writes the stay's chart rows: each charting routine's times, and
// at each the values it records. It returns the rows [rows·17] in time
// order and their times in hours.
func (s *mimic3Stay) chart(r *rng) ([]float32, []string) {
	h := float64(s.hours)
	for t := 0.5 * r.float(); t < h; t += 0.5 + r.float() {
		s.vitals(r, t)
	}
	for t := r.float(); t < h; t += 2 + 4*r.float() {
		s.neuro(r, t)
	}
	for t := r.float(); t < h; t += 3 + 6*r.float() {
		s.record(r, t, mGlucose)
	}
	sick := max(0, -s.shift[mPH]) + max(0, s.shift[mFiO2])
	if r.float() < min(0.25+0.1*sick, 0.95) {
		for t := 1.5 * r.float(); t < h; t += 24 + 24*r.float() {
			s.record(r, t, mPH)
			if r.float() < 0.9 {
				s.record(r, t, mFiO2)
			}
		}
	}
	if r.float() < 0.6 {
		s.record(r, min(h, 6)*r.float(), mWeight)
	}
	if r.float() < 0.25 {
		s.record(r, min(h, 12)*r.float(), mHeight)
	}
	minutes := make([]int, 0, len(s.rows))
	for m := range s.rows {
		minutes = append(minutes, m)
	}
	slices.Sort(minutes)
	x := make([]float32, 0, len(minutes)*mimic3F)
	times := make([]string, len(minutes))
	for j, m := range minutes {
		x = append(x, s.rows[m]...)
		times[j] = strconv.FormatFloat(float64(m)/60, 'g', -1, 64)
	}
	return x, times
}

// vitals charts the bedside monitor's values at time t (hours): heart
// rate nearly always, blood pressure, respiration and saturation mostly,
// the temperature every fourth time or so.
func (s *mimic3Stay) vitals(r *rng, t float64) {
	if r.float() < 0.97 {
		s.record(r, t, mHR)
	}
	if r.float() < 0.9 {
		s.record(r, t, mSBP)
		s.record(r, t, mDBP)
		s.record(r, t, mMBP)
	}
	for _, v := range []int{mRR, mSpO2} {
		if r.float() < 0.9 {
			s.record(r, t, v)
		}
	}
	if r.float() < 0.25 {
		s.record(r, t, mTemp)
	}
}

// neuro charts a neurological check at time t: the GCS items (and the
// total, in CareVue), sometimes the capillary refill.
func (s *mimic3Stay) neuro(r *rng, t float64) {
	total := s.level[mGCSTotal] + r.normal()
	if t < s.early {
		total += s.shift[mGCSTotal]
	}
	score := [3]int{4, 6, 5} // eye, motor, verbal at their best
	deficit := 15 - min(max(int(math.Round(total)), 3), 15)
	for range deficit {
		// Each point of deficit falls on an item that can still lose one,
		// in proportion to what it can lose.
		u := r.intn(score[0] + score[1] + score[2] - 3)
		for c := range score {
			if u < score[c]-1 {
				score[c]--
				break
			}
			u -= score[c] - 1
		}
	}
	spell := mimic3GCS[s.system]
	for c, v := range []int{mGCSEye, mGCSMotor, mGCSVerbal} {
		if r.float() < 0.95 {
			name := spell[c][score[c]-1]
			if v == mGCSVerbal && s.intubed {
				name = spell[c][5]
			}
			s.set(t, v, category(v, name))
		}
	}
	if s.system == 0 && r.float() < 0.95 {
		s.set(t, mGCSTotal, category(mGCSTotal, strconv.Itoa(score[0]+score[1]+score[2])))
	}
	if r.float() < 0.3 {
		p := 0.08
		if t < s.early {
			p += 0.1 * s.shift[mCapRefill]
		}
		abnormal := 0
		if r.float() < p {
			abnormal = 1
		}
		s.set(t, mCapRefill, float32(abnormal))
	}
}

// record charts numeric variable v at time t: the patient's level, noise,
// and during the early window the labels' shift, in units of the
// variable's typical spread; rounded as charted and kept in range.
func (s *mimic3Stay) record(r *rng, t float64, v int) {
	m := Mimic3Variables[v]
	x := s.level[v] + m.Within*r.normal()
	if t < s.early {
		x += s.shift[v] * (m.Within + m.Between/2)
	}
	scale := math.Pow(10, float64(m.Decimals))
	x = math.Round(min(max(x, m.Lo), m.Hi)*scale) / scale
	s.set(t, v, float32(x))
}

// set puts value x of variable v in the row of time t, charted to the
// minute.
func (s *mimic3Stay) set(t float64, v int, x float32) {
	m := int(t * 60)
	row := s.rows[m]
	if row == nil {
		row = make([]float32, mimic3F)
		for f := range row {
			row[f] = float32(math.NaN())
		}
		s.rows[m] = row
	}
	row[v] = x
}

// category is the index of name among variable v's categories.
func category(v int, name string) float32 {
	k := slices.Index(Mimic3Variables[v].Categories, name)
	if k < 0 {
		panic("data: " + Mimic3Variables[v].Name + " has no category " + strconv.Quote(name))
	}
	return float32(k)
}
