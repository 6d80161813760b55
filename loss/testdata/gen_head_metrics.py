#!/usr/bin/python3
"""Writes head_metrics_golden.json: the metrics of softmax and identity heads
computed by scikit-learn (accuracy_score, roc_auc_score, cohen_kappa_score
with linear weights, confusion_matrix; mean_squared_error,
mean_absolute_error, r2_score) for fixed random cases. Run from this folder
with Debian's python3-sklearn:

    /usr/bin/python3 gen_head_metrics.py

Conventions mirrored here (see docs/objective.md):
- probabilities and values are float32; the predicted class is numpy's
  argmax (the first on ties);
- "loss" is the mean of -log p[i, y_i] with p clipped to [1e-7, 1 - 1e-7],
  computed with numpy (scikit-learn's log_loss also renormalises rows);
- the macro AUROC averages roc_auc_score of each class against the rest over
  the classes present in y with another one; when every class is present it
  is also checked against roc_auc_score(multi_class="ovr", average="macro");
- kappa is cohen_kappa_score(y, pred, weights="linear") with its default
  labels (the classes present in y or pred), as mimic3-benchmarks calls it.
"""
import json

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, cohen_kappa_score, confusion_matrix, mean_absolute_error,
                             mean_squared_error, r2_score, roc_auc_score)

CLIP = 1e-7


def softmax32(z):
    z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def classes_case(name, probs, y):
    p32 = np.asarray(probs, dtype=np.float32)
    p = p32.astype(np.float64)
    y = np.asarray(y, dtype=np.int64)
    n, C = p.shape
    pred = p.argmax(axis=1)
    aurocs = []
    for c in range(C):
        yc = (y == c).astype(np.int64)
        aurocs.append(float(roc_auc_score(yc, p[:, c])) if 0 < yc.sum() < n else None)
    present = [a for a in aurocs if a is not None]
    macro = float(np.mean(present)) if present else None
    if len(set(y.tolist())) == C:
        ovr = roc_auc_score(y, p, multi_class="ovr", average="macro")
        assert abs(ovr - macro) <= 1e-12 * abs(macro), (ovr, macro)
    kappa = cohen_kappa_score(y, pred, weights="linear") if len(set(y.tolist()) | set(pred.tolist())) > 1 else None
    return {
        "name": name, "n": n, "C": C,
        "probs": p32.ravel().astype(np.float64).tolist(), "y": y.astype(np.float64).tolist(),
        "loss": float(-np.log(np.clip(p[np.arange(n), y], CLIP, 1 - CLIP)).mean()),
        "accuracy": float(accuracy_score(y, pred)),
        "class_auroc": aurocs, "macro_auroc": macro,
        "kappa": None if kappa is None else float(kappa),
        "confusion": confusion_matrix(y, pred, labels=list(range(C))).tolist(),
    }


def regression_case(name, values, y):
    v = np.asarray(values, dtype=np.float32)
    t = np.asarray(y, dtype=np.float32)
    if v.ndim == 1:
        v, t = v[:, None], t[:, None]
    v64, t64 = v.astype(np.float64), t.astype(np.float64)
    n, K = v.shape
    return {
        "name": name, "n": n, "K": K,
        "values": v64.ravel().tolist(), "y": t64.ravel().tolist(),
        "mse": float(mean_squared_error(t64, v64)), "mae": float(mean_absolute_error(t64, v64)),
        "r2": float(r2_score(t64, v64)),
        "target_mse": mean_squared_error(t64, v64, multioutput="raw_values").tolist(),
        "target_mae": mean_absolute_error(t64, v64, multioutput="raw_values").tolist(),
        "target_r2": r2_score(t64, v64, multioutput="raw_values").tolist(),
    }


def main():
    rng = np.random.default_rng(2026)
    classes = []
    # Three classes, every one present, with a tied row (argmax takes the first).
    y = rng.integers(0, 3, size=30)
    y[:3] = [0, 1, 2]
    z = rng.standard_normal((30, 3)) + 1.5 * np.eye(3)[y]
    z[5] = [0.25, 0.25, -1.0]
    classes.append(classes_case("three_classes_tie", softmax32(z), y))
    # Ten ordered buckets (length of stay), 400 samples; bucket 7 never occurs
    # nor is predicted, so kappa's weights skip it.
    y = rng.integers(0, 10, size=400)
    y[y == 7] = 8
    z = rng.standard_normal((400, 10)) * 1.5 + 2.0 * np.eye(10)[y]
    z[:, 7] = -30
    classes.append(classes_case("ten_buckets_one_absent", softmax32(z), y))
    # Probabilities of exactly 0 and 1 (clipped in the loss), and class 2 of
    # 4 present alone with class 0: class 1 and 3 AUROCs are undefined.
    p = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0.5, 0.5, 0, 0], [0, 0, 0, 1], [0.25, 0.25, 0.25, 0.25]], dtype=np.float32)
    classes.append(classes_case("extremes_two_present", p, [0, 2, 2, 0, 2]))
    # Every sample in one class: no AUROC, no kappa.
    classes.append(classes_case("one_class", softmax32(rng.standard_normal((6, 3))), [1] * 6))

    regression = []
    t = (rng.standard_normal((50, 3)) * np.array([1.0, 10.0, 0.1]) + np.array([0.0, 40.0, -2.0]))
    t[:, 2] = 1.5  # a constant target: r2 is 0 unless it is predicted exactly
    v = t + rng.standard_normal((50, 3)) * np.array([0.5, 4.0, 0.05])
    regression.append(regression_case("three_targets_one_constant", v, t))
    t = rng.standard_normal(20) * 24 + 48
    regression.append(regression_case("remaining_hours", rng.standard_normal(20) * 20 + 48, t))
    t = np.full((4, 2), 3.0)
    t[:, 0] = [1, 2, 3, 4]
    v = t.copy()
    v[0, 0] = 1.5
    regression.append(regression_case("constant_predicted_exactly", v, t))
    with open("head_metrics_golden.json", "w") as f:
        json.dump({"source": "scikit-learn %s" % sklearn.__version__, "classes": classes, "regression": regression},
                  f, separators=(",", ":"), allow_nan=False)


if __name__ == "__main__":
    main()
