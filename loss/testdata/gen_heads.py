#!/usr/bin/python3
"""Writes heads_golden.json: the losses of the softmax and identity heads in
the target-replication form, and the per-step (deep supervision) losses of
every head, with their gradients, computed by PyTorch in float64 autograd
(torch.nn.functional.cross_entropy, mse_loss, binary_cross_entropy_with_logits).
Run from this folder with Debian's python3-torch:

    /usr/bin/python3 gen_heads.py

Each case holds padded logits [B, T, W] (float32 values; padded steps are 0,
the Go test overwrites them with NaN), lengths [B] (non-increasing), the
labels, optional sequence weights w [B] (class weights: the weight of the
row's class) and pos_weight [K], and the expected outputs: total = sum_b w_b
L_b, per_seq L_b, final (the unweighted loss at the final step, or for
per-step labels at the last labelled step; null when there is none) and
grad = d total / d logits [B, T, W].

Labels: "softmax_tr" y [B] class indices; "squared_tr" y [B, K]; "per_step"
y padded [B, T, K] (K = 1 for the softmax head, the class index), null where
a step has no label.
"""
import json

import numpy as np
import torch
import torch.nn.functional as F


def step_gains(average, T):
    if average == "all_steps":
        return [1.0 / T] * T
    if average == "exclude_final":
        if T == 1:
            return [1.0]
        return [1.0 / (T - 1)] * (T - 1) + [0.0]
    if average == "linear_gain":
        s = T * (T + 1) / 2.0
        return [(t + 1) / s for t in range(T)]
    raise ValueError(average)


def padded_logits(rng, lengths, W, scale):
    B, T = len(lengths), max(lengths)
    logits = (rng.standard_normal((B, T, W)) * scale).astype(np.float32)
    for b, l in enumerate(lengths):
        logits[b, l:, :] = 0
    return logits


