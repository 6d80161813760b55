package loss

import (
	"math"
	"slices"
)

// Ranking metrics (AUROC, average precision, the ROC and PR curves) need
// the scores of the positives and of the negatives in order. Scores are
// float32; each is mapped to a uint32 key whose unsigned order is the
// numeric order (ordKey), so sorting is an integer radix sort and ties are
// exact key equality.

// ordKey maps a float32 to a uint32 with the same order: negative numbers
// have all bits flipped, others only the sign bit. −0 and +0 share a key.
// NaN is not ordered; callers reject it first.
func ordKey(f float32) uint32 {
	if f == 0 {
		f = 0 // −0 → +0
	}
	b := math.Float32bits(f)
	if b>>31 != 0 {
		return ^b
	}
	return b | 1<<31
}

// keyFloat is the score whose ordKey is k (+0 for the key of ±0).
func keyFloat(k uint32) float32 {
	if k>>31 != 0 {
		return math.Float32frombits(k &^ (1 << 31))
	}
	return math.Float32frombits(^k)
}

// radixMin is the size below which sortKeys uses a comparison sort.
const radixMin = 256

// sortKeys sorts a ascending, using buf (len ≥ len(a)) as scratch. It is a
// least-significant-digit radix sort over the four bytes, skipping the
// passes in which every key has the same byte. sortKeysNaive (rank_test.go)
// is its oracle.
func sortKeys(a, buf []uint32) {
	if len(a) < radixMin {
		slices.Sort(a)
		return
	}
	buf = buf[:len(a)]
	src, dst := a, buf
	for shift := uint(0); shift < 32; shift += 8 {
		var count [256]int
		for _, k := range src {
			count[(k>>shift)&0xff]++
		}
		if count[(src[0]>>shift)&0xff] == len(src) {
			continue // every key has this byte: the pass would not move anything
		}
		pos := 0
		for d := range count {
			c := count[d]
			count[d] = pos
			pos += c
		}
		for _, k := range src {
			d := (k >> shift) & 0xff
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// ranked holds the sorted keys of a set of scored examples, split by class.
type ranked struct {
	pos, neg []uint32 // ascending keys of the positives and of the negatives
	buf      []uint32 // radix scratch
}

// load fills r with the examples scores[off + i·stride], labels likewise,
// for i < count; a label ≥ 0.5 is positive. Its slices grow as needed and
// are reused by the next load.
func (r *ranked) load(scores, labels []float32, off, stride, count int) {
	P := 0
	for i, j := 0, off; i < count; i, j = i+1, j+stride {
		if labels[j] >= 0.5 {
			P++
		}
	}
	r.pos, r.neg = grow(r.pos, P), grow(r.neg, count-P)
	r.buf = grow(r.buf, max(P, count-P))
	ip, in := 0, 0
	for i, j := 0, off; i < count; i, j = i+1, j+stride {
		k := ordKey(scores[j])
		if labels[j] >= 0.5 {
			r.pos[ip] = k
			ip++
		} else {
			r.neg[in] = k
			in++
		}
	}
	sortKeys(r.pos, r.buf)
	sortKeys(r.neg, r.buf)
}

// grow returns s resliced to length n, reallocated when its capacity is
// short. The contents are not preserved nor zeroed.
func grow(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	return s[:n]
}

// defined reports whether both classes are present.
func (r *ranked) defined() bool { return len(r.pos) > 0 && len(r.neg) > 0 }

// auroc is the area under the ROC curve: the Mann–Whitney statistic
// U = Σ_{positives} (#negatives scored lower + ½·#negatives scored equal)
// over P·N. It is computed as the integer 2U and one division, so it is the
// correctly rounded exact value. Both classes must be present.
func (r *ranked) auroc() float64 {
	pos, neg := r.pos, r.neg
	var twoU int64
	j := 0 // negatives below pos[i]
	for i := 0; i < len(pos); {
		s := pos[i]
		i2 := i + 1
		for i2 < len(pos) && pos[i2] == s {
			i2++
		}
		for j < len(neg) && neg[j] < s {
			j++
		}
		j2 := j
		for j2 < len(neg) && neg[j2] == s {
			j2++
		}
		twoU += int64(i2-i) * int64(2*j+(j2-j))
		i = i2
	}
	return float64(twoU) / (2 * float64(len(pos)) * float64(len(neg)))
}

// averagePrecision is scikit-learn's average_precision_score: the step-wise
// area AP = Σ_n (R_n − R_{n−1})·P_n over the distinct scores taken as
// thresholds from the highest down, where P_n and R_n are the precision and
// recall of predicting positive every example scored ≥ the n-th threshold.
// Only thresholds holding positives move the recall. At least one positive
// must be present.
func (r *ranked) averagePrecision() float64 {
	P := float64(len(r.pos))
	var ap float64
	var tp, fp int
	r.walkDown(func(_ uint32, dtp, dfp int) bool {
		tp += dtp
		fp += dfp
		if dtp > 0 {
			ap += float64(dtp) / P * (float64(tp) / float64(tp+fp))
		}
		return true
	})
	return ap
}

// walkDown visits the distinct scores from the highest down, calling f with
// each score's key and the number of positives and of negatives holding it;
// it stops when f returns false.
func (r *ranked) walkDown(f func(key uint32, dtp, dfp int) bool) {
	pos, neg := r.pos, r.neg
	i, j := len(pos)-1, len(neg)-1
	for i >= 0 || j >= 0 {
		var s uint32
		switch {
		case i < 0:
			s = neg[j]
		case j < 0:
			s = pos[i]
		default:
			s = max(pos[i], neg[j])
		}
		i0, j0 := i, j
		for i >= 0 && pos[i] == s {
			i--
		}
		for j >= 0 && neg[j] == s {
			j--
		}
		if !f(s, i0-i, j0-j) {
			return
		}
	}
}

// ROC returns the ROC curve of scores against labels (a label ≥ 0.5 is
// positive): one point (false positive rate, true positive rate) for
// predicting positive every score ≥ each distinct score, from the highest
// down, preceded by (0, 0). It ends at (1, 1). This is scikit-learn's
// roc_curve with drop_intermediate=False. Both results are nil when a class
// is absent (the curve is undefined). Scores must not be NaN. For several
// labels, pass the flattened [n·K] arrays for the micro-averaged curve.
func ROC(scores, labels []float32) (fpr, tpr []float64) {
	if len(scores) != len(labels) {
		panic("loss: ROC: scores and labels differ in length")
	}
	var r ranked
	r.load(scores, labels, 0, 1, len(scores))
	if !r.defined() {
		return nil, nil
	}
	P, N := float64(len(r.pos)), float64(len(r.neg))
	fpr, tpr = []float64{0}, []float64{0}
	var tp, fp int
	r.walkDown(func(_ uint32, dtp, dfp int) bool {
		tp += dtp
		fp += dfp
		fpr = append(fpr, float64(fp)/N)
		tpr = append(tpr, float64(tp)/P)
		return true
	})
	return fpr, tpr
}

// PR returns the precision–recall curve of scores against labels (a label
// ≥ 0.5 is positive): the point (recall 0, precision 1), then one point for
// predicting positive every score ≥ each distinct score from the highest
// down, stopping at the first that reaches recall 1, as scikit-learn's
// precision_recall_curve (read in reverse). Average precision is
// Σ (recall[i] − recall[i−1])·precision[i]. Both results are nil when there
// is no positive. Scores must not be NaN.
func PR(scores, labels []float32) (recall, precision []float64) {
	if len(scores) != len(labels) {
		panic("loss: PR: scores and labels differ in length")
	}
	var r ranked
	r.load(scores, labels, 0, 1, len(scores))
	if len(r.pos) == 0 {
		return nil, nil
	}
	P := len(r.pos)
	recall, precision = []float64{0}, []float64{1}
	var tp, fp int
	r.walkDown(func(_ uint32, dtp, dfp int) bool {
		tp += dtp
		fp += dfp
		recall = append(recall, float64(tp)/float64(P))
		precision = append(precision, float64(tp)/float64(tp+fp))
		return tp < P
	})
	return recall, precision
}
