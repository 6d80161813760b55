"""Write the scikit-learn golden values that `trnn eval --json` is checked against.

Usage (from the repository root, with Debian's python3-sklearn):
    /usr/bin/python3 testdata/python/eval_golden.py

For each case it writes testdata/golden/eval/CASE.npz, a data set whose x
holds the probabilities themselves (one step per sequence: x [N, 1, K]), and
CASE.json, the metrics scikit-learn computes from those probabilities and
the labels y. The Go test scores the NPZ with a model whose output is its
input, so eval's metrics must equal these. Cases:
  one    one label, probabilities rounded to two decimals (many ties);
  multi  12 labels (so precision@10 means something), no ties.
Each case is scored at the thresholds 0.5 (eval's default) and 0.3.
"""
import json
import os

import numpy as np
from sklearn import metrics

OUT = os.path.join(os.path.dirname(__file__), "..", "golden", "eval")
CLIP = 1e-7  # eval's log loss clips probabilities to [1e-7, 1 - 1e-7]


def make(rng, n, k, decimals):
    y = (rng.random((n, k)) < rng.uniform(0.2, 0.5, k)).astype(np.float32)
    # Informative but imperfect scores: the label shifts a logistic's mean.
    z = rng.normal(0, 1, (n, k)) + 1.2 * y
    p = 1 / (1 + np.exp(-z))
    if decimals is not None:
        p = np.round(p, decimals)
    return p.astype(np.float32), y


def precision_at_k(p, y, k):
    k = min(k, p.shape[1])
    top = np.argsort(-p, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.take_along_axis(y, top, axis=1).sum(axis=1) / k))


def scores(p, y, threshold):
    """The metrics eval reports, by scikit-learn, in eval's JSON names."""
    p64, y64 = p.astype(np.float64), y.astype(np.float64)
    pred = (p > np.float32(threshold)).astype(np.float64)
    n, k = y.shape
    per = []
    for j in range(k):
        per.append({
            "positives": int(y64[:, j].sum()),
            "auroc": metrics.roc_auc_score(y64[:, j], p64[:, j]),
            "auprc": metrics.average_precision_score(y64[:, j], p64[:, j]),
            "f1": metrics.f1_score(y64[:, j], pred[:, j]),
            "accuracy": metrics.accuracy_score(y64[:, j], pred[:, j]),
            "brier": metrics.brier_score_loss(y64[:, j], p64[:, j]),
        })
    clipped = np.clip(p64, CLIP, 1 - CLIP)
    # The mean over sequences of the mean over labels of the binary
    # cross-entropy: with every label scored on every sequence, the mean of
    # per-label log losses.
    loss = float(np.mean([metrics.log_loss(y64[:, j], clipped[:, j], labels=[0, 1]) for j in range(k)]))
    if k == 1:
        # 1-D columns: scikit-learn reads an [n, 1] label array as two
        # classes to average over, not as one binary label.
        p64, y64, pred = p64[:, 0], y64[:, 0], pred[:, 0]
    m = {
        "loss": loss,
        "auroc": metrics.roc_auc_score(y64, p64, average="macro"),
        "auprc": metrics.average_precision_score(y64, p64, average="macro"),
        "accuracy": float(np.mean([q["accuracy"] for q in per])),
        "f1": metrics.f1_score(y64, pred, average="macro" if k > 1 else "binary"),
        "brier": float(np.mean([q["brier"] for q in per])),
    }
    if k > 1:
        m.update({
            "micro_auroc": metrics.roc_auc_score(y64, p64, average="micro"),
            "macro_auroc": m["auroc"],
            "micro_auprc": metrics.average_precision_score(y64, p64, average="micro"),
            "macro_auprc": m["auprc"],
            "micro_f1": metrics.f1_score(y64, pred, average="micro"),
            "macro_f1": m["f1"],
        })
    if k > 10:
        m["precision_at_10"] = precision_at_k(p64, y64, 10)
    return {"threshold": threshold, "metrics": m, "per_label": per if k > 1 else []}


def write(name, p, y):
    n, k = y.shape
    np.savez(os.path.join(OUT, name + ".npz"), x=p.reshape(n, 1, k), lengths=np.ones(n, np.int32), y=y if k > 1 else y[:, 0])
    doc = {"sequences": n, "labels": k, "runs": [scores(p, y, t) for t in (0.5, 0.3)]}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    rng = np.random.default_rng(20160501)
    write("one", *make(rng, 300, 1, 2))
    write("multi", *make(rng, 200, 12, None))


if __name__ == "__main__":
    main()
