#!/usr/bin/python3
"""Writes calibration_golden.json: expected calibration error, reliability
bins, chosen thresholds and bootstrap percentiles computed by scikit-learn
and NumPy for fixed score vectors. Run from this folder with Debian's
python3-sklearn:

    /usr/bin/python3 gen_calibration.py

Conventions mirrored here (see docs/objective.md):
- probabilities are float32 values; a label is predicted positive when
  p > threshold; every (sample, label) pair is one prediction;
- reliability bins and ECE: calibration_curve(strategy="uniform",
  n_bins=10), whose bins are (k/10, (k+1)/10] (the first includes 0);
  ECE = sum over bins of count/n * |fraction of positives - mean probability|;
- best_f1: the highest F1 over precision_recall_curve's thresholds (each
  meaning "p >= threshold is positive");
- youden: the highest tpr - fpr over roc_curve(drop_intermediate=False);
- sensitivity=S: the first roc_curve point (highest threshold) with tpr >= S;
- percentiles: numpy.percentile with its default linear method.
"""
import json

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import f1_score, precision_recall_curve, roc_curve


def reliability(y, p):
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    bins = np.linspace(0.0, 1.0, 11)
    counts = np.bincount(np.searchsorted(bins[1:-1], p), minlength=10)
    nonzero = counts[counts != 0]
    ece = float(np.sum(nonzero / len(p) * np.abs(prob_true - prob_pred)))
    return {"counts": counts.tolist(), "frac_pos": prob_true.tolist(), "mean_prob": prob_pred.tolist(), "ece": ece}


def thresholds(y, p):
    out = {}
    prec, rec, thr = precision_recall_curve(y, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0)[:-1]
    i = int(np.argmax(f1))
    # The F1 of predicting p >= thr[i] positive, recomputed by f1_score.
    out["best_f1"] = {"f1": float(f1_score(y, p >= thr[i])), "cut": float(thr[i])}
    fpr, tpr, rthr = roc_curve(y, p, drop_intermediate=False)
    j = int(np.argmax(tpr - fpr))
    out["youden"] = {"j": float(tpr[j] - fpr[j]), "tpr": float(tpr[j]), "fpr": float(fpr[j]), "cut": float(rthr[j])}
    for s in (0.5, 0.9, 1.0):
        k = int(np.argmax(tpr >= s))
        out["sensitivity=%g" % s] = {"tpr": float(tpr[k]), "fpr": float(fpr[k]), "cut": float(rthr[k])}
    return out


def case(name, p, y):
    p = np.asarray(p, dtype=np.float32).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    p64 = p.astype(np.float64)
    return {"name": name, "probs": p64.tolist(), "y": y.tolist(),
            "reliability": reliability(y, p64), "thresholds": thresholds(y, p64)}


def main():
    rng = np.random.default_rng(11)
    cases = []
    # Probabilities on the bin edges as float32 holds them (float32(0.3) is
    # above 0.30000000000000004, float32(0.1) above 0.1), 0 and 1, and ties
    # across the classes.
    p = [0.0, 0.1, 0.1, 0.2, 0.3, 0.3, 0.5, 0.55, 0.7, 0.9, 1.0, 1.0, 0.45, 0.45]
    y = [0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1]
    cases.append(case("edges_and_ties", p, y))
    # 500 scores of an overconfident model, rounded to 1/64 for ties.
    yb = (rng.random(500) < 0.3).astype(np.float64)
    z = 2.5 * (rng.standard_normal(500) + 1.4 * yb - 0.7)
    cases.append(case("overconfident_500", np.round(64 / (1 + np.exp(-z))) / 64, yb))
    # Multi-label data, pooled: 60 samples of 4 labels.
    y = (rng.random((60, 4)) < np.array([0.1, 0.3, 0.5, 0.7])).astype(np.float64)
    cases.append(case("multilabel_60x4", 1 / (1 + np.exp(-(rng.standard_normal((60, 4)) + 1.5 * y - 0.8))), y))

    pct = []
    for vals in ([3.0], [1.0, 2.0], rng.standard_normal(7).tolist(), rng.random(1000).tolist(),
                 [0.1, 0.1, 0.2, 0.7, 0.7000000000000001, 0.9]):
        v = np.sort(np.asarray(vals, dtype=np.float64))
        qs = [0, 2.5, 33.3, 50, 97.5, 100]
        pct.append({"values": v.tolist(), "q": qs, "want": [float(np.percentile(v, q)) for q in qs]})
    with open("calibration_golden.json", "w") as f:
        json.dump({"source": "scikit-learn %s, numpy %s" % (sklearn.__version__, np.__version__),
                   "cases": cases, "percentiles": pct}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