def nulls(a):
    return [None if np.isnan(v) else float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def tr_case(name, rng, kind, lengths, W, alpha, average, w=None, scale=2.0):
    """Target replication: L_b = alpha sum_t g_t l_t + (1 - alpha) l_T."""
    B = len(lengths)
    logits = padded_logits(rng, lengths, W, scale)
    z = torch.tensor(logits.astype(np.float64), requires_grad=True)
    if kind == "softmax_tr":
        y = rng.integers(0, W, size=B).astype(np.float32)
        y[0] = W - 1  # the last class appears
    else:
        y = (rng.standard_normal((B, W)) * 3).astype(np.float32)
    yt = torch.tensor(y.astype(np.float64))
    total = torch.zeros((), dtype=torch.float64)
    per_seq, final = [], []
    for b, l in enumerate(lengths):
        zb = z[b, :l, :]
        if kind == "softmax_tr":
            steps = F.cross_entropy(zb, yt[b].long().expand(l), reduction="none")
        else:
            steps = F.mse_loss(zb, yt[b].expand(l, W), reduction="none").mean(dim=1)
        g = torch.tensor(step_gains(average, l), dtype=torch.float64)
        L = alpha * (g * steps).sum() + (1 - alpha) * steps[l - 1]
        total = total + (1.0 if w is None else w[b]) * L
        per_seq.append(L.item())
        final.append(steps[l - 1].item())
    total.backward()
    return {
        "name": name, "kind": kind, "head": "softmax" if kind == "softmax_tr" else "identity",
        "lengths": lengths, "W": W, "alpha": alpha, "average": average, "w": w, "pos_weight": None,
        "logits": logits.reshape(-1).astype(np.float64).tolist(), "y": nulls(y),
        "total": total.item(), "per_seq": per_seq, "final": final,
        "grad": z.grad.numpy().reshape(-1).tolist(),
    }


def step_labels(rng, head, lengths, W, p_label):
    """Padded per-step labels [B, T, K], NaN where unlabelled; row 1 has none."""
    B, T = len(lengths), max(lengths)
    K = 1 if head == "softmax" else W
    if head == "softmax":
        y = rng.integers(0, W, size=(B, T, K)).astype(np.float32)
    elif head == "sigmoid":
        y = (rng.random((B, T, K)) < 0.4).astype(np.float32)
    else:
        y = (rng.standard_normal((B, T, K)) * 2).astype(np.float32)
    y[rng.random((B, T, K)) >= p_label] = np.nan
    y[1] = np.nan
    y[0, 0, :] = np.where(np.isnan(y[0, 0, :]), 0, y[0, 0, :])  # the first step is labelled
    y[-1, 0, 0] = 1  # the last row (length 1) is labelled
    for b, l in enumerate(lengths):
        y[b, l:, :] = np.nan
    return y


def entries(head, zb, yb, pw):
    """Per-entry losses of the labelled entries of one row, in torch."""
    mask = ~torch.isnan(yb)
    filled = torch.where(mask, yb, torch.zeros_like(yb))
    if head == "softmax":
        m = mask[:, 0]
        return F.cross_entropy(zb[m], filled[m, 0].long(), reduction="none")
    if head == "sigmoid":
        return F.binary_cross_entropy_with_logits(zb, filled, pos_weight=pw, reduction="none")[mask]
    return F.mse_loss(zb, filled, reduction="none")[mask]


def per_step_case(name, rng, head, lengths, W, w=None, pos_weight=None, p_label=0.5, scale=2.0):
    B = len(lengths)
    logits = padded_logits(rng, lengths, W, scale)
    y = step_labels(rng, head, lengths, W, p_label)
    z = torch.tensor(logits.astype(np.float64), requires_grad=True)
    yt = torch.tensor(y.astype(np.float64))
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    total = torch.zeros((), dtype=torch.float64)
    per_seq, final = [], []
    for b, l in enumerate(lengths):
        zb, yb = z[b, :l, :], yt[b, :l, :]
        e = entries(head, zb, yb, pw)
        if e.numel() == 0:
            per_seq.append(0.0)
            final.append(None)
            continue
        L = e.mean()
        total = total + (1.0 if w is None else w[b]) * L
        per_seq.append(L.item())
        last = max(t for t in range(l) if not torch.isnan(yb[t]).all())
        final.append(entries(head, zb[last:last + 1], yb[last:last + 1], None).mean().item())
    total.backward()
    return {
        "name": name, "kind": "per_step", "head": head, "lengths": lengths, "W": W,
        "alpha": 0.0, "average": "all_steps", "w": w, "pos_weight": pos_weight,
        "logits": logits.reshape(-1).astype(np.float64).tolist(), "y": nulls(y),
        "total": total.item(), "per_seq": per_seq, "final": final,
        "grad": z.grad.numpy().reshape(-1).tolist(),
    }


def main():
    rng = np.random.default_rng(20260513)
    cases = [
        tr_case("softmax_half_all_steps_class_weight", rng, "softmax_tr", [5, 4, 4, 2, 1], 4, 0.5, "all_steps",
                w=[0.5, 2.0, 1.0, 3.0, 0.25]),
        tr_case("softmax_half_linear_gain", rng, "softmax_tr", [6, 3, 3, 1], 3, 0.5, "linear_gain"),
        tr_case("softmax_exclude_final", rng, "softmax_tr", [4, 2, 1], 5, 0.3, "exclude_final"),
        tr_case("softmax_alpha0", rng, "softmax_tr", [3, 3, 2], 3, 0.0, "all_steps", w=[1.5, 0.5, 2.0]),
        tr_case("softmax_large_logits", rng, "softmax_tr", [3, 2], 4, 0.5, "all_steps", scale=1e4),
        tr_case("squared_half_all_steps", rng, "squared_tr", [5, 3, 3, 1], 2, 0.5, "all_steps", w=[1.0, 0.5, 2.0, 1.0]),
        tr_case("squared_linear_gain", rng, "squared_tr", [4, 4, 2], 1, 0.7, "linear_gain"),
        tr_case("squared_alpha1_exclude_final", rng, "squared_tr", [4, 2, 1], 3, 1.0, "exclude_final"),
        per_step_case("per_step_bce_pos_weight", rng, "sigmoid", [6, 5, 4, 4, 2, 1], 2, w=[1.0, 2.0, 0.5, 1.0, 3.0, 1.5],
                      pos_weight=[2.5, 0.5]),
        per_step_case("per_step_bce_binary", rng, "sigmoid", [7, 6, 3, 1], 1, p_label=0.7),
        per_step_case("per_step_softmax", rng, "softmax", [5, 4, 3, 1], 4, w=[1.0, 1.0, 2.0, 0.5]),
        per_step_case("per_step_identity", rng, "identity", [5, 5, 2, 1], 2, p_label=0.6),
    ]
    with open("heads_golden.json", "w") as f:
        json.dump({"source": "PyTorch %s, cross_entropy, mse_loss and binary_cross_entropy_with_logits in float64"
                   % torch.__version__, "cases": cases}, f, indent=1, allow_nan=False)


if __name__ == "__main__":
    main()
