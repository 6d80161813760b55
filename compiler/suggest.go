package compiler

import (
	"slices"
	"strings"
)

// editDistance is the Levenshtein distance between a and b extended with
// transpositions of adjacent bytes (the optimal string alignment distance):
// insertions, deletions, substitutions and swaps each cost 1, so that the
// common typo lsmt is one edit from lstm.
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j]; three rows suffice.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// suggest returns the known name nearest to got, or "" when none is close
// enough to be a plausible typo: at most 1 edit for names of up to 5
// letters, otherwise at most a third of the name's length. Case is ignored,
// and names shorter than 3 letters are never suggested.
func suggest(got string, known []string) string {
	g := strings.ToLower(got)
	best, bestD := "", 1<<30
	for _, k := range known {
		d := editDistance(g, strings.ToLower(k))
		if d < bestD {
			best, bestD = k, d
		}
	}
	if len(best) < 3 {
		// Too short for an edit to tell a typo from another name.
		return ""
	}
	limit := max(1, len(best)/3)
	if bestD <= limit {
		return best
	}
	return ""
}

// Suggest is the known name nearest to got, or "" when none is close
// enough to be a plausible typo (see suggest): for the command line's flags
// as for the spec's fields.
func Suggest(got string, known []string) string { return suggest(got, known) }

// valueAliases are names other tools give to the spec's enumerated values:
// Keras' and scikit-learn's metric names, mostly. A value is suggested only
// when it is one of the field's own.
var valueAliases = map[string]string{
	"roc_auc": "auroc", "auc": "auroc", "auc_roc": "auroc", "rocauc": "auroc",
	"pr_auc": "auprc", "auc_pr": "auprc", "average_precision": "auprc", "ap": "auprc",
	"acc": "accuracy", "f1_score": "f1", "log_loss": "loss", "bce": "loss", "logloss": "loss",
	"brier_score": "brier", "brier_score_loss": "brier",
	"zscore": "standard", "z_score": "standard", "standardize": "standard",
	"adam_w": "adamw",
}

// valuePrefixes are what other tools put before a metric's name (Keras'
// val_auc): the spec's monitor names the metric alone.
var valuePrefixes = []string{"val_", "valid_", "validation_", "val-", "val.", "val"}

// suggestValue is suggest for an enumerated value: beyond typos, it
// recognises a known value behind a prefix such as val_ and the names other
// tools give to the same thing (roc_auc for auroc).
func suggestValue(got string, known []string) string {
	if s := suggest(got, known); s != "" {
		return s
	}
	g := strings.ToLower(got)
	for _, p := range valuePrefixes {
		if rest, ok := strings.CutPrefix(g, p); ok && rest != "" {
			if s := suggestValue(rest, known); s != "" {
				return s
			}
		}
	}
	if a, ok := valueAliases[g]; ok && slices.Contains(known, a) {
		return a
	}
	return ""
}

// oneOf formats a list of names as "a, b or c".
func oneOf(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
