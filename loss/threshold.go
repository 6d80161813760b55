package loss

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Threshold rules: how `trnn eval --threshold` chooses the probability
// above which a label is predicted positive.
const (
	RuleFixed       = ""            // Value is the threshold itself
	RuleBestF1      = "best_f1"     // the threshold with the highest F1
	RuleYouden      = "youden"      // the threshold with the highest sensitivity + specificity − 1
	RuleSensitivity = "sensitivity" // the highest threshold whose sensitivity is at least Value
)

// ThresholdRule is a threshold, or a rule choosing one from the data.
type ThresholdRule struct {
	Rule  string  // RuleFixed, RuleBestF1, RuleYouden or RuleSensitivity
	Value float64 // the threshold (RuleFixed) or the sensitivity to reach (RuleSensitivity)
}

// ParseThreshold reads a threshold as the command line writes it: a number
// in (0, 1), best_f1, youden, or sensitivity=S with S in (0, 1].
func ParseThreshold(s string) (ThresholdRule, error) {
	const want = "a number in (0, 1), best_f1, youden or sensitivity=S"
	switch {
	case s == RuleBestF1 || s == RuleYouden:
		return ThresholdRule{Rule: s}, nil
	case strings.HasPrefix(s, RuleSensitivity+"="):
		v, err := strconv.ParseFloat(strings.TrimPrefix(s, RuleSensitivity+"="), 64)
		if err != nil || !(v > 0 && v <= 1) {
			return ThresholdRule{}, fmt.Errorf("expected sensitivity=S with S in (0, 1], found %q", s)
		}
		return ThresholdRule{Rule: RuleSensitivity, Value: v}, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return ThresholdRule{}, fmt.Errorf("expected %s, found %q", want, s)
	}
	if !(v > 0 && v < 1) {
		return ThresholdRule{}, fmt.Errorf("expected %s, found %g", want, v)
	}
	return ThresholdRule{Value: v}, nil
}

// String writes the rule as ParseThreshold reads it.
func (t ThresholdRule) String() string {
	switch t.Rule {
	case RuleFixed:
		return strconv.FormatFloat(t.Value, 'g', -1, 64)
	case RuleSensitivity:
		return RuleSensitivity + "=" + strconv.FormatFloat(t.Value, 'g', -1, 64)
	}
	return t.Rule
}

// ChooseThreshold returns the threshold t.Rule chooses on probs against
// labels y (flattened [n·K]: for several labels one threshold is chosen for
// every (sample, label) pair, micro-averaged). A label is predicted positive
// when its probability is > the threshold (Evaluate's rule), and the
// candidates are the cuts between the distinct probabilities, each meaning
// "every probability ≥ this one is positive":
//
//   - best_f1: the cut with the highest F1, 2·TP / (2·TP + FP + FN);
//   - youden: the cut with the highest Youden's J = TPR − FPR, i.e.
//     sensitivity + specificity − 1 (Youden, Cancer 3(1), 1950);
//   - sensitivity=S: the highest cut whose TPR is at least S, which is the
//     one with the best specificity among those reaching S.
//
// Ties go to the highest cut. The threshold returned lies halfway between
// the cut's probability and the next lower one (in float32), so that it
// separates them and is not tied to one score; below the lowest
// probability it is the float32 just below it (the smallest positive
// float32 for a probability of 0, which is then predicted negative). A rule
// that needs a class the data lacks is an error.
func ChooseThreshold(probs, y []float32, t ThresholdRule) (float64, error) {
	if len(probs) != len(y) {
		panic("loss: ChooseThreshold: probs and labels differ in length")
	}
	if t.Rule == RuleFixed {
		return t.Value, nil
	}
	var r ranked
	r.load(probs, y, 0, 1, len(probs))
	switch {
	case len(r.pos) == 0:
		return 0, fmt.Errorf("threshold %s: the data has no positive label", t)
	case t.Rule == RuleYouden && len(r.neg) == 0:
		return 0, fmt.Errorf("threshold %s: the data has no negative label", t)
	}
	cut, next := r.chooseCut(t)
	return thresholdBelow(cut, next), nil
}

// chooseCut walks the distinct scores from the highest down and returns
// the key of the cut the rule picks, and the key of the next lower score
// (ok false when the cut is the lowest score).
func (r *ranked) chooseCut(t ThresholdRule) (cut uint32, next nextKey) {
	P, N := float64(len(r.pos)), float64(len(r.neg))
	best := math.Inf(-1)
	var tp, fp int
	found := false
	r.walkDown(func(key uint32, dtp, dfp int) bool {
		if found {
			next = nextKey{key, true}
			return false
		}
		tp += dtp
		fp += dfp
		var score float64
		switch t.Rule {
		case RuleBestF1:
			score = 2 * float64(tp) / float64(2*tp+fp+len(r.pos)-tp)
		case RuleYouden:
			score = float64(tp)/P - float64(fp)/N
		case RuleSensitivity:
			if float64(tp)/P >= t.Value {
				cut, found = key, true
			}
			return true
		}
		if score > best {
			best, cut = score, key
		}
		return true
	})
	if t.Rule != RuleSensitivity {
		next = r.keyBelow(cut)
	}
	return cut, next
}

// nextKey is the key of a score, if there is one.
type nextKey struct {
	key uint32
	ok  bool
}

// keyBelow is the highest key of r below k.
func (r *ranked) keyBelow(k uint32) nextKey {
	var n nextKey
	for _, keys := range [][]uint32{r.pos, r.neg} {
		// keys ascend: the last one below k is the highest.
		for i := len(keys) - 1; i >= 0; i-- {
			if keys[i] < k {
				if !n.ok || keys[i] > n.key {
					n = nextKey{keys[i], true}
				}
				break
			}
		}
	}
	return n
}

// thresholdBelow is a float32 threshold t with next < t < cut, or t = next
// when no float32 lies strictly between them, so that p > t exactly when
// p ≥ cut for every probability p the data holds.
func thresholdBelow(cut uint32, next nextKey) float64 {
	c := keyFloat(cut)
	if !next.ok {
		if c <= math.SmallestNonzeroFloat32 {
			// A threshold of 0 would read as Evaluate's default.
			return math.SmallestNonzeroFloat32
		}
		return float64(math.Nextafter32(c, float32(math.Inf(-1))))
	}
	lo := keyFloat(next.key)
	t := float32((float64(c) + float64(lo)) / 2)
	if t >= c {
		t = lo
	}
	return float64(t)
}
