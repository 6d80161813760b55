#!/usr/bin/python3
"""Writes metrics_golden.json: final-step metrics computed by scikit-learn
(roc_auc_score, average_precision_score, f1_score, accuracy_score,
brier_score_loss, log_loss) for fixed score vectors. Run from this folder
with Debian's python3-sklearn:

    /usr/bin/python3 gen_metrics.py

Conventions mirrored here (see docs/objective.md):
- probabilities are float32 values; a sample is predicted positive when p > 0.5;
- "loss" is the mean over samples of the BCE averaged over labels; from
  probabilities clipped to [1e-7, 1 - 1e-7] by this script before
  log_loss, and from logits with numpy's logaddexp ("loss_logits");
- a label whose evaluated set holds one class only has no AUROC/AUPRC, and
  macro averages run over the defined labels only (computed here from
  scikit-learn's per-label scores);
- precision_at_k is not in scikit-learn: it is computed here with numpy
  (ties across the k-th place share the remaining places), a second
  implementation of the definition, not scikit-learn's.
"""
import json

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, average_precision_score, brier_score_loss, f1_score, log_loss,
                             roc_auc_score)

CLIP = 1e-7


def sigmoid32(z):
    return (1 / (1 + np.exp(-z.astype(np.float64)))).astype(np.float32)


def bce_logits(z, y):
    z = z.astype(np.float64)
    return np.logaddexp(0, z) - y * z


def precision_at_k(p, y, k):
    total = 0.0
    for i in range(p.shape[0]):
        s = p[i].astype(np.float64)
        kth = np.sort(s)[::-1][k - 1]
        above = s > kth
        tied = s == kth
        hits = y[i][above].sum() + y[i][tied].sum() * (k - above.sum()) / tied.sum()
        total += hits / k
    return total / p.shape[0]


def evaluate(name, logits, y, topk=10):
    logits = np.asarray(logits, dtype=np.float32)
    y = np.asarray(y, dtype=np.float64)
    if logits.ndim == 1:
        logits, y = logits[:, None], y[:, None]
    p32 = sigmoid32(logits)
    p = p32.astype(np.float64)
    n, K = p.shape
    pred = (p > 0.5).astype(np.float64)
    labels = []
    for k in range(K):
        yk, pk = y[:, k], p[:, k]
        both = 0 < yk.sum() < n
        tp = int(((pred[:, k] == 1) & (yk == 1)).sum())
        fp = int(((pred[:, k] == 1) & (yk == 0)).sum())
        fn = int(((pred[:, k] == 0) & (yk == 1)).sum())
        labels.append({
            "positives": int(yk.sum()),
            "auroc": float(roc_auc_score(yk, pk)) if both else None,
            "auprc": float(average_precision_score(yk, pk)) if both else None,
            "f1": float(f1_score(yk, pred[:, k])) if 2 * tp + fp + fn > 0 else None,
            "accuracy": float(accuracy_score(yk, pred[:, k])),
            "brier": float(brier_score_loss(yk, pk)),
            "tp": tp, "fp": fp, "fn": fn,
        })

    def macro(key):
        vals = [l[key] for l in labels if l[key] is not None]
        return (float(np.mean(vals)) if vals else None), K - len(vals)

    yr, pr = y.ravel(), p.ravel()
    micro_both = 0 < yr.sum() < yr.size
    out = {
        "name": name, "n": n, "K": K, "topk": topk,
        "logits": logits.ravel().astype(np.float64).tolist(),
        "probs": p32.ravel().astype(np.float64).tolist(),
        "y": yr.tolist(),
        "labels": labels,
        "loss": float(np.mean([log_loss(y[:, k], np.clip(p[:, k], CLIP, 1 - CLIP), labels=[0, 1])
                               for k in range(K)])),
        "loss_logits": float(bce_logits(logits, y).mean()),
        "micro_auroc": float(roc_auc_score(yr, pr)) if micro_both else None,
        "micro_auprc": float(average_precision_score(yr, pr)) if micro_both else None,
        "micro_f1": float(f1_score(yr, pred.ravel())),
        "accuracy": float(accuracy_score(yr, pred.ravel())),
        "brier": float(brier_score_loss(yr, pr)),
        "precision_at_k": float(precision_at_k(p, y, min(topk, K))),
    }
    for key in ("auroc", "auprc", "f1"):
        out["macro_" + key], out["skipped_" + key] = macro(key)
    return out


def main():
    rng = np.random.default_rng(2016)
    cases = []
    # Binary, 12 samples, ties (logits repeated) across the classes.
    z = np.array([2.0, -1.0, 0.5, 0.5, -0.5, 3.0, -2.0, 0.5, 1.0, -1.0, 0.0, -3.0])
    yb = np.array([1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0])
    cases.append(evaluate("binary_ties", z, yb))
    # Binary, 1000 samples, heavy ties (logits on a grid of 1/8): the radix path.
    yb = (rng.random(1000) < 0.3).astype(np.float64)
    z = np.round((rng.standard_normal(1000) + 1.2 * yb) * 8) / 8
    cases.append(evaluate("binary_1000_ties", z, yb))
    # Multi-label, 40 samples, 12 labels; label 3 all negative, label 7 all
    # positive, label 9 all negative and never predicted (F1 undefined).
    y = (rng.random((40, 12)) < 0.3).astype(np.float64)
    y[:, 3] = 0
    y[:, 7] = 1
    y[:, 9] = 0
    z = np.round((rng.standard_normal((40, 12)) + 1.5 * y - 0.5) * 4) / 4
    z[:, 9] = -np.abs(z[:, 9]) - 0.25
    cases.append(evaluate("multilabel_40x12", z, y))
    # Multi-label, 600 samples, 5 labels: micro sorts go through the radix path.
    y = (rng.random((600, 5)) < np.array([0.05, 0.2, 0.5, 0.3, 0.1])).astype(np.float64)
    z = rng.standard_normal((600, 5)) * 2 + 2 * y - 1
    cases.append(evaluate("multilabel_600x5", z, y, topk=3))
    with open("metrics_golden.json", "w") as f:
        json.dump({"source": "scikit-learn %s" % sklearn.__version__, "cases": cases}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
